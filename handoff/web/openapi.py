"""The gateway's public HTTP API as an OpenAPI 3.1 document (served at /api/openapi.json).

What a client may send (request bodies, query parameters, websocket frames) is not
written here: it comes from the models the handlers validate with (request_models.py),
as JSON Schema under components/schemas. This module wires paths to them and describes
the responses (hand-written).
"""

from __future__ import annotations

from typing import Any, get_args

from handoff.web import request_models
from handoff.web.request_models import RequestModel

_ERROR = {"$ref": "#/components/schemas/Error"}
# A day in a report's answer (the query's days: request_models.Day).
_DAY = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
    "examples": ["2026-12-01"],
}
_READINESS = {
    "type": "object",
    "required": ["status", "parts", "down"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "down"]},
        "parts": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "gateway, store, rasa, actions: 'up' or 'down: <why>'",
        },
        "down": {"type": "array", "items": {"type": "string"}},
    },
}


# Whether the widget may offer "Email me this answer" (email is on).
_EMAIL_ANSWERS = {
    "type": "boolean",
    "description": "POST .../email-answer is available (email is set up)",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed or invalid body; the message says what is wrong",
        401: "No bearer token",
        403: "The token does not open this conversation",
        413: "Body larger than 64 KiB",
    }
    return {str(code): _json(_ERROR, reasons[code]) for code in codes}


def _rate_limited(what: str) -> dict[str, Any]:
    """429 from the customer rate limits (stack/settings.py has the numbers)."""
    return {
        **_json(_ERROR, f"`rate_limited`: {what}; nothing was stored"),
        "headers": {
            "Retry-After": {
                "description": "Seconds until it would be accepted",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }


def _body(model: type[RequestModel], required: bool = True) -> dict[str, Any]:
    """A JSON request body validated by `model` (its schema: components/schemas)."""
    schema = {"$ref": request_models.REF_TEMPLATE.format(model=model.__name__)}
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _agent_paths() -> dict[str, Any]:
    """The agent side: every route needs a signed-in agent's bearer token."""
    conversation_id = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    secured: dict[str, Any] = {"security": [{"agentSession": []}]}
    any_json = {"type": "object"}
    view = _json({"$ref": "#/components/schemas/AgentView"}, "The conversation with its context")
    return {
        "/api/agent/login": {
            "post": {
                "summary": "Sign in; returns a session token (expires after 8 hours)",
                "requestBody": _body(request_models.AgentLogin),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "token": {"type": "string"},
                                "agent": any_json,
                                "expires_at": {"type": "number"},
                            },
                        },
                        "Signed in",
                    ),
                    "401": _json(_ERROR, "Wrong username or password"),
                    "429": {
                        **_json(
                            _ERROR,
                            "Refused without checking the password: `too_many_attempts` (too"
                            " many failed sign-ins for this username or from this address; each"
                            " failure past the first few doubles the wait), `locked` (locked"
                            " until a supervisor runs `python -m handoff agents unlock NAME`),"
                            " or `busy` (too many sign-ins being checked at once)",
                        ),
                        "headers": {
                            "Retry-After": {
                                "description": "Seconds to wait before trying again",
                                "schema": {"type": "integer", "minimum": 1},
                            }
                        },
                    },
                },
            }
        },
        "/api/agent/logout": {
            "post": {
                **secured,
                "summary": "End the session",
                "responses": {"204": {"description": "Signed out"}},
            }
        },
        "/api/agent/availability": _availability_path(secured),
        "/api/agent/queue": {
            "get": {
                **secured,
                "summary": "Chats waiting for an agent with my languages and skills, "
                "highest priority first, then oldest (none while I am away or busy)",
                "responses": {
                    "200": _json(
                        {"type": "array", "items": {"$ref": "#/components/schemas/QueueItem"}},
                        "The queue",
                    ),
                    **_errors(401),
                },
            }
        },
        "/api/agent/conversations": {
            "get": {
                **secured,
                "summary": "Chats assigned to me",
                "responses": {"200": _json({"type": "array", "items": any_json}, "Mine")},
            }
        },
        "/api/agent/conversations/{conversation_id}": {
            "get": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Reopen a chat assigned to me",
                "responses": {"200": view, **_errors(401, 403)},
            }
        },
        "/api/agent/conversations/{conversation_id}/accept": {
            "post": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Take a waiting chat; 409 if another agent took it first",
                "responses": {
                    "200": view,
                    "409": _json(
                        _ERROR,
                        "Already taken, at capacity, or `not_available` (I am away or busy)",
                    ),
                    **_errors(401, 403),
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/messages": {
            "post": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Write to the customer",
                "requestBody": _body(request_models.AgentMessage),
                "responses": {
                    "201": _json(
                        {"type": "object", "properties": {"seq": {"type": "integer"}}},
                        "Stored and delivered",
                    ),
                    **_errors(400, 401, 403),
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/notes": _notes_path(secured, conversation_id),
        "/api/agent/conversations/{conversation_id}/labels": _labels_path(secured, conversation_id),
        "/api/agent/labels": {
            "get": {
                **secured,
                "summary": "The labels agents may put on conversations (data/labels.yml), "
                "each with its name in ko, ja and en",
                "responses": {
                    "200": _json(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Label"}},
                        "The list, in the designers' order",
                    )
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/resolve": {
            "post": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Done: the bot takes over again and asks the customer for a rating",
                "responses": {"200": _json(any_json, "Back with the bot"), **_errors(401, 403)},
            }
        },
        "/api/agent/conversations/{conversation_id}/reassign": _reassign_path(
            secured, conversation_id
        ),
        **_transfer_paths(secured, conversation_id),
        "/api/agent/conversations/{conversation_id}/suggestions": {
            "get": {
                **secured,
                "parameters": [conversation_id],
                "summary": "KB answers for the customer's latest message, in their language",
                "responses": {"200": _json({"type": "array", "items": any_json}, "Suggestions")},
            }
        },
        "/api/agent/canned": {
            "get": {
                **secured,
                "summary": "Canned replies per language (data/handoff.yml)",
                "responses": {"200": _json({"type": "array", "items": any_json}, "Replies")},
            }
        },
        **_ticket_paths(secured),
        **_search_paths(secured, conversation_id),
        "/api/agent/analytics": _analytics_path(secured),
        "/api/agent/analytics/topics": _topics_path(secured),
        "/api/agent/live": {
            "get": {
                **secured,
                "summary": "Now (supervisors only): the queue per team, language and skill "
                "(waiting, oldest wait), every agent (`availability`: online, away, busy or "
                "offline; `online`: a console open; open chats, capacity) and every "
                "chat with people (`chats`); the same body is pushed as it changes over the "
                'websocket /api/agent/live/ws (first frame: {"type": "hello", "token": ...})',
                "responses": {
                    "200": _json(any_json, "The live state"),
                    "401": _json(_ERROR, "No or expired session token"),
                    "403": _json(_ERROR, "Signed in, but not a supervisor"),
                },
            }
        },
    }


_TICKET = {
    "type": "object",
    "required": ["ticket_id", "conversation_id", "language", "state", "claimed_by"],
    "properties": {
        "ticket_id": {"type": "integer"},
        "conversation_id": {"type": "string"},
        "language": {"type": "string"},
        "created_at": {"type": "string"},
        "contact": {"type": "object", "description": "email, phone and name as left"},
        "message": {"type": "string", "description": "what the customer wrote"},
        "state": {"enum": ["open", "claimed", "answered", "closed"]},
        "claimed_by": {"type": ["string", "null"]},
        "claimed_at": {"type": ["string", "null"]},
        "answered_at": {"type": ["string", "null"], "description": "the latest reply"},
        "closed_at": {"type": ["string", "null"]},
        "resolution": {"type": ["string", "null"]},
    },
}


def _ticket_paths(secured: dict[str, Any]) -> dict[str, Any]:
    """Offline tickets at the desk (handoff/agent/tickets_api.py; the states and who may
    change them: handoff/conversation/tickets.py)."""
    ticket_id = {
        "name": "ticket_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "the ticket's number (anything else: 404)",
    }
    ticket = _json(_TICKET, "The ticket as it is now")
    refused = {
        "404": _json(_ERROR, "`ticket_not_found`: no ticket with this id"),
        "409": _json(
            _ERROR,
            "Not now: `ticket_claimed` (someone has it), `ticket_not_claimed` (claim it "
            "first), `not_yours` (a colleague claimed it), `ticket_closed`, `wrong_state` "
            "(e.g. releasing an answered ticket), `ticket_changed` (it changed meanwhile)",
        ),
    }

    def change(summary: str, model: type[RequestModel] | None = None) -> dict[str, Any]:
        operation: dict[str, Any] = {
            **secured,
            "parameters": [ticket_id],
            "summary": summary,
            "responses": {"200": ticket, **refused},
        }
        if model is not None:
            operation["requestBody"] = _body(model, required=False)
            operation["responses"]["400"] = _json(_ERROR, "Malformed body")
        return {"post": operation}

    return {
        "/api/agent/tickets": {
            "get": {
                **secured,
                "summary": "Offline tickets left when nobody was available, newest first "
                "(at most 200): `open` (nobody has them), `mine` (claimed or answered by me) "
                "or `all`",
                "parameters": request_models.query_parameters(request_models.TicketsQuery),
                "responses": {
                    "200": _json({"type": "array", "items": _TICKET}, "Tickets"),
                    **_errors(400, 401),
                },
            }
        },
        "/api/agent/tickets/{ticket_id}/claim": change(
            "Claim an open ticket: mine to answer (of agents claiming at once, one wins); an "
            "event in the conversation's history; every console gets a `ticket` frame"
        ),
        "/api/agent/tickets/{ticket_id}/release": change(
            "Give back a ticket I claimed and have not answered: open again"
        ),
        "/api/agent/tickets/{ticket_id}/close": change(
            "Close a ticket I claimed, with an optional resolution for the desk",
            request_models.TicketClose,
        ),
        "/api/agent/tickets/{ticket_id}/reply": {
            "post": {
                **secured,
                "parameters": [ticket_id],
                "summary": "Answer a ticket I claimed: a line in the customer's language and "
                "my message are stored in the ticket's conversation (the customer reads them "
                "there, live if connected); the ticket is answered",
                "requestBody": _body(request_models.TicketReply),
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["ticket", "message"],
                            "properties": {
                                "ticket": _TICKET,
                                "message": {"$ref": "#/components/schemas/Message"},
                            },
                        },
                        "Stored",
                    ),
                    "400": _json(_ERROR, "Malformed body, or blank or too long text"),
                    **refused,
                },
            }
        },
    }


def _availability_path(secured: dict[str, Any]) -> dict[str, Any]:
    """The agent's own availability (handoff/agent/api.py; what it means for routing:
    HandoffService.set_availability)."""
    availability = {"type": "string", "enum": ["online", "away", "busy"]}
    return {
        "put": {
            **secured,
            "summary": "Set my availability: online (offered new chats), away (not at the "
            "desk) or busy (working my chats). Away and busy get no new chats and do not "
            "count in customers' wait estimates; chats I have stay mine. My consoles get an "
            "`availability` frame over /api/agent/ws; the sign-in answer and the websocket's "
            "`ready` frame carry it in `agent`",
            "requestBody": _body(request_models.AvailabilityChange),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["availability"],
                        "properties": {"availability": availability},
                    },
                    "Stored: the availability now",
                ),
                "400": _json(_ERROR, "Malformed body, or not one of online, away, busy"),
            },
        }
    }


def _notes_path(secured: dict[str, Any], conversation_id: dict[str, Any]) -> dict[str, Any]:
    """Private notes (handoff/agent/api.py; who may: HandoffService._note_access)."""
    note = {"$ref": "#/components/schemas/Note"}
    who = (
        "the agent the chat is (or was last) with, any agent who could accept it while it "
        "waits, and supervisors"
    )
    refused = {
        "403": _json(_ERROR, f"`not_yours`: only {who} may"),
        "404": _json(_ERROR, "`not_found`: no conversation with this id"),
    }
    return {
        "get": {
            **secured,
            "parameters": [conversation_id],
            "summary": "The conversation's private notes, oldest first (never shown to the "
            "customer)",
            "responses": {
                "200": _json({"type": "array", "items": note}, "The notes"),
                **refused,
            },
        },
        "post": {
            **secured,
            "parameters": [conversation_id],
            "summary": "Add a private note for agents and supervisors (card numbers and ids "
            "masked); consoles that have the chat open get it at once over /api/agent/ws "
            "(a `note` frame), the customer never",
            "requestBody": _body(request_models.AgentNote),
            "responses": {
                "201": _json(note, "Stored"),
                "400": _json(_ERROR, "Malformed body, or blank or too long text"),
                **refused,
            },
        },
    }


def _labels_path(secured: dict[str, Any], conversation_id: dict[str, Any]) -> dict[str, Any]:
    """Labels on a conversation (handoff/agent/labels.py; who may: as for private notes,
    HandoffService.check_desk_access)."""
    labels = {"type": "array", "items": {"type": "string"}, "description": "label ids, sorted"}
    return {
        "put": {
            **secured,
            "parameters": [conversation_id],
            "summary": "Replace the conversation's labels (supervisors, the agent the chat is "
            "or was last with, any agent who could accept it while it waits). A change is "
            "an event in the conversation's history; consoles with the chat open get a "
            "`labels` frame over /api/agent/ws, the customer never",
            "requestBody": _body(request_models.LabelsChange),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["conversation_id", "labels"],
                        "properties": {"conversation_id": {"type": "string"}, "labels": labels},
                    },
                    "Stored: the labels now",
                ),
                "400": _json(
                    _ERROR,
                    "Malformed body, more than 10 labels, or `unknown_label`: an id that is "
                    "not on the list (named)",
                ),
                "403": _json(_ERROR, "`not_yours`: the agent may not label this chat"),
                "404": _json(_ERROR, "`not_found`: no conversation with this id"),
            },
        }
    }


def _transfer_paths(secured: dict[str, Any], conversation_id: dict[str, Any]) -> dict[str, Any]:
    """The agent who has the chat passes it on (the rules: HandoffService.transfer)."""
    refused = {
        "401": _json(_ERROR, "No or expired session token"),
        "403": _json(_ERROR, "`not_yours`: the chat is not assigned to you"),
        "404": _json(_ERROR, "`not_found`: no conversation with this id"),
    }
    return {
        "/api/agent/conversations/{conversation_id}/transfer": {
            "post": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Transfer your chat, with a reason, to an online colleague (it moves "
                "at once) or to a team's queue (it keeps its place); the customer is told "
                "politely in their language, never the reason; the event records from, to "
                "and the reason",
                "requestBody": _body(request_models.Transfer),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "conversation_id": {"type": "string"},
                                "state": {"enum": ["assigned", "queued"]},
                                "agent": {"type": "string"},
                                "skill": {"type": "string"},
                                "from_agent": {"type": "string"},
                                "queue": {"type": "object"},
                            },
                        },
                        "`assigned` to `agent`, or `queued` for `skill` (with the position)",
                    ),
                    "400": _json(_ERROR, "Malformed body: the message names the field"),
                    **refused,
                    "409": _json(
                        _ERROR,
                        "Not possible now: `already_assigned` (to yourself), `moved`, "
                        "`unknown_agent`, `agent_offline`, `agent_away`, `agent_busy`, "
                        "`agent_not_eligible` (language or skill), `agent_at_capacity`, "
                        "`unknown_skill` (no agent has it), `team_unavailable` (nobody of the "
                        "team who speaks the chat's language is online)",
                    ),
                    "413": _json(_ERROR, "Body larger than 64 KiB"),
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/transfer-options": {
            "get": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Where you may transfer your chat now: online colleagues who could "
                "take it (language, skill, a free seat) and teams with someone online",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "agents": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "username": {"type": "string"},
                                            "display_name": {"type": "string"},
                                        },
                                    },
                                },
                                "teams": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "Colleagues and teams",
                    ),
                    **refused,
                },
            }
        },
    }


def _reassign_path(secured: dict[str, Any], conversation_id: dict[str, Any]) -> dict[str, Any]:
    """Supervisors only (handoff/agent/supervisor_api.py; the rules: HandoffService.reassign)."""
    return {
        "post": {
            **secured,
            "parameters": [conversation_id],
            "summary": "Supervisors: give a waiting chat to an agent, or move an assigned one "
            "to another agent (both consoles and the customer are told at once; the event "
            "records who moved it)",
            "requestBody": _body(request_models.Reassign),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "conversation_id": {"type": "string"},
                            "state": {"const": "assigned"},
                            "agent": {"type": "string"},
                            "from_agent": {"type": ["string", "null"]},
                            "forced": {"type": "boolean"},
                        },
                    },
                    "Assigned to `agent` (`from_agent` is null for a chat that was waiting)",
                ),
                "400": _json(_ERROR, "Malformed body: the message says what is wrong"),
                "401": _json(_ERROR, "No or expired session token"),
                "403": _json(_ERROR, "`supervisors_only`: signed in, but not a supervisor"),
                "404": _json(_ERROR, "`not_found`: no conversation with this id"),
                "409": _json(
                    _ERROR,
                    "Not possible now: `not_waiting` (not with people), `already_assigned`, "
                    "`moved` (moved or resolved meanwhile), `unknown_agent`, `agent_offline`, "
                    "`agent_away` (set away; even with force), `agent_busy` (set busy; force "
                    "gives it anyway), `agent_not_eligible` (language or skill), "
                    "`agent_at_capacity`",
                ),
                "413": _json(_ERROR, "Body larger than 64 KiB"),
            },
        }
    }


def _analytics_path(secured: dict[str, Any]) -> dict[str, Any]:
    """Supervisors only (handoff/agent/analytics_api.py; figures and definitions: agent/analytics.py)."""
    day = _DAY
    rows = {"type": "array", "items": {"type": "object"}}
    figures = get_args(request_models.Figure)
    return {
        "get": {
            **secured,
            "summary": "Support analytics per day and language (supervisors only)",
            "description": "Every figure as rows per (day, language) plus roll-ups "
            '(day or language "all"), with its definition. A conversation counts on the '
            "day it started (in `tz`), in its language. `format=csv` with `figure` exports "
            "one figure's rows (same builder).",
            "parameters": request_models.query_parameters(request_models.AnalyticsQuery),
            "responses": {
                "200": {
                    "description": "The report (JSON), or one figure as text/csv",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "from": day,
                                    "to": day,
                                    "language": {"type": "string"},
                                    "tz": {"type": "string"},
                                    "days": {"type": "array", "items": day},
                                    "definitions": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "figures": {
                                        "type": "object",
                                        "properties": {f: rows for f in figures},
                                    },
                                },
                            }
                        },
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "400": _json(
                    _ERROR, "A bad date, range (over 366 days), language, time zone or parameter"
                ),
                "401": _json(_ERROR, "No or expired session token"),
                "403": _json(_ERROR, "Signed in, but not a supervisor"),
            },
        }
    }


def _search_paths(secured: dict[str, Any], conversation_id: dict[str, Any]) -> dict[str, Any]:
    """Agents' conversation search (handoff/agent/search_api.py) and the transcript a
    result opens."""
    text = {"type": "string"}
    hit = {
        "type": "object",
        "required": [
            "conversation_id",
            "customer_name",
            "language",
            "state",
            "created_at",
            "updated_at",
            "snippet",
            "found_in",
            "seq",
            "ticket_id",
        ],
        "properties": {
            "conversation_id": text,
            "customer_name": {"type": "string", "description": "empty when none was given"},
            "language": text,
            "state": {"$ref": "#/components/schemas/State"},
            "created_at": text,
            "updated_at": {"type": "string", "description": "its last activity"},
            "snippet": {
                "type": "string",
                "description": "the newest matching line around the match (personal data "
                "masked as stored); without `q`, the customer's first message",
            },
            "found_in": {"enum": ["message", "customer", "ticket", ""]},
            "seq": {"type": ["integer", "null"], "description": "the message that matched"},
            "ticket_id": {"type": ["integer", "null"], "description": "the ticket that matched"},
        },
    }
    results = {
        "type": "object",
        "required": ["results", "count", "limit"],
        "properties": {
            "results": {"type": "array", "items": hit},
            "count": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
        },
    }
    transcript = {
        "type": "object",
        "required": [
            "conversation_id",
            "language",
            "state",
            "created_at",
            "updated_at",
            "customer",
            "transcript",
        ],
        "properties": {
            "conversation_id": text,
            "language": text,
            "state": {"$ref": "#/components/schemas/State"},
            "created_at": text,
            "updated_at": text,
            "customer": {"type": "object"},
            "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
        },
    }
    return {
        "/api/agent/search": {
            "get": {
                **secured,
                "summary": "Conversations and offline tickets by text, days and state",
                "description": "Any signed-in agent. `q` is found inside words in any "
                "language (Japanese needs no spaces; a Korean word with its particle), case "
                "folded, `%` and `_` as themselves: from 3 characters through an index, with "
                "1 or 2 among the 2000 most recently active conversations that pass the "
                "filters. Without `q`, `from`, `to` or `state` is needed. The most recently "
                "active first, at most 50, one per conversation.",
                "parameters": request_models.query_parameters(request_models.SearchQuery),
                "responses": {
                    "200": _json(results, "What was found"),
                    "400": _json(
                        _ERROR,
                        "A parameter refused (named in the message), `from` after `to`, or "
                        "nothing to search by",
                    ),
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/transcript": {
            "get": {
                **secured,
                "parameters": [conversation_id],
                "summary": "A conversation's transcript, read-only (what a search result opens)",
                "description": "Any signed-in agent; no private notes.",
                "responses": {
                    "200": _json(transcript, "The conversation and its messages, in order"),
                    "404": _json(_ERROR, "`not_found`: there is no conversation with this id"),
                },
            }
        },
    }


def _topics_path(secured: dict[str, Any]) -> dict[str, Any]:
    """Supervisors only (handoff/agent/topics_api.py; built by the action server, kb_index/topics.py)."""
    day = _DAY
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    topic = {
        "type": "object",
        "properties": {
            "rank": {"type": "integer"},
            "id": {"type": "string", "description": "the draft article's id"},
            "representative": {"type": "string"},
            "size": {"type": "integer"},
            "languages": counts,
            "kinds": {**counts, "description": "abstain, clarify, not_helpful, none_of_these"},
            "examples": {"type": "array", "items": {"type": "string"}},
            "nearest": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "article_id": {"type": "string"},
                        "title": {"type": "string"},
                        "count": {"type": "integer"},
                    },
                },
            },
            "draft": {"type": "string", "description": "a KB file (YAML) with this draft"},
        },
    }
    return {
        "get": {
            **secured,
            "summary": "Unanswered questions grouped into topics, with KB-article drafts "
            "(supervisors only)",
            "description": 'Abstains, clarifications, "didn\'t help" and "none of these" of '
            "the range (UTC days), grouped by the KB's embedder on the action server; the "
            "biggest topics first. Example questions are masked (no contact details, cards "
            "or ids). `format=csv` exports the topics table, `format=yaml` every listed "
            "draft as one KB file (data/kb format, answers left empty).",
            "parameters": request_models.query_parameters(request_models.TopicsQuery),
            "responses": {
                "200": {
                    "description": "The topics (JSON), the table (CSV) or the drafts (YAML)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "from": day,
                                    "to": day,
                                    "language": {"type": "string"},
                                    "questions": {"type": "integer"},
                                    "grouped": {
                                        "type": "integer",
                                        "description": "the newest questions grouped (capped)",
                                    },
                                    "pending": {
                                        "type": "integer",
                                        "description": "questions not embedded yet (read in "
                                        "the background: load again shortly)",
                                    },
                                    "groups": {"type": "integer"},
                                    "topics": {"type": "array", "items": topic},
                                    "drafts": {"type": "string"},
                                },
                            }
                        },
                        "text/csv": {"schema": {"type": "string"}},
                        # a KB file (data/kb format): the drafts to complete
                        "application/yaml": {
                            "schema": {
                                "type": "object",
                                "required": ["articles"],
                                "properties": {"articles": {"type": "array"}},
                            }
                        },
                    },
                },
                "400": _json(_ERROR, "A bad date, range (over 366 days), language or parameter"),
                "401": _json(_ERROR, "No or expired session token"),
                "403": _json(_ERROR, "Signed in, but not a supervisor"),
                "503": _json(_ERROR, "`topics_unavailable`: the action server is down or failed"),
            },
        }
    }


def _notice_paths() -> dict[str, Any]:
    """Notices for outages and maintenance (handoff/notices/routes.py): customers read the
    ones in force; supervisors post and end them."""
    secured: dict[str, Any] = {"security": [{"agentSession": []}]}
    instant = {"type": "string", "description": "UTC, e.g. 2026-12-05T13:00:00.000Z"}
    until = {"type": ["string", "null"], "description": "UTC; null: until a supervisor ends it"}
    common = {
        "id": {"type": "string"},
        "severity": {"enum": ["info", "outage"]},
        "starts_at": instant,
        "ends_at": until,
        "topics": {"type": "array", "items": {"type": "string"}},
    }
    for_customer = {
        "type": "object",
        "required": [*common, "text"],
        "properties": {**common, "text": {"type": "string"}},
    }
    texts = {
        "type": "object",
        "required": ["ko", "ja", "en"],
        "properties": {language: {"type": "string"} for language in ("ko", "ja", "en")},
    }
    for_supervisor = {
        "type": "object",
        "required": [*common, "text", "source", "status", "created_by", "ended_by"],
        "properties": {
            **common,
            "text": texts,
            "source": {
                "enum": ["file", "supervisor"],
                "description": "file: data/notices.yml; supervisor: posted here",
            },
            "status": {"enum": ["active", "scheduled", "ended"]},
            "created_by": {"type": "string"},
            "ended_by": {"type": ["string", "null"]},
        },
    }
    supervisors_only = _json(_ERROR, "`supervisors_only`: signed in, but not a supervisor")
    return {
        "/api/notices": {
            "get": {
                "summary": "The notices in force (outages, maintenance), in one language",
                "description": "The widget shows them as a banner; its websocket also gets a "
                "`notices` frame (every active notice, `text` in ko, ja and en) when it "
                "opens and whenever they change: an empty list ends the banner.",
                "parameters": request_models.query_parameters(request_models.NoticesQuery),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["language", "notices"],
                            "properties": {
                                "language": {"type": "string"},
                                "notices": {"type": "array", "items": for_customer},
                            },
                        },
                        "The active notices, oldest start first",
                    ),
                    "400": _json(_ERROR, "A parameter is unknown or invalid"),
                },
            }
        },
        "/api/supervisor/notices": {
            "get": {
                **secured,
                "summary": "Active and scheduled notices (supervisors only), from "
                "data/notices.yml and posted here, and the topics a notice may name",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["notices", "topics"],
                            "properties": {
                                "notices": {"type": "array", "items": for_supervisor},
                                "topics": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "The notices not ended yet, by start",
                    ),
                    "403": supervisors_only,
                },
            },
            "post": {
                **secured,
                "summary": "Post a notice (supervisors only): the widgets show it while it "
                "is in force, the bot's greeting mentions it, and answers on its topics get "
                "it first (once per conversation); every gateway replica within seconds",
                "requestBody": _body(request_models.NewNotice),
                "responses": {
                    "201": _json(for_supervisor, "Stored"),
                    "400": _json(
                        _ERROR,
                        "Names the field: a text missing or too long, a date without its "
                        "time zone, ends_at before starts_at (`ends_before_start`) or past "
                        "(`ends_in_the_past`), a topic the KB does not have (`unknown_topic`, "
                        "listing the known ones)",
                    ),
                    "403": supervisors_only,
                },
            },
        },
        "/api/supervisor/notices/{notice_id}/end": {
            "post": {
                **secured,
                "parameters": [
                    {
                        "name": "notice_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "summary": "End a notice now (supervisors only): banners go at once",
                "responses": {
                    "200": _json(for_supervisor, "Ended (or it had ended already)"),
                    "403": supervisors_only,
                    "404": _json(_ERROR, "`not_found`: no notice with this id"),
                    "409": _json(
                        _ERROR,
                        "`scheduled_in_file`: from data/notices.yml; change its ends_at there",
                    ),
                },
            }
        },
    }


def _customer_history_paths(conversation_id: dict[str, Any]) -> dict[str, Any]:
    """A verified customer's earlier conversations, on any device (customer/history.py)."""
    earlier = {
        "type": "object",
        "required": ["conversation_id", "started_at", "state", "preview"],
        "properties": {
            "conversation_id": {"type": "string"},
            "started_at": {"type": "string"},
            "last_message_at": {"type": "string"},
            "state": {"$ref": "#/components/schemas/State"},
            "language": {"type": "string"},
            "preview": {"type": "string", "description": "the last message, shortened"},
        },
    }
    return {
        "/api/customers/history": {
            "post": {
                "summary": "A verified customer's earlier conversations",
                "description": "POST, so the identity is never in a URL. Lists the "
                "conversations started with a verified identity of the same customer id "
                "(newest first, at most ten) and returns a short-lived `history_token` "
                "that opens them read-only.",
                "requestBody": _body(request_models.CustomerHistoryRequest),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["conversations", "history_token", "expires_at"],
                            "properties": {
                                "conversations": {"type": "array", "items": earlier},
                                "history_token": {"type": "string"},
                                "expires_at": {
                                    "type": "integer",
                                    "description": "Unix seconds; the token is refused after",
                                },
                            },
                        },
                        "The earlier conversations, newest first",
                    ),
                    "400": _json(
                        _ERROR,
                        "Malformed body, or a signed identity that cannot be accepted: code "
                        "`invalid_identity_signature`, `identity_expired`, "
                        "`identity_not_configured` or `invalid_identity` (as for "
                        "POST /api/conversations)",
                    ),
                    "429": _rate_limited("too many history reads from this address"),
                },
            }
        },
        "/api/customers/history/{conversation_id}": {
            "get": {
                "summary": "One earlier conversation of a verified customer, read-only",
                "security": [{"historyToken": []}],
                "parameters": [conversation_id],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["conversation_id", "state", "messages"],
                            "properties": {
                                "conversation_id": {"type": "string"},
                                "state": {"$ref": "#/components/schemas/State"},
                                "language": {"type": "string"},
                                "started_at": {"type": "string"},
                                "messages": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Message"},
                                },
                            },
                        },
                        "The transcript",
                    ),
                    "401": _json(_ERROR, "No history token, or an expired or altered one"),
                    "403": _json(
                        _ERROR, "Not a conversation of this customer (or no such conversation)"
                    ),
                    "429": _rate_limited("too many history reads from this address"),
                },
            }
        },
    }


def _attachment_paths(conversation_id: dict[str, Any]) -> dict[str, Any]:
    """Images and PDFs in a conversation (handoff/attachments/routes.py): multipart uploads
    of one part `file`, the type read from the bytes; downloads with the same credentials."""
    attachment_id = {
        "name": "attachment_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    upload = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "additionalProperties": False,
                },
                "encoding": {"file": {"contentType": "image/*, application/pdf"}},
            }
        },
    }
    created = _json(
        {
            "type": "object",
            "required": ["attachment", "seq", "message"],
            "properties": {
                "attachment": {"$ref": "#/components/schemas/Attachment"},
                "seq": {"type": "integer"},
                "message": {"$ref": "#/components/schemas/Message"},
            },
        },
        "Stored, and posted in the conversation as a message carrying it",
    )
    refused = {
        "400": _json(_ERROR, "Not multipart/form-data with exactly one part `file`, or empty"),
        "413": _json(_ERROR, "`too_large`: the file is over Settings.attachment_max_bytes"),
        "415": _json(
            _ERROR, "`unsupported_type`: not JPEG, PNG, GIF, WebP or PDF (read from the bytes)"
        ),
        "429": _rate_limited("too many uploads in this conversation"),
    }
    file = {
        "description": "The file, in its stored type; a PDF as a download "
        "(Content-Disposition: attachment)",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
        },
    }
    missing = _json(
        _ERROR,
        "`not_found`: no such attachment in this conversation (also for an agent who "
        "may not see the chat)",
    )
    customer: dict[str, Any] = {"security": [{"conversationToken": []}]}
    agent: dict[str, Any] = {"security": [{"agentSession": []}]}
    return {
        "/api/conversations/{conversation_id}/attachments": {
            "post": {
                **customer,
                "parameters": [conversation_id],
                "summary": "Send an image or a PDF to the conversation",
                "requestBody": upload,
                "responses": {"201": created, **refused},
            }
        },
        "/api/conversations/{conversation_id}/attachments/{attachment_id}": {
            "get": {
                **customer,
                "parameters": [conversation_id, attachment_id],
                "summary": "A file of this conversation",
                "responses": {"200": file, "404": missing},
            }
        },
        "/api/agent/conversations/{conversation_id}/attachments": {
            "post": {
                **agent,
                "parameters": [conversation_id],
                "summary": "Send an image or a PDF to the customer (the agent who has the chat)",
                "requestBody": upload,
                "responses": {
                    "201": created,
                    **refused,
                    "403": _json(_ERROR, "`not_yours`: the chat is not assigned to you"),
                    "404": _json(_ERROR, "`not_found`: no conversation with this id"),
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/attachments/{attachment_id}": {
            "get": {
                **agent,
                "parameters": [conversation_id, attachment_id],
                "summary": "A file of a conversation (its agents and supervisors)",
                "responses": {"200": file, "404": missing},
            }
        },
    }


def _email_paths() -> dict[str, Any]:
    """A customer's emailed reply, posted by the mail system (handoff/email/routes.py)."""
    raw = {"schema": {"type": "string", "format": "binary"}}
    stored = _json(
        {
            "type": "object",
            "required": ["conversation_id", "stored", "duplicate", "routed_to"],
            "properties": {
                "conversation_id": {"type": "string"},
                "stored": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "the seqs of the customer messages stored",
                },
                "duplicate": {"type": "boolean"},
                "routed_to": {
                    "type": "string",
                    "enum": ["agent", "queue", "ticket", "new_ticket", "duplicate"],
                },
                "ticket_id": {"type": ["integer", "null"]},
            },
        },
        "The reply, stored in its conversation",
    )
    return {
        "/api/email/inbound": {
            "post": {
                "security": [{"inboundEmailSecret": []}],
                "summary": "A customer's reply by email, as a raw RFC 822 message (the MTA "
                "or mail provider posts it); it continues the conversation its recipient "
                "address's token names",
                "requestBody": {
                    "required": True,
                    "content": {"message/rfc822": raw, "application/octet-stream": raw},
                },
                "responses": {
                    "201": stored,
                    "200": {**stored, "description": "The same mail again: stored before"},
                    "400": _json(_ERROR, "`empty_body` or a body that ended early"),
                    "401": _json(_ERROR, "No inbound email secret, or a wrong one"),
                    "403": _json(_ERROR, "`bad_reply_token`: a forged or damaged token"),
                    "404": _json(
                        _ERROR,
                        "`email_off`: email is not set up; `not_found`: the conversation is gone",
                    ),
                    "413": _json(_ERROR, "`too_large`: over Settings.inbound_email_max_bytes"),
                    "415": _json(_ERROR, "Not message/rfc822 (or application/octet-stream)"),
                    "422": _json(
                        _ERROR,
                        "`malformed_email`, `no_reply_token` (no recipient holds one), "
                        "`no_text` or `empty_email` (nothing new after the quoted mail)",
                    ),
                },
            }
        }
    }


def _email_answer_paths(conversation_id: dict[str, Any]) -> dict[str, Any]:
    """ "Email me this answer" in the widget (handoff/email/answer_route.py)."""
    return {
        "/api/conversations/{conversation_id}/email-answer": {
            "post": {
                "summary": "Mail one of the bot's answers in this conversation to an address",
                "description": "The mail holds the answer (a bot message with an "
                "`article_id`), its article links and our own lead line, in the "
                "conversation's language; it goes out through the email outbox (retried; "
                "the address is dropped once it is sent). Only while email is on: the "
                "conversation's `email_answers` says so.",
                "security": [{"conversationToken": []}],
                "parameters": [conversation_id],
                "requestBody": _body(request_models.EmailAnswerRequest),
                "responses": {
                    "202": _json(
                        {
                            "type": "object",
                            "required": ["queued", "to"],
                            "properties": {
                                "queued": {"const": True},
                                "to": {
                                    "type": "string",
                                    "description": "the address, masked: a…@example.com",
                                },
                            },
                        },
                        "Queued: the mail goes out shortly",
                    ),
                    **_errors(400, 401, 403, 413),
                    "404": _json(
                        _ERROR,
                        "`email_off`: email is not set up; `not_found`: no answer of the "
                        "bot's with this seq in this conversation",
                    ),
                    "429": _rate_limited(
                        "too many answers emailed from this conversation "
                        "(Settings.email_answers_per_10_minutes)"
                    ),
                },
            }
        }
    }


def openapi_document() -> dict[str, Any]:
    document = _document()
    for operation in _operations(document):
        _add_boundary_errors(operation)
    return document


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    methods = ("get", "post", "put", "patch", "delete")
    return [
        operation
        for path in document["paths"].values()
        for method, operation in path.items()
        if method in methods
    ]


def _add_boundary_errors(operation: dict[str, Any]) -> None:
    """The errors every route of a kind answers, whatever its handler does: the auth check
    (401, and 403 where the path names a conversation the token may not open) and the body
    reader (400 malformed, 413 too large). Written once here, not per route."""
    responses: dict[str, Any] = operation["responses"]
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        responses.setdefault("401", _json(_ERROR, "No bearer token, or an expired one"))
        if any(p.get("name") == "conversation_id" for p in parameters):
            responses.setdefault("403", _json(_ERROR, "The token does not open this conversation"))
    if "requestBody" in operation:
        responses.setdefault("400", _json(_ERROR, "Malformed or invalid body"))
        responses.setdefault("413", _json(_ERROR, "Body larger than 64 KiB"))


def _document() -> dict[str, Any]:
    conversation_id = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Support assistant gateway",
            "version": "1.0.0",
            "description": "Customer side of the gateway: start a conversation, send messages, "
            "read the transcript. The widget uses the websocket at "
            "/api/conversations/{conversation_id}/ws (first frame: CustomerHello, then "
            "CustomerMessageFrame or CustomerTypingFrame; the agent console's /api/agent/ws: "
            "AgentHello, then "
            "TypingFrame; the frames' schemas are under components/schemas).",
        },
        "components": {
            "securitySchemes": {
                "conversationToken": {"type": "http", "scheme": "bearer"},
                "historyToken": {"type": "http", "scheme": "bearer"},
                "agentSession": {"type": "http", "scheme": "bearer"},
                # The mail system's secret (Settings.inbound_email_secret).
                "inboundEmailSecret": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                **request_models.components(),
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Attachment": {
                    "type": "object",
                    "required": ["id", "name", "content_type", "size"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string", "description": "for display only"},
                        "content_type": {
                            "type": "string",
                            "enum": [
                                "image/jpeg",
                                "image/png",
                                "image/gif",
                                "image/webp",
                                "application/pdf",
                            ],
                        },
                        "size": {"type": "integer", "minimum": 1},
                    },
                },
                "Button": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "payload": {"type": "string"}},
                },
                "Link": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "url": {"type": "string"}},
                },
                "Message": {
                    "type": "object",
                    "required": ["seq", "role", "text", "ts"],
                    "properties": {
                        "seq": {"type": "integer"},
                        "role": {"type": "string", "enum": ["customer", "bot", "agent", "system"]},
                        "text": {"type": "string"},
                        "ts": {"type": "string", "format": "date-time"},
                        "reply_to": {
                            "type": "integer",
                            "description": "bot and system replies: the seq of the "
                            "customer message they answer",
                        },
                        "buttons": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Button"},
                        },
                        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
                        "attachment": {
                            "$ref": "#/components/schemas/Attachment",
                            "description": "a file sent with the message (its text is the "
                            "file's name)",
                        },
                        "channel": {
                            "type": "string",
                            "enum": ["email"],
                            "description": "customer messages that came by email",
                        },
                        "article_id": {
                            "type": "string",
                            "description": "bot answers from the knowledge base: the "
                            "article (POST .../email-answer mails such an answer)",
                        },
                    },
                },
                "State": {
                    "type": "string",
                    "enum": [
                        "bot",
                        "queued",
                        "assigned",
                        "resolved",
                        "cancelled",
                        "offline_ticket",
                        "abandoned",
                    ],
                },
                "QueueItem": {
                    "type": "object",
                    "properties": {
                        "conversation_id": {"type": "string"},
                        "language": {"type": "string"},
                        "reason": {
                            "type": "string",
                            "enum": [
                                "requested",
                                "misses",
                                "not_helpful",
                                "complaint",
                                "always_human",
                            ],
                        },
                        "waiting_seconds": {"type": "integer"},
                        "queued_at": {
                            "type": "number",
                            "description": "unix time it was queued; the queue is ordered by "
                            "priority (highest first), then queued_at",
                        },
                        "summary": {"type": "string"},
                        "priority": {"type": "integer"},
                        "labels": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "label ids (data/labels.yml), sorted",
                        },
                    },
                },
                "Label": {
                    "type": "object",
                    "required": ["id", "names"],
                    "properties": {
                        "id": {"type": "string", "description": "what the API stores"},
                        "names": {
                            "type": "object",
                            "required": ["ko", "ja", "en"],
                            "properties": {
                                "ko": {"type": "string"},
                                "ja": {"type": "string"},
                                "en": {"type": "string"},
                            },
                        },
                    },
                },
                "Note": {
                    "type": "object",
                    "required": ["id", "conversation_id", "author", "text", "created_at"],
                    "properties": {
                        "id": {"type": "integer", "description": "increasing: the order"},
                        "conversation_id": {"type": "string"},
                        "author": {"type": "string", "description": "the agent's username"},
                        "text": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
                "AgentView": {
                    "type": "object",
                    "properties": {
                        "conversation_id": {"type": "string"},
                        "language": {"type": "string"},
                        "reason": {"type": "string"},
                        "summary": {"type": "string"},
                        "transcript": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "messages; customer ones carry intent + confidence",
                        },
                        "bot_attempts": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "KB decisions, articles with scores, feedback",
                        },
                        "customer": {
                            "type": "object",
                            "description": "id, name, email as given; `verified` (true only "
                            "when the host site signed them); earlier_conversations (only "
                            "for a verified identity)",
                        },
                        "notes": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Note"},
                            "description": "private notes of agents and supervisors, oldest first",
                        },
                        "labels": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "label ids (data/labels.yml), sorted",
                        },
                        "transfers": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "agents' transfers of the chat, oldest first: "
                            "from_agent, to_agent or to_skill, reason, ts, after_seq (the "
                            "last message before it); never shown to the customer",
                        },
                    },
                },
            },
        },
        "paths": {
            **_agent_paths(),
            **_notice_paths(),
            "/healthz": {
                "get": {
                    "summary": "Liveness: the gateway process answers",
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"status": {"const": "alive"}}},
                            "Alive",
                        )
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text format): messages, bot decisions by "
                    "kind and language, handoffs by reason, queue length, waits, reply latency, "
                    "errors",
                    "responses": {
                        "200": {
                            "description": "Prometheus exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: whether every part (store, Rasa, action server) "
                    "answers. While one is down, customer messages are still stored and "
                    "answered once it is back",
                    "responses": {
                        "200": _json(_READINESS, "All parts up"),
                        "503": _json(_READINESS, "At least one part down; `down` names them"),
                    },
                }
            },
            "/api/conversations": {
                "post": {
                    "summary": "Start a conversation",
                    "requestBody": _body(request_models.NewConversation, required=False),
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "required": ["conversation_id", "token"],
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "token": {"type": "string"},
                                    "language": {"type": "string"},
                                    "email_answers": _EMAIL_ANSWERS,
                                },
                            },
                            "Created; keep the token, it is shown once",
                        ),
                        **_errors(413),
                        "400": _json(
                            _ERROR,
                            "Malformed body, or a signed identity that cannot be accepted "
                            "(a host misconfiguration, never silently downgraded): code "
                            "`invalid_identity_signature` (does not match: wrong secret or "
                            "fields), `identity_expired` (sign again), "
                            "`identity_not_configured` (the gateway has no identity secret), "
                            "`invalid_identity` (malformed fields)",
                        ),
                        "429": _rate_limited("too many new conversations from this address"),
                    },
                }
            },
            **_customer_history_paths(conversation_id),
            **_attachment_paths(conversation_id),
            **_email_paths(),
            **_email_answer_paths(conversation_id),
            "/api/popular": {
                "get": {
                    "summary": "The questions the widget offers when it opens",
                    "description": "Up to three articles: what the bot answered most in "
                    "the language over the last 30 days, then the designers' list "
                    "(data/popular_questions.yml). Picking one sends the bot its `payload` "
                    "with the title as the message's text.",
                    "parameters": request_models.query_parameters(request_models.PopularQuery),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["language", "questions"],
                                "properties": {
                                    "language": {"type": "string"},
                                    "questions": {
                                        "type": "array",
                                        "maxItems": 3,
                                        "items": {
                                            "type": "object",
                                            "required": [
                                                "article_id",
                                                "title",
                                                "payload",
                                                "source",
                                            ],
                                            "properties": {
                                                "article_id": {"type": "string"},
                                                "title": {"type": "string"},
                                                "payload": {"type": "string"},
                                                "source": {"enum": ["usage", "designer"]},
                                            },
                                        },
                                    },
                                },
                            },
                            "The questions, most asked first",
                        ),
                        "400": _json(_ERROR, "A parameter is unknown or invalid"),
                    },
                }
            },
            "/api/suggestions": {
                "get": {
                    "summary": "Help-centre articles matching what a customer is typing",
                    "description": "Up to three, by a full-text match in every language "
                    "(none for fewer than 2 characters). Picking one sends the bot its "
                    "`payload` with the title as the message's text.",
                    "parameters": request_models.query_parameters(request_models.SuggestionsQuery),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["suggestions"],
                                "properties": {
                                    "suggestions": {
                                        "type": "array",
                                        "maxItems": 3,
                                        "items": {
                                            "type": "object",
                                            "required": ["article_id", "title", "payload"],
                                            "properties": {
                                                "article_id": {"type": "string"},
                                                "title": {"type": "string"},
                                                "payload": {"type": "string"},
                                            },
                                        },
                                    }
                                },
                            },
                            "The matching articles, best first",
                        ),
                        "400": _json(_ERROR, "A parameter is missing, unknown or invalid"),
                        "429": _rate_limited("too many searches from this address"),
                    },
                }
            },
            "/api/conversations/{conversation_id}": {
                "get": {
                    "summary": "The conversation's state, language and transcript",
                    "security": [{"conversationToken": []}],
                    "parameters": [conversation_id],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "state": {"$ref": "#/components/schemas/State"},
                                    "language": {"type": "string"},
                                    "queue": {
                                        "type": "object",
                                        "description": "while queued",
                                        "properties": {
                                            "position": {"type": "integer"},
                                            "estimated_wait_seconds": {"type": "integer"},
                                        },
                                    },
                                    "messages": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Message"},
                                    },
                                    "email_answers": _EMAIL_ANSWERS,
                                },
                            },
                            "The conversation",
                        ),
                        **_errors(401, 403),
                    },
                }
            },
            "/api/conversations/{conversation_id}/messages": {
                "post": {
                    "summary": "Send a customer message (text, or a button's payload)",
                    "security": [{"conversationToken": []}],
                    "parameters": [conversation_id],
                    "requestBody": _body(request_models.CustomerMessage),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "seq": {"type": "integer"},
                                    "duplicate": {"type": "boolean"},
                                    "pending": {
                                        "type": "boolean",
                                        "description": "The bot is down: the message is kept "
                                        "and its answer arrives later (websocket, or GET)",
                                    },
                                    "replies": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Message"},
                                    },
                                    "state": {"$ref": "#/components/schemas/State"},
                                },
                            },
                            "Stored; the bot's replies (or a notice in the customer's language "
                            "when the bot is unavailable)",
                        ),
                        **_errors(400, 401, 403, 413),
                        "429": _rate_limited(
                            "too many messages in this conversation (HTTP and websocket "
                            "together; over the websocket: an `error` frame with code "
                            "`rate_limited`, the message's `client_id` and `retry_after`)"
                        ),
                    },
                }
            },
        },
    }

"""The gateway's public HTTP API as an OpenAPI 3 document (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


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
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["username", "password"],
                                "properties": {
                                    "username": {"type": "string"},
                                    "password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
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
        "/api/agent/queue": {
            "get": {
                **secured,
                "summary": "Chats waiting for an agent with my languages and skills, "
                "highest priority first, then oldest",
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
                    "409": _json(_ERROR, "Already taken, or at capacity"),
                    **_errors(401, 403),
                },
            }
        },
        "/api/agent/conversations/{conversation_id}/messages": {
            "post": {
                **secured,
                "parameters": [conversation_id],
                "summary": "Write to the customer",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["text"],
                                "properties": {"text": {"type": "string", "maxLength": 2000}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {"type": "object", "properties": {"seq": {"type": "integer"}}},
                        "Stored and delivered",
                    ),
                    **_errors(400, 401, 403),
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
        "/api/agent/tickets": {
            "get": {
                **secured,
                "summary": "Offline tickets left when nobody was available",
                "responses": {"200": _json({"type": "array", "items": any_json}, "Tickets")},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    conversation_id = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Support assistant gateway",
            "version": "1.0.0",
            "description": "Customer side of the gateway: start a conversation, send messages, "
            "read the transcript. The widget uses the websocket at "
            "/api/conversations/{conversation_id}/ws (first frame: "
            '{"type": "hello", "token": "...", "last_seq": 0}).',
        },
        "components": {
            "securitySchemes": {
                "conversationToken": {"type": "http", "scheme": "bearer"},
                "agentSession": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
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
                        "buttons": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Button"},
                        },
                        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
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
                        "summary": {"type": "string"},
                        "priority": {"type": "integer"},
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
                            "description": "identity and earlier_conversations",
                        },
                    },
                },
            },
        },
        "paths": {
            **_agent_paths(),
            "/healthz": {
                "get": {
                    "summary": "Whether every part (gateway, store, Rasa, action server) is up",
                    "responses": {
                        "200": {"description": "All parts up"},
                        "503": {"description": "At least one part down; `down` names them"},
                    },
                }
            },
            "/api/conversations": {
                "post": {
                    "summary": "Start a conversation",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "language": {"type": "string", "enum": ["ko", "ja", "en"]},
                                        "customer": {
                                            "type": "object",
                                            "properties": {
                                                "id": {"type": "string"},
                                                "name": {"type": "string"},
                                                "email": {"type": "string"},
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "required": ["conversation_id", "token"],
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "token": {"type": "string"},
                                    "language": {"type": "string"},
                                },
                            },
                            "Created; keep the token, it is shown once",
                        ),
                        **_errors(400, 413),
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
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "text": {"type": "string", "maxLength": 2000},
                                        "payload": {"type": "string"},
                                        "client_id": {
                                            "type": "string",
                                            "description": "Makes a resend idempotent",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "seq": {"type": "integer"},
                                    "duplicate": {"type": "boolean"},
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
                    },
                }
            },
        },
    }

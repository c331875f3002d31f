"""Offline tickets at the agents' desk (agents and supervisors alike):

    GET  /api/agent/tickets?view=open|mine|all     the list, newest first (default all)
    POST /api/agent/tickets/{ticket_id}/claim      open -> claimed by me
    POST /api/agent/tickets/{ticket_id}/release    claimed (by me) -> open
    POST /api/agent/tickets/{ticket_id}/reply      {"text": ...}: answered (I claimed it)
    POST /api/agent/tickets/{ticket_id}/close      {"resolution"?: ...}: closed (I claimed it)

What each does and who may: handoff/conversation/tickets.py. A ticket that cannot change
now is a 409 whose code says why (ticket_claimed, ticket_not_claimed, not_yours,
ticket_closed, wrong_state, ticket_changed); an unknown one a 404 (ticket_not_found).
"""

from __future__ import annotations

from aiohttp import web

from handoff.agent.api import handoffs, signed_in_agent
from handoff.conversation.state_machine import TicketRefused
from handoff.conversation.tickets import TicketDesk
from handoff.web.http import json_error, read_model
from handoff.web.request_models import TicketClose, TicketReply, TicketsQuery, parse, query_dict

routes = web.RouteTableDef()

# Ticket ids are positive integers that fit PostgreSQL's bigint.
_MAX_TICKET_ID = 2**63 - 1


def desk(request: web.Request) -> TicketDesk:
    return handoffs(request).tickets


def ticket_id_of(request: web.Request) -> int | None:
    """The path's ticket id, or None for anything that cannot be one (then: 404)."""
    raw = request.match_info["ticket_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= _MAX_TICKET_ID else None


def _not_found() -> web.Response:
    return json_error(404, "ticket_not_found", "there is no ticket with this id")


@routes.get("/api/agent/tickets")
async def tickets(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    query = parse(TicketsQuery, query_dict(request.query))
    return web.json_response(await desk(request).tickets(query.view, agent.username))


async def _change(request: web.Request, transition: str, resolution: str | None) -> web.Response:
    agent = await signed_in_agent(request)
    ticket_id = ticket_id_of(request)
    if ticket_id is None:
        return _not_found()
    try:
        ticket = await desk(request).change(ticket_id, transition, agent.username, resolution)
    except KeyError:
        return _not_found()
    except TicketRefused as exc:
        return json_error(409, exc.code, str(exc))
    return web.json_response(ticket)


@routes.post("/api/agent/tickets/{ticket_id}/claim")
async def claim(request: web.Request) -> web.Response:
    return await _change(request, "claim", None)


@routes.post("/api/agent/tickets/{ticket_id}/release")
async def release(request: web.Request) -> web.Response:
    return await _change(request, "release", None)


@routes.post("/api/agent/tickets/{ticket_id}/close")
async def close(request: web.Request) -> web.Response:
    await signed_in_agent(request)  # who asks before what they send
    body = await read_model(request, TicketClose)
    resolution = (body.resolution or "").strip() or None
    return await _change(request, "close", resolution)


@routes.post("/api/agent/tickets/{ticket_id}/reply")
async def reply(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    body = await read_model(request, TicketReply)
    ticket_id = ticket_id_of(request)
    if ticket_id is None:
        return _not_found()
    try:
        ticket, message = await desk(request).reply(ticket_id, agent.username, body.text)
    except KeyError:
        return _not_found()
    except TicketRefused as exc:
        return json_error(409, exc.code, str(exc))
    return web.json_response({"ticket": ticket, "message": message.public()}, status=201)


def setup_ticket_routes(app: web.Application) -> None:
    app.add_routes(routes)

"""Agent console routes: sign-in, availability, queue, accept, chat, private notes, resolve,
suggestions (offline tickets: tickets_api.py).

Every route but login needs `Authorization: Bearer <agent session token>`; the
console's websocket sends the token in its first frame instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import WSMsgType, web

from handoff.agent.login_guard import LOGIN_GUARD, Refusal
from handoff.conversation.handoff_service import HandoffError, HandoffService, agent_channel
from handoff.conversation.models import Agent
from handoff.conversation.queue_broadcast import EncodedFrame
from handoff.conversation.service import InvalidMessage
from handoff.realtime.hub import Frame
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.web.http import (
    MAX_BODY_BYTES,
    STATIC_DIR,
    BadJSON,
    bearer_token,
    close_socket_for_store_outage,
    json_error,
    parse_json,
    read_model,
)
from handoff.web.request_models import (
    AgentHello,
    AgentLogin,
    AgentMessage,
    AgentNote,
    AvailabilityChange,
    InvalidRequest,
    Transfer,
    TypingFrame,
    parse,
)
from handoff.web.state import SERVICE

routes = web.RouteTableDef()


def handoffs(request: web.Request) -> HandoffService:
    return request.app[SERVICE].handoff


_SIGN_IN_AGAIN = "sign in again: the session is unknown or expired"


async def signed_in_agent(request: web.Request) -> Agent:
    token = bearer_token(request)
    service = handoffs(request)
    agent = await service.handoffs.agent_for_token(token)
    if agent is None:
        raise web.HTTPUnauthorized(text=_SIGN_IN_AGAIN)
    service.presence.seen(agent.username)
    return agent


@routes.get("/agent")
async def console_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "agent.html")


@routes.post("/api/agent/login")
async def login(request: web.Request) -> web.Response:
    credentials = await read_model(request, AgentLogin)
    username, password = credentials.username, credentials.password
    # Throttled before any hashing: 429 + Retry-After (login_guard.py).
    result = await request.app[LOGIN_GUARD].attempt(
        username,
        request.remote or "",
        lambda: handoffs(request).handoffs.login(username, password),
    )
    if isinstance(result, Refusal):
        return result.response()
    if result is None:
        raise web.HTTPUnauthorized(text="wrong username or password")
    agent, token, expires_at = result
    handoffs(request).presence.seen(agent.username)
    return web.json_response({"token": token, "agent": agent.public(), "expires_at": expires_at})


@routes.post("/api/agent/logout")
async def logout(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    await handoffs(request).handoffs.logout(bearer_token(request))
    handoffs(request).presence.forget(agent.username)  # signed out: no grace period
    return web.Response(status=204)


@routes.put("/api/agent/availability")
async def set_availability(request: web.Request) -> web.Response:
    """{"availability": "online" | "away" | "busy"}: what each means for routing is in
    HandoffService.set_availability. Answers the availability now stored."""
    agent = await signed_in_agent(request)
    # 400 naming the field for anything else (a wrong type, an unknown word); 413 if large
    body = await read_model(request, AvailabilityChange)
    updated = await handoffs(request).set_availability(agent, body.availability)
    return web.json_response({"availability": updated.availability})


@routes.get("/api/agent/queue")
async def queue(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    return web.json_response(await handoffs(request).queue_for(agent))


@routes.get("/api/agent/conversations")
async def my_conversations(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    service = handoffs(request)
    items = []
    mine = await service.handoffs.assigned_to(agent.username)
    labels = await service.handoffs.labels_of([h.conversation_id for h in mine])
    for handoff in mine:
        items.append(
            {
                "conversation_id": handoff.conversation_id,
                "language": handoff.language,
                "reason": handoff.reason,
                "summary": handoff.summary,
                "state": "assigned",
                "labels": labels.get(handoff.conversation_id, []),
            }
        )
    return web.json_response(items)


@routes.post("/api/agent/conversations/{conversation_id}/accept")
async def accept(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    view = await handoffs(request).accept(agent, request.match_info["conversation_id"])
    return web.json_response(view)


@routes.get("/api/agent/conversations/{conversation_id}")
async def conversation_view(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    view = await handoffs(request).agent_view(agent, request.match_info["conversation_id"])
    return web.json_response(view)


def check_agent_text(text: object, limit: int) -> str:
    """An agent's message as stored, or InvalidMessage: AgentMessage's rule, with the
    gateway's own limit (Settings.max_message_chars, which may be lower)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidMessage("send {'text': '...'} with a non-empty string")
    if len(text) > limit:
        raise InvalidMessage(f"message is {len(text)} characters; the limit is {limit}")
    return text.strip()


@routes.post("/api/agent/conversations/{conversation_id}/messages")
async def agent_message(request: web.Request) -> web.Response:
    # The session is checked by the store with the write: the busiest call of the
    # console costs one trip to the database, not two. Only a missing or malformed
    # token is refused before the body is read.
    token = bearer_token(request)
    body = await read_model(request, AgentMessage)
    try:
        text = check_agent_text(body.text, request.app[SERVICE].max_message_chars)
    except InvalidMessage as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    sent = await handoffs(request).agent_message_as(
        token, request.match_info["conversation_id"], text
    )
    if sent is None:
        raise web.HTTPUnauthorized(text=_SIGN_IN_AGAIN)
    _, message = sent
    return web.json_response({"seq": message.seq}, status=201)


def _conversation_id(request: web.Request) -> str | None:
    """The path's conversation id, or None for what can be no id of ours (ids are printable
    ASCII; an undecodable escape, say, is not)."""
    conversation_id = request.match_info["conversation_id"]
    return conversation_id if conversation_id.isascii() and conversation_id.isprintable() else None


# Private notes: for the agent the chat is (or was last) with, any agent who could accept
# it while it waits, and supervisors (HandoffService._note_access); 404 for an unknown
# conversation, 403 for one the agent may not see. Never shown to the customer.


@routes.get("/api/agent/conversations/{conversation_id}/notes")
async def notes(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    conversation_id = _conversation_id(request)
    if conversation_id is None:
        return json_error(404, "not_found", "there is no conversation with this id")
    found = await handoffs(request).notes(agent, conversation_id)
    return web.json_response([note.public() for note in found])


@routes.post("/api/agent/conversations/{conversation_id}/notes")
async def add_note(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    # 400 for broken JSON, lone surrogates, a wrong type or blank text; 413 if large
    body = await read_model(request, AgentNote)
    # the gateway's own limit for messages (Settings.max_message_chars) holds for notes too
    limit = request.app[SERVICE].max_message_chars
    if len(body.text) > limit:
        return json_error(
            400, "bad_request", f"note is {len(body.text)} characters; the limit is {limit}"
        )
    conversation_id = _conversation_id(request)
    if conversation_id is None:
        return json_error(404, "not_found", "there is no conversation with this id")
    note = await handoffs(request).add_note(agent, conversation_id, body.text.strip())
    return web.json_response(note.public(), status=201)


@routes.post("/api/agent/conversations/{conversation_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    await handoffs(request).resolve(agent, request.match_info["conversation_id"])
    return web.json_response(
        {"conversation_id": request.match_info["conversation_id"], "state": "bot"}
    )


# Transfers: the agent who has the chat passes it to a colleague or a team's queue, with a
# reason (HandoffService.transfer has the rules); 404 for an unknown conversation, 403 for
# one that is not theirs, 409 with a code when the chosen colleague or team cannot take it.


async def _known_conversation(request: web.Request) -> str | None:
    conversation_id = _conversation_id(request)
    if conversation_id is None:
        return None
    found = await handoffs(request).store.get_conversation(conversation_id)
    return conversation_id if found is not None else None


@routes.post("/api/agent/conversations/{conversation_id}/transfer")
async def transfer(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    # 400 naming the field: both or neither target, a wrong type, a blank or long reason
    body = await read_model(request, Transfer)
    conversation_id = await _known_conversation(request)
    if conversation_id is None:
        return json_error(404, "not_found", "there is no conversation with this id")
    result = await handoffs(request).transfer(
        agent,
        conversation_id,
        body.reason.strip(),
        to_agent=body.to_agent.strip() if body.to_agent is not None else None,
        to_skill=body.to_skill.strip() if body.to_skill is not None else None,
    )
    return web.json_response(result)


@routes.get("/api/agent/conversations/{conversation_id}/transfer-options")
async def transfer_options(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    conversation_id = await _known_conversation(request)
    if conversation_id is None:
        return json_error(404, "not_found", "there is no conversation with this id")
    return web.json_response(await handoffs(request).transfer_options(agent, conversation_id))


@routes.get("/api/agent/conversations/{conversation_id}/suggestions")
async def suggestions(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    service = handoffs(request)
    conversation_id = request.match_info["conversation_id"]
    latest = await service.handoffs.latest_handoff(conversation_id)
    if latest is None or latest.agent != agent.username:
        raise HandoffError("not_yours", "this conversation is not assigned to you")
    return web.json_response(await service.suggestions(conversation_id))


@routes.get("/api/agent/canned")
async def canned(request: web.Request) -> web.Response:
    await signed_in_agent(request)
    replies: list[dict[str, Any]] = handoffs(request).config.get("canned_replies") or []
    return web.json_response(replies)


@routes.get("/api/agent/ws")
async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_BODY_BYTES)
    await ws.prepare(request)
    service = handoffs(request)
    try:
        hello = parse(AgentHello, parse_json(await ws.receive_str(timeout=10)))
        agent = await service.handoffs.agent_for_token(hello.token)
    except STORE_UNAVAILABLE as exc:
        await close_socket_for_store_outage(ws, request, exc)
        return ws
    except (TimeoutError, TypeError, ValueError):  # BadJSON, InvalidRequest: ValueErrors
        agent = None
    if agent is None:
        with contextlib.suppress(ConnectionError):  # the client may have gone already
            await ws.send_json(
                {"type": "error", "code": "unauthorized", "message": "sign in again"}
            )
        await ws.close()
        return ws
    channel = agent_channel(agent.username)
    queue = service.hub.subscribe(channel)
    service.presence.sockets[agent.username] = service.presence.sockets.get(agent.username, 0) + 1
    service.presence.seen(agent.username)
    writer = asyncio.create_task(_forward(ws, queue))
    try:
        await ws.send_json({"type": "ready", "agent": agent.public()})
        await service.console_opened(agent.username)
        async for raw in ws:
            if raw.type != WSMsgType.TEXT:
                continue
            try:
                typing = parse(TypingFrame, parse_json(raw.data))
            except (BadJSON, InvalidRequest) as exc:
                why = f"the frame {exc}" if isinstance(exc, BadJSON) else str(exc)
                queue.put_nowait({"type": "error", "code": "bad_frame", "message": why})
                continue
            await service.agent_typing(agent, typing.conversation_id, typing.on)
    except STORE_UNAVAILABLE as exc:
        await close_socket_for_store_outage(ws, request, exc)
    finally:
        writer.cancel()
        service.hub.unsubscribe(channel, queue)
        service.presence.sockets[agent.username] -= 1
        service.presence.seen(agent.username)  # the grace period before auto-away starts
        await _unless_signed_out(service, agent.username, hello.token)
        service.changed()  # the supervisors' live view shows who has a console open
    return ws


async def _unless_signed_out(service: HandoffService, username: str, token: str) -> None:
    """A console closed by signing out (its logout may be handled before or after the
    close) leaves no grace period: the agent is gone, not reloading."""
    with contextlib.suppress(*STORE_UNAVAILABLE):  # then the grace period stands
        if await service.handoffs.agent_for_token(token) is None:
            service.presence.forget(username)


async def _forward(ws: web.WebSocketResponse, queue: asyncio.Queue[Frame | None]) -> None:
    while True:
        frame = await queue.get()
        if frame is None:
            await ws.close()
            return
        if isinstance(frame, EncodedFrame):  # a queue snapshot: serialized once for all
            await ws.send_str(frame.text)
        else:
            await ws.send_json(frame)


def setup_agent_routes(app: web.Application) -> None:
    app.add_routes(routes)

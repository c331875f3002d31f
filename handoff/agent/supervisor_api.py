"""Supervisor routes for the live view: reassigning a chat, and the view pushed as it changes.

    POST /api/agent/conversations/{conversation_id}/reassign   {"agent": "bob", "force": false}
        give a waiting chat to `agent`, or move an assigned one to them
        (handoff_service.HandoffService.reassign has the rules; 409 says which one refused)
    GET  /api/agent/live/ws
        first frame {"type": "hello", "token": "<supervisor session>"}; then a `live` frame
        (the body of GET /api/agent/live) at once and whenever it changes (live_view.py)

Supervisors only: no session is 401, an agent's session 403.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from handoff.agent.analytics_api import live_state
from handoff.agent.api import handoffs, signed_in_agent
from handoff.agent.live_view import REFRESH_SECONDS, LiveFeed
from handoff.conversation.queue_broadcast import EncodedFrame
from handoff.realtime.hub import Frame
from handoff.web.http import MAX_BODY_BYTES, json_error, parse_json, read_model
from handoff.web.request_models import AgentHello, Reassign, parse
from handoff.web.state import SERVICE

LIVE_FEED = web.AppKey("live_feed", LiveFeed)
_HELLO_TIMEOUT_SECONDS = 10.0

routes = web.RouteTableDef()


@routes.post("/api/agent/conversations/{conversation_id}/reassign")
async def reassign(request: web.Request) -> web.Response:
    supervisor = await signed_in_agent(request)
    if not supervisor.is_supervisor:
        return json_error(403, "supervisors_only", "only a supervisor can reassign a chat")
    # 400 for broken JSON, lone surrogates or what Reassign refuses; 413 if large
    body = await read_model(request, Reassign)
    service = handoffs(request)
    conversation_id = request.match_info["conversation_id"]
    # Ids are printable ASCII; anything else (say, an undecodable escape) is no id of ours.
    known = (
        conversation_id.isascii()
        and conversation_id.isprintable()
        and await service.store.get_conversation(conversation_id) is not None
    )
    if not known:
        return json_error(404, "not_found", "there is no conversation with this id")
    result = await service.reassign(supervisor, conversation_id, body.agent.strip(), body.force)
    return web.json_response(result)


@routes.get("/api/agent/live/ws")
async def live_socket(request: web.Request) -> web.WebSocketResponse:
    """The live view for the analytics page. Watching does not make the supervisor
    count as an agent online (unlike the agent console's socket)."""
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_BODY_BYTES)
    await ws.prepare(request)
    service = handoffs(request)
    try:
        hello = parse(AgentHello, parse_json(await ws.receive_str(timeout=_HELLO_TIMEOUT_SECONDS)))
        token = hello.token
        person = await service.handoffs.agent_for_token(token) if token.isascii() else None
    except (TimeoutError, TypeError, ValueError):  # BadJSON, InvalidRequest: ValueErrors
        person = None
    refusal = None
    if person is None:
        refusal = {"type": "error", "code": "unauthorized", "message": "sign in again"}
    elif not person.is_supervisor:
        refusal = {
            "type": "error",
            "code": "supervisors_only",
            "message": "the live view is for supervisors",
        }
    if refusal is not None:
        with contextlib.suppress(ConnectionError):  # the client may have gone already
            await ws.send_json(refusal)
        await ws.close()
        return ws
    feed = request.app[LIVE_FEED]
    queue = feed.subscribe()
    writer = asyncio.create_task(_forward(ws, queue))
    try:
        queue.put_nowait(await feed.frame())  # the view now; then each change
        async for _ in ws:  # nothing to read: the socket stays open until either side goes
            pass
    finally:
        writer.cancel()
        feed.unsubscribe(queue)
    return ws


async def _forward(ws: web.WebSocketResponse, queue: asyncio.Queue[Frame | None]) -> None:
    while True:
        frame = await queue.get()
        if frame is None:
            await ws.close()
            return
        if isinstance(frame, EncodedFrame):
            await ws.send_str(frame.text)
        else:
            await ws.send_json(frame)


async def _live_feed(app: web.Application) -> AsyncIterator[None]:
    """After the service's start-up context: the feed listens to the service's changes."""
    service = app[SERVICE].handoff
    feed = LiveFeed(lambda: live_state(service))
    app[LIVE_FEED] = feed
    service.watchers.append(feed.touch)
    ticker = asyncio.create_task(_tick(feed))
    yield
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    service.watchers.remove(feed.touch)
    await feed.aclose()


async def _tick(feed: LiveFeed) -> None:
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        feed.touch()


def setup_supervisor_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_live_feed)
    app.add_routes(routes)

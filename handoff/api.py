"""HTTP and websocket routes for customers (OpenAPI document: handoff/openapi.py)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from handoff.handoff_service import HandoffError
from handoff.hub import Frame
from handoff.models import Conversation, Message
from handoff.openapi import openapi_document
from handoff.service import ConversationService, InvalidMessage
from handoff.state import SERVICE

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# Bodies and websocket frames larger than this are refused outright.
MAX_BODY_BYTES = 64 * 1024
_HELLO_TIMEOUT_SECONDS = 10.0

routes = web.RouteTableDef()
# 409: the chat moved on (taken, no longer waiting, agent full); 403: not this agent's.
HANDOFF_ERROR_STATUS = {
    "already_assigned": 409,
    "at_capacity": 409,
    "not_waiting": 409,
    "not_eligible": 403,
    "not_yours": 403,
}


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error leaves as JSON that says what is wrong."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except HandoffError as exc:  # an agent action that cannot be done right now
        return json_error(HANDOFF_ERROR_STATUS.get(exc.code, 400), exc.code, str(exc))
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "too_large", f"request body is larger than {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)


async def read_json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(
            text=f"body is not valid JSON: {exc.msg} at position {exc.pos}",
        ) from exc
    except UnicodeDecodeError as exc:
        raise web.HTTPBadRequest(text="body is not UTF-8 text") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise web.HTTPUnauthorized(
            text="send the conversation token as 'Authorization: Bearer <token>'"
        )
    return token.strip()


async def authorized_conversation(request: web.Request, token: str) -> Conversation:
    """The conversation in the path, if `token` is its token. Same answer for
    unknown ids and wrong tokens, so nobody can probe which ids exist."""
    service = request.app[SERVICE]
    conversation_id = request.match_info["conversation_id"]
    if not await service.store.check_token(conversation_id, token):
        raise web.HTTPForbidden(text="this token does not open this conversation")
    conversation = await service.store.get_conversation(conversation_id)
    if conversation is None:  # deleted between the two reads
        raise web.HTTPForbidden(text="this token does not open this conversation")
    return conversation


# -- pages -------------------------------------------------------------------


@routes.get("/")
async def widget_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    parts: dict[str, str] = {"gateway": "up"}
    try:
        await service.store.ping()
        parts["store"] = "up"
    except Exception as exc:
        parts["store"] = f"down: {exc.__class__.__name__}"
    parts.update(await service.rasa.parts_health())
    down = [name for name, status in parts.items() if status != "up"]
    body = {"status": "down" if down else "ok", "parts": parts, "down": down}
    return web.json_response(body, status=503 if down else 200)


# -- customer API ----------------------------------------------------------------


@routes.post("/api/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    body = await read_json(request)
    customer = body.get("customer") or {}
    if not isinstance(customer, dict):
        raise web.HTTPBadRequest(text="'customer' must be an object with id, name, email")
    customer = {k: str(v)[:200] for k, v in customer.items() if k in {"id", "name", "email"}}
    language = body.get("language")
    try:
        conversation, token = await request.app[SERVICE].start_conversation(language, customer)
    except InvalidMessage as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    return web.json_response(
        {"conversation_id": conversation.id, "token": token, "language": conversation.language},
        status=201,
    )


@routes.get("/api/conversations/{conversation_id}")
async def get_conversation(request: web.Request) -> web.Response:
    conversation = await authorized_conversation(request, bearer_token(request))
    service = request.app[SERVICE]
    messages = await service.store.messages(conversation.id)
    body = {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "language": conversation.language,
        "messages": [m.public() for m in messages],
    }
    state = await service.handoff.state_frame(conversation.id)
    if "queue" in state:
        body["queue"] = state["queue"]
    return web.json_response(body)


@routes.post("/api/conversations/{conversation_id}/messages")
async def post_message(request: web.Request) -> web.Response:
    conversation = await authorized_conversation(request, bearer_token(request))
    body = await read_json(request)
    service = request.app[SERVICE]
    client_id = body.get("client_id")
    try:
        exchange = await service.handle_customer_message(
            conversation,
            body.get("text"),
            body.get("payload"),
            client_id=str(client_id) if client_id else None,
        )
    except InvalidMessage as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    current = await service.store.get_conversation(conversation.id)
    return web.json_response(
        {
            "seq": exchange.customer_message.seq,
            "duplicate": exchange.duplicate,
            "replies": [m.public() for m in exchange.replies],
            "state": current.state if current else conversation.state,
        }
    )


# -- customer websocket ----------------------------------------------------------


@routes.get("/api/conversations/{conversation_id}/ws")
async def customer_socket(request: web.Request) -> web.WebSocketResponse:
    """Browsers cannot set headers on a websocket, so the token comes in the
    first frame: {"type": "hello", "token", "last_seq"}."""
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_BODY_BYTES)
    await ws.prepare(request)
    service = request.app[SERVICE]
    try:
        hello = await ws.receive_json(timeout=_HELLO_TIMEOUT_SECONDS)
        token = str(hello.get("token", "")) if isinstance(hello, dict) else ""
        conversation = await authorized_conversation(request, token)
    except (TimeoutError, web.HTTPException, TypeError, ValueError):
        await ws.send_json(
            {"type": "error", "code": "unauthorized", "message": "unknown conversation or token"}
        )
        await ws.close()
        return ws

    queue = service.hub.subscribe(conversation.id)
    try:
        last_seq = int(hello.get("last_seq") or 0)
        ready = await service.handoff.state_frame(conversation.id)
        await ws.send_json({**ready, "type": "ready"})
        for message in await service.store.messages(conversation.id, after_seq=last_seq):
            await ws.send_json({"type": "message", **message.public()})
            last_seq = message.seq
        writer = asyncio.create_task(_forward_frames(ws, queue, last_seq))
        try:
            await _read_customer_frames(ws, service, conversation, queue)
        finally:
            writer.cancel()
    finally:
        service.hub.unsubscribe(conversation.id, queue)
    return ws


async def _forward_frames(
    ws: web.WebSocketResponse, queue: asyncio.Queue[Frame | None], last_seq: int
) -> None:
    """Everything sent to this socket goes through here, in order, once."""
    while True:
        frame = await queue.get()
        if frame is None:
            await ws.close()
            return
        if frame.get("type") == "message":
            if frame["seq"] <= last_seq:
                continue  # already sent during catch-up
            last_seq = frame["seq"]
        await ws.send_json(frame)


async def _read_customer_frames(
    ws: web.WebSocketResponse,
    service: ConversationService,
    conversation: Conversation,
    queue: asyncio.Queue[Frame | None],
) -> None:
    async for raw in ws:
        if raw.type != WSMsgType.TEXT:
            continue
        try:
            frame = json.loads(raw.data)
        except json.JSONDecodeError:
            queue.put_nowait({"type": "error", "code": "bad_frame", "message": "frames are JSON"})
            continue
        if not isinstance(frame, dict) or frame.get("type") != "message":
            continue
        client_id = str(frame.get("client_id") or "") or None
        try:
            await service.handle_customer_message(
                conversation,
                frame.get("text"),
                frame.get("payload"),
                client_id=client_id,
                on_stored=functools.partial(_ack, queue, client_id),
            )
        except InvalidMessage as exc:
            queue.put_nowait(
                {
                    "type": "error",
                    "code": "invalid_message",
                    "client_id": client_id,
                    "message": str(exc),
                }
            )
        except Exception:
            log.exception("could not handle a customer frame")
            queue.put_nowait(
                {
                    "type": "error",
                    # no client_id: the widget keeps the message pending and
                    # resends it when it reconnects
                    "code": "temporary",
                    "message": "the message could not be handled; it will be sent again",
                }
            )


def _ack(queue: asyncio.Queue[Frame | None], client_id: str | None, message: Message) -> None:
    queue.put_nowait({"type": "ack", "client_id": client_id, "seq": message.seq})


def setup_routes(app: web.Application) -> None:
    app.add_routes(routes)
    app.router.add_static("/static/", STATIC_DIR, show_index=False)

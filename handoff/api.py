"""HTTP and websocket routes for customers (what they accept: handoff/request_models.py;
the OpenAPI document: handoff/openapi.py)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import re
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from common.jsonlog import conversation_context
from handoff.handoff_service import HandoffError
from handoff.hub import Frame
from handoff.identity import IdentityError, identity_from_request
from handoff.models import MAX_CLIENT_ID_CHARS, Conversation, Message
from handoff.openapi import openapi_document
from handoff.rate_limit import RateLimiter, retry_after_header
from handoff.request_models import (
    CustomerHello,
    CustomerMessage,
    CustomerMessageFrame,
    InvalidRequest,
    Model,
    NewConversation,
    parse,
)
from handoff.service import ConversationService, InvalidMessage
from handoff.state import LIMITS, METRICS, SERVICE, SETTINGS
from handoff.store_errors import STORE_UNAVAILABLE

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# Bodies and websocket frames larger than this are refused outright.
MAX_BODY_BYTES = 64 * 1024
# A client told the database is away comes back after this long (Retry-After).
STORE_RETRY_SECONDS = 2
_HELLO_TIMEOUT_SECONDS = 10.0
# What a client over the open-websocket limit is told to wait before trying again.
_SOCKET_RETRY_SECONDS = 10.0

routes = web.RouteTableDef()
# 409: the chat moved on (taken, no longer waiting, agent full); 403: not this agent's.
HANDOFF_ERROR_STATUS = {
    "already_assigned": 409,
    "at_capacity": 409,
    "not_waiting": 409,
    "not_eligible": 403,
    "not_yours": 403,
    # A supervisor's reassign (handoff_service.reassign): the chat moved meanwhile, or
    # the chosen agent cannot take it now.
    "moved": 409,
    "unknown_agent": 409,
    "agent_offline": 409,
    "agent_not_eligible": 409,
    "agent_at_capacity": 409,
    # The action server (which holds the KB model) is down: try again shortly.
    "assist_unavailable": 503,
}


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def close_socket_for_store_outage(
    ws: web.WebSocketResponse, request: web.Request, exc: BaseException
) -> None:
    """A websocket that needs the database while it is away: what error_middleware's 503
    is for a request (after the upgrade an HTTP answer cannot be sent). The client is
    told, and the socket closes with 1013 "try again later"; widget and console
    reconnect by themselves, and catch up from their last seq."""
    log.warning("store unavailable (%s): websocket asked to retry", type(exc).__name__)
    request.app[METRICS].errors.labels("store_unavailable").inc()
    await request.app[SERVICE].store.forget_connections()
    with contextlib.suppress(ConnectionError):  # the client may have gone already
        await ws.send_json(
            {
                "type": "error",
                "code": "store_unavailable",
                "message": "the database is not reachable right now; reconnect shortly",
                "retry_after": STORE_RETRY_SECONDS,
            }
        )
    await ws.close(code=WSCloseCode.TRY_AGAIN_LATER)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error leaves as JSON that says what is wrong."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except HandoffError as exc:  # an agent action that cannot be done right now
        return json_error(HANDOFF_ERROR_STATUS.get(exc.code, 400), exc.code, str(exc))
    except InvalidRequest as exc:  # a body or query its model refused (request_models.py)
        return json_error(400, exc.code, str(exc))
    except STORE_UNAVAILABLE as exc:
        log.warning("store unavailable (%s): answered 503", type(exc).__name__)
        request.app[METRICS].errors.labels("store_unavailable").inc()
        await request.app[SERVICE].store.forget_connections()
        response = json_error(
            503, "store_unavailable", "the database is not reachable right now; try again shortly"
        )
        response.headers[hdrs.RETRY_AFTER] = str(STORE_RETRY_SECONDS)
        return response
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "too_large", f"request body is larger than {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        request.app[METRICS].errors.labels(f"http_{exc.status}").inc()
        response = json_error(
            exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason
        )
        # 405 says which methods would do; 429 and 503 say when to come back.
        for name in (hdrs.ALLOW, hdrs.RETRY_AFTER):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response


@web.middleware
async def conversation_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Whatever is logged while a request about one conversation is handled (a customer's
    websocket for as long as it is open, an agent's action) carries its id
    (common/jsonlog.py); requests about no conversation clear it."""
    with conversation_context(request.match_info.get("conversation_id")):
        response: web.StreamResponse = await handler(request)
        return response


CLIENT_ADDRESS = web.RequestKey("client_address", str)


def client_address(request: web.Request) -> str:
    """Whom the per-address limits count: as handoff/web_guard.py recorded it (the peer,
    or behind a trusted reverse proxy the address it forwarded)."""
    return request.get(CLIENT_ADDRESS) or request.remote or "unknown"


def too_many_requests(wait: float, message: str) -> web.Response:
    """429 in the project's error body, with the seconds to wait in `Retry-After`."""
    response = json_error(429, "rate_limited", message)
    response.headers[hdrs.RETRY_AFTER] = retry_after_header(wait)
    return response


class BadJSON(ValueError):
    """JSON from a client that cannot be used; the message says why."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(text: str) -> Any:
    """A client's JSON (a body or a websocket frame), or BadJSON saying what is wrong.

    Refused besides broken syntax: nesting deep enough to exhaust the parser, and lone
    surrogates (`"\\ud800"` escapes): they are not characters, and no store, log or
    browser can take them."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJSON(f"is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise BadJSON("is nested too deeply") from exc
    pending = [value]
    while pending:  # iterative: the value may be nested a thousand levels
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise BadJSON(
                    "contains a lone surrogate (\\ud800-\\udfff), which is not a character"
                )
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


async def read_json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = parse_json(await request.text())
    except UnicodeDecodeError as exc:
        raise web.HTTPBadRequest(text="body is not UTF-8 text") from exc
    except BadJSON as exc:
        raise web.HTTPBadRequest(text=f"the body {exc}") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


async def read_model(request: web.Request, model: type[Model]) -> Model:
    """The body as `model`; a refusal is a 400 naming the field (error_middleware)."""
    return parse(model, await read_json(request))


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise web.HTTPUnauthorized(
            text="send the conversation token as 'Authorization: Bearer <token>'"
        )
    token = token.strip()
    # Our tokens are URL-safe ASCII; other bytes (aiohttp hands undecodable ones over as
    # surrogates) can only be a client's mistake and must not reach the hashing.
    if not (token.isascii() and token.isprintable()):
        raise web.HTTPUnauthorized(text="the token in 'Authorization' is not a token we issue")
    return token


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
    """Liveness: the gateway process serves requests (whatever else is down)."""
    return web.json_response({"status": "alive"})


@routes.get("/metrics")
async def prometheus_metrics(request: web.Request) -> web.Response:
    """Prometheus text format (handoff/metrics.py names every series)."""
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": request.app[METRICS].content_type})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Readiness: the store, Rasa and the action server all answer; `down` names the
    parts that do not. While one is down the gateway still keeps every message."""
    service = request.app[SERVICE]
    parts: dict[str, str] = {"gateway": "up"}
    try:
        await service.store.ping()
        parts["store"] = "up"
    except Exception as exc:
        parts["store"] = f"down: {exc.__class__.__name__}"
    parts.update(await service.relay.rasa.parts_health())
    down = [name for name, status in parts.items() if status != "up"]
    body = {"status": "down" if down else "ok", "parts": parts, "down": down}
    return web.json_response(body, status=503 if down else 200)


# -- customer API ----------------------------------------------------------------


@routes.post("/api/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    if wait := await request.app[LIMITS].conversations.hit(client_address(request)):
        return too_many_requests(wait, "too many new conversations from this address")
    new = await read_model(request, NewConversation)
    try:
        # Self-typed fields are kept unverified; a host-signed identity is checked.
        identity = identity_from_request(
            new.model_dump(exclude_none=True), request.app[SETTINGS].identity_secret
        )
    except IdentityError as exc:
        return json_error(400, exc.code, str(exc))
    customer = identity.stored()
    try:
        conversation, token = await request.app[SERVICE].start_conversation(new.language, customer)
    except InvalidMessage as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    with conversation_context(conversation.id):
        log.info("conversation started (%s)", conversation.language)
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
    # A flood is refused before the store is read (cheap), counted only once authorized;
    # a request with no token at all is told that first (401).
    token = bearer_token(request)
    limiter = request.app[LIMITS].messages
    if wait := await limiter.wait(request.match_info["conversation_id"]):
        return too_many_requests(wait, "too many messages in this conversation: slow down")
    conversation = await authorized_conversation(request, token)
    if wait := await limiter.hit(conversation.id):
        return too_many_requests(wait, "too many messages in this conversation: slow down")
    message = await read_model(request, CustomerMessage)
    service = request.app[SERVICE]
    try:
        exchange = await service.handle_customer_message(
            conversation, message.text, message.payload, client_id=message.client_id or None
        )
    except InvalidMessage as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    current = await service.store.get_conversation(conversation.id)
    return web.json_response(
        {
            "seq": exchange.customer_message.seq,
            "duplicate": exchange.duplicate,
            "pending": exchange.pending,
            "replies": [m.public() for m in exchange.replies],
            "state": current.state if current else conversation.state,
        }
    )


# -- customer websocket ----------------------------------------------------------


@routes.get("/api/conversations/{conversation_id}/ws")
async def customer_socket(request: web.Request) -> web.StreamResponse:
    """Browsers cannot set headers on a websocket, so the token comes in the
    first frame: {"type": "hello", "token", "last_seq"}."""
    sockets, address = request.app[LIMITS].sockets, client_address(request)
    if not await sockets.acquire(address):
        return too_many_requests(
            _SOCKET_RETRY_SECONDS, "too many open connections from this address"
        )
    try:
        return await _customer_socket(request)
    finally:
        await sockets.release(address)


async def _customer_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_BODY_BYTES)
    await ws.prepare(request)
    service = request.app[SERVICE]
    try:
        hello = parse(
            CustomerHello, parse_json(await ws.receive_str(timeout=_HELLO_TIMEOUT_SECONDS))
        )
        conversation = await authorized_conversation(request, hello.token)
    except STORE_UNAVAILABLE as exc:
        await close_socket_for_store_outage(ws, request, exc)
        return ws
    except (TimeoutError, web.HTTPException, TypeError, ValueError) as exc:
        if isinstance(exc, BadJSON):
            why = f"the hello frame {exc}"
        elif isinstance(exc, InvalidRequest):
            why = f"the hello frame was refused: {exc}"
        else:
            why = "unknown conversation or token"
        # The client may be gone already (it closed without a hello): nothing to tell.
        with contextlib.suppress(ConnectionError):
            await ws.send_json({"type": "error", "code": "unauthorized", "message": why})
        await ws.close()
        return ws

    queue = service.hub.subscribe(conversation.id)
    try:
        last_seq = hello.last_seq or 0
        try:
            ready = await service.handoff.state_frame(conversation.id)
            await ws.send_json({**ready, "type": "ready"})
            for message in await service.store.messages(conversation.id, after_seq=last_seq):
                await ws.send_json({"type": "message", **message.public()})
                last_seq = message.seq
        except STORE_UNAVAILABLE as exc:
            await close_socket_for_store_outage(ws, request, exc)
            return ws
        writer = asyncio.create_task(_forward_frames(ws, queue, last_seq))
        try:
            await _read_customer_frames(
                ws, service, conversation, queue, request.app[LIMITS].messages
            )
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
    limiter: RateLimiter,
) -> None:
    async for raw in ws:
        if raw.type != WSMsgType.TEXT:
            continue
        try:
            frame = parse_json(raw.data)
        except BadJSON as exc:
            # Not worth resending: the widget drops a message refused with a client_id.
            client_id = None
            with contextlib.suppress(ValueError, RecursionError):
                loose = json.loads(raw.data)
                client_id = str(loose.get("client_id")) if isinstance(loose, dict) else None
            queue.put_nowait(
                {
                    "type": "error",
                    "code": "bad_frame",
                    "client_id": client_id,
                    "message": f"the frame {exc}",
                }
            )
            continue
        try:
            message = parse(CustomerMessageFrame, frame)
        except InvalidRequest as exc:
            # With a usable client_id the widget drops the message instead of resending it.
            sent_id = frame.get("client_id") if isinstance(frame, dict) else None
            usable = isinstance(sent_id, str) and 0 < len(sent_id) <= MAX_CLIENT_ID_CHARS
            queue.put_nowait(
                {
                    "type": "error",
                    "code": "invalid_message",
                    "client_id": sent_id if usable else None,
                    "message": str(exc),
                }
            )
            continue
        client_id = message.client_id or None
        if wait := await limiter.hit(conversation.id):
            # Refused and not stored. With its client_id the widget drops it (no resend,
            # unlike `temporary`) and asks the customer to slow down.
            queue.put_nowait(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "client_id": client_id,
                    "retry_after": math.ceil(wait),
                    "message": "too many messages in this conversation: slow down",
                }
            )
            continue
        try:
            await service.handle_customer_message(
                conversation,
                message.text,
                message.payload,
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
        except Exception as exc:
            if isinstance(exc, STORE_UNAVAILABLE):
                log.warning("store unavailable (%s): frame to be resent", type(exc).__name__)
                await service.store.forget_connections()
            else:
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

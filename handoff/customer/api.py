"""HTTP and websocket routes for customers (what they accept: handoff/web/request_models.py;
the OpenAPI document: handoff/web/openapi.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import math
import time
from typing import Any

from aiohttp import WSMsgType, web

from common.jsonlog import conversation_context
from handoff.conversation.models import MAX_CLIENT_ID_CHARS, Conversation, Message
from handoff.conversation.service import ConversationService, InvalidMessage
from handoff.customer import history
from handoff.customer.identity import IdentityError, identity_from_request
from handoff.notices.board import NOTICE_BOARD
from handoff.realtime.hub import Frame
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.web.http import (
    MAX_BODY_BYTES,
    STATIC_DIR,
    BadJSON,
    bearer_token,
    client_address,
    close_socket_for_store_outage,
    json_error,
    limited_per_address,
    parse_json,
    read_model,
    too_many_requests,
    wait_per_address,
)
from handoff.web.rate_limit import RateLimiter
from handoff.web.request_models import (
    CustomerHello,
    CustomerHistoryRequest,
    CustomerMessage,
    CustomerMessageFrame,
    CustomerTypingFrame,
    InvalidRequest,
    NewConversation,
    parse,
)
from handoff.web.state import LIMITS, SERVICE, SETTINGS

log = logging.getLogger(__name__)

_HELLO_TIMEOUT_SECONDS = 10.0
# What a client over the open-websocket limit is told to wait before trying again.
_SOCKET_RETRY_SECONDS = 10.0
# A customer's "typing" passed on to the agent at most this often (the widget repeats it
# every 10 s while the customer types).
TYPING_REFRESH_SECONDS = 5.0
# ... and the store asked who has the chat at most this often.
TYPING_LOOKUP_SECONDS = 1.0

routes = web.RouteTableDef()


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


def email_answers(request: web.Request) -> bool:
    """Whether the widget may offer "Email me this answer" (handoff/email/answer_route.py):
    email is on exactly when an SMTP host is set (email/config.py refuses to start a
    gateway whose email settings are incomplete)."""
    return bool(request.app[SETTINGS].smtp_host)


# -- pages -------------------------------------------------------------------


@routes.get("/")
async def widget_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


# -- customer API ----------------------------------------------------------------


@routes.post("/api/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    limiter = request.app[LIMITS].conversations
    if wait := await wait_per_address(request, limiter, client_address(request)):
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
        {
            "conversation_id": conversation.id,
            "token": token,
            "language": conversation.language,
            "email_answers": email_answers(request),
        },
        status=201,
    )


# -- a verified customer's earlier conversations (customer/history.py) ------------


def _history_key(request: web.Request) -> str:
    """History reads share the per-address search budget, under a key of their own."""
    return f"history {client_address(request)}"


@routes.post("/api/customers/history")
async def customer_history(request: web.Request) -> web.Response:
    if wait := await wait_per_address(request, request.app[LIMITS].searches, _history_key(request)):
        return too_many_requests(wait, "too many history reads from this address")
    asked = await read_model(request, CustomerHistoryRequest)
    secret = request.app[SETTINGS].identity_secret
    try:
        # The model requires the signature, so this is verified or an IdentityError.
        identity = identity_from_request(asked.model_dump(exclude_none=True), secret)
    except IdentityError as exc:
        return json_error(400, exc.code, str(exc))
    customer_id = identity.customer["id"]
    conversations = await history.earlier_conversations(request.app[SERVICE].store, customer_id)
    token, expires = history.issue_token(secret, customer_id, asked.identity_expires)
    # Neither the id nor the email: the count says enough in a log.
    log.info("earlier conversations listed for a verified customer (%d)", len(conversations))
    return web.json_response(
        {"conversations": conversations, "history_token": token, "expires_at": expires}
    )


@routes.get("/api/customers/history/{conversation_id}")
async def customer_history_transcript(request: web.Request) -> web.Response:
    if wait := await wait_per_address(request, request.app[LIMITS].searches, _history_key(request)):
        return too_many_requests(wait, "too many history reads from this address")
    token = bearer_token(request)
    customer_id = history.customer_of_token(request.app[SETTINGS].identity_secret, token)
    if customer_id is None:
        return json_error(
            401,
            "invalid_history_token",
            "the history token is expired or not one this gateway issued: "
            "ask POST /api/customers/history again",
        )
    store = request.app[SERVICE].store
    conversation = await store.get_conversation(request.match_info["conversation_id"])
    # The same answer for an unknown id and someone else's: nobody can probe which exist.
    if conversation is None or not history.belongs_to(conversation, customer_id):
        return json_error(403, "forbidden", "this history token does not open this conversation")
    messages = await store.messages(conversation.id)
    return web.json_response(
        {
            "conversation_id": conversation.id,
            "state": conversation.state,
            "language": conversation.language,
            "started_at": conversation.created_at,
            "messages": [m.public() for m in messages],
        }
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
        "email_answers": email_answers(request),
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
    if not limited_per_address(request):
        return await _customer_socket(request)
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
    # Outage and maintenance notices: what is in force now, then each change (notices/board.py).
    notices = request.app[NOTICE_BOARD]
    notices.listen(queue)
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
        notices.forget(queue)
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
    typing = _CustomerTyping(service, conversation.id, queue)
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
        if isinstance(frame, dict) and frame.get("type") == "typing":
            await typing.told(frame)
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
            exchange = await service.handle_customer_message(
                conversation,
                message.text,
                message.payload,
                client_id=client_id,
                on_stored=functools.partial(_ack, queue, client_id),
            )
            if exchange.state is not None and exchange.state != conversation.state:
                # Kept current: with an agent, the next message skips the bot relay's lock
                # (Redis round trips, across replicas).
                conversation = dataclasses.replace(conversation, state=exchange.state)
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


class _CustomerTyping:
    """One socket's "the customer is typing", passed on to the agent who has the chat.

    Finding that agent costs a read of the handoff, so a flood of typing frames must not
    turn into a flood of reads: the store is asked at most every TYPING_LOOKUP_SECONDS,
    "on" goes to the agent at most every TYPING_REFRESH_SECONDS (the widget repeats it
    while the customer types) and "off" only after an "on" did. The rest is dropped
    without a word: typing is a hint."""

    def __init__(
        self,
        service: ConversationService,
        conversation_id: str,
        queue: asyncio.Queue[Frame | None],
    ) -> None:
        self._service = service
        self._conversation_id = conversation_id
        self._queue = queue
        self._looked_at = -TYPING_LOOKUP_SECONDS
        self._on_told_at = 0.0  # when an agent was last told "on"; 0: they saw "off"

    async def told(self, frame: dict[str, Any]) -> None:
        try:
            on = parse(CustomerTypingFrame, frame).on
        except InvalidRequest as exc:
            self._queue.put_nowait({"type": "error", "code": "bad_frame", "message": str(exc)})
            return
        now = time.monotonic()
        with contextlib.suppress(*STORE_UNAVAILABLE):  # a hint lost, nothing else
            if not on:
                if self._on_told_at:
                    self._on_told_at = 0.0
                    await self._service.handoff.customer_typing(self._conversation_id, False)
                return
            if self._on_told_at and now - self._on_told_at < TYPING_REFRESH_SECONDS:
                return
            if now - self._looked_at < TYPING_LOOKUP_SECONDS:
                return
            self._looked_at = now
            if await self._service.handoff.customer_typing(self._conversation_id, True):
                self._on_told_at = now


def _ack(queue: asyncio.Queue[Frame | None], client_id: str | None, message: Message) -> None:
    queue.put_nowait({"type": "ack", "client_id": client_id, "seq": message.seq})


def setup_customer_routes(app: web.Application) -> None:
    app.add_routes(routes)

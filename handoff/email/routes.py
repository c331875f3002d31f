"""`POST /api/email/inbound`: a customer's emailed reply, as the MTA or mail provider
delivers it (the raw RFC 822 message as the body), and the email channel's start-up.

The caller proves it is our mail system with `Authorization: Bearer <inbound secret>`
(compared in constant time); the mail proves which conversation it answers with the
signed token in its recipient address (tokens.py). 401 without a bearer token (or, with
email on, a wrong one); 404 while email is off; 413 over inbound_email_max_bytes; 4xx
JSON for a mail that cannot be used (malformed, no token, forged token, no text). Logs
never hold the sender or the text.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from handoff.conversation.tickets import WidgetDelivery
from handoff.email.answer_route import ANSWER_MAILER, setup_answer_route
from handoff.email.answers import AnswerMailer
from handoff.email.channel import EmailInbox
from handoff.email.config import EmailConfig
from handoff.email.inbound import InboundRefused, parse_reply
from handoff.email.outbox import EmailDelivery, EmailSender
from handoff.web.http import json_error
from handoff.web.state import SERVICE, SETTINGS, TEXTS

log = logging.getLogger(__name__)

EMAIL_CONFIG = web.AppKey("email_config", EmailConfig)
EMAIL_INBOX = web.AppKey("email_inbox", EmailInbox)
INBOUND_PATH = "/api/email/inbound"
# Content types a mail system sends a raw message as.
RAW_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")
_CHUNK_BYTES = 64 * 1024

routes = web.RouteTableDef()


def _bearer(request: web.Request) -> str | None:
    """The bearer token of the request, or None when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authorized(token: str, secret: str) -> bool:
    given = token.encode("utf-8", errors="surrogateescape")
    return hmac.compare_digest(given, secret.encode("utf-8"))


def _too_large(limit: int) -> web.Response:
    return json_error(413, "too_large", f"the message is larger than {limit} bytes")


async def _read_body(request: web.Request, limit: int) -> bytes | web.Response:
    """The body, up to `limit` bytes (413 beyond: refused before reading when the
    Content-Length says so, else as soon as the stream passes it)."""
    if request.content_length is not None and request.content_length > limit:
        return _too_large(limit)
    data = bytearray()
    try:
        while chunk := await request.content.read(_CHUNK_BYTES):
            data.extend(chunk)
            if len(data) > limit:
                return _too_large(limit)
    except (HttpProcessingError, ConnectionError):
        return json_error(400, "bad_request", "the body ended early")
    return bytes(data)


@routes.post(INBOUND_PATH)
async def inbound_email(request: web.Request) -> web.Response:
    unauthorized = json_error(
        401, "unauthorized", "send the inbound email secret as 'Authorization: Bearer ...'"
    )
    token = _bearer(request)
    if token is None:  # no credentials: 401 whether email is on or not
        return unauthorized
    config = request.app.get(EMAIL_CONFIG)
    inbox = request.app.get(EMAIL_INBOX)
    if config is None or inbox is None:
        return json_error(404, "email_off", "email is not set up on this gateway")
    if not _authorized(token, config.secret):
        return unauthorized
    if request.content_type not in RAW_TYPES:
        return json_error(
            415, "unsupported_media_type", "send the raw mail as Content-Type: message/rfc822"
        )
    body = await _read_body(request, config.max_inbound_bytes)
    if isinstance(body, web.Response):
        return body
    if not body.strip():
        return json_error(400, "empty_body", "the body must be the raw RFC 822 message")
    try:
        # Parsing a large mail takes a while: off the event loop.
        reply = await asyncio.to_thread(parse_reply, body, config.secret)
        received = await inbox.receive(reply)
    except InboundRefused as exc:
        log.info("inbound email refused: %s", exc.code)
        return json_error(exc.status, exc.code, str(exc))
    return web.json_response(
        {
            "conversation_id": reply.conversation_id,
            "stored": [message.seq for message in received.messages],
            "duplicate": received.route == "duplicate",
            "routed_to": received.route,
            "ticket_id": received.ticket_id,
        },
        status=200 if received.route == "duplicate" else 201,
    )


async def _email_channel(app: web.Application) -> AsyncIterator[None]:
    """Runs after the gateway's own start-up (it needs the service): the ticket desk
    mails replies, and one sender per process works the outbox until shutdown."""
    config = EmailConfig.from_settings(app[SETTINGS])
    if config is None:
        yield
        return
    handoff = app[SERVICE].handoff
    sender = EmailSender(handoff.store, handoff.handoffs, app[TEXTS], config)
    handoff.tickets.delivery = EmailDelivery(
        handoff.store, app[TEXTS], config, WidgetDelivery(handoff.hub), sender
    )
    app[EMAIL_CONFIG] = config
    app[EMAIL_INBOX] = EmailInbox(handoff, app[SETTINGS].max_message_chars)
    app[ANSWER_MAILER] = AnswerMailer(handoff.store, app[TEXTS], config, sender)
    task = asyncio.create_task(sender.run())
    log.info("email on: replies through %s:%d", config.host, config.port)
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def setup_email_routes(app: web.Application) -> None:
    """Email as a second channel (README "Email"); off unless ASSISTANT_SMTP_HOST is set.
    Call after the gateway's own cleanup context is added."""
    app.router.add_routes(routes)
    setup_answer_route(app)  # "Email me this answer" in the widget
    app.cleanup_ctx.append(_email_channel)

"""Attachment routes: a customer or the agent who holds the chat sends an image or a PDF;
the conversation's customer and its agents (supervisors too) fetch it.

Upload: `POST .../attachments`, multipart/form-data with one part `file` (upload.py: the
size cap enforced while reading). The type is decided from the bytes (sniffing.py); the
file goes to the store (every replica reads it) and a message with its description
(`attachment`: id, name, content_type, size) joins the conversation through the usual
paths: the transcript, the customer's and the agents' websockets, on any replica.

Download: `GET .../attachments/{attachment_id}` with the same credentials as the rest of
that side's API (a header, never a token in the URL: URLs end up in logs); the pages show
images from blob: URLs. 404 for anything that is not this conversation's attachment (an
agent who may not see the chat included); a customer token for another conversation is
403 whatever the id, as on every customer route: nothing tells whether an attachment id
exists elsewhere. The response names its
type, is `nosniff` (handoff/web/guard.py), a download for PDFs (`Content-Disposition:
attachment`), and sandboxed (CSP `sandbox`) should anyone open it as a page.

Logs say which conversation, type and size; never a file's name or bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from urllib.parse import quote

from aiohttp import web

from common.pii import mask_secrets
from handoff.agent.api import signed_in_agent
from handoff.attachments.model import Attachment, UploaderRole
from handoff.attachments.sniffing import ALLOWED_TYPES, IMAGE_TYPES, display_name, sniff
from handoff.attachments.upload import UploadRefused, read_upload
from handoff.conversation.handoff_service import HandoffError
from handoff.conversation.models import Message
from handoff.customer.api import authorized_conversation
from handoff.store.backends import shared_redis
from handoff.web.http import bearer_token, json_error, too_many_requests
from handoff.web.rate_limit import LocalRateLimiter, RateLimiter
from handoff.web.rate_limit_redis import RedisRateLimiter
from handoff.web.state import METRICS, SERVICE, SETTINGS

log = logging.getLogger(__name__)

ATTACHMENT_LIMIT = web.AppKey("attachment_limit", RateLimiter)
# Marks a response carrying a file: _sandbox adds CSP `sandbox` to its policy.
_FILE_RESPONSE = web.RequestKey("attachment_file_response", bool)
# Ours are secrets.token_urlsafe(24): 32 characters; anything much longer is no id of ours.
_MAX_ID_CHARS = 64
_NOT_FOUND = "there is no such attachment in this conversation"
_SLOW_DOWN = "too many attachments in this conversation: slow down"

routes = web.RouteTableDef()


def _refusal(exc: UploadRefused) -> web.Response:
    if not exc.details:
        return json_error(exc.status, exc.code, str(exc))
    error = {"code": exc.code, "message": str(exc), **exc.details}
    return web.json_response({"error": error}, status=exc.status)


def _inspect(data: bytes) -> tuple[str | None, str]:
    """The file's type (sniffing.sniff) and its SHA-256: both CPU-bound on a large file,
    so run in a thread."""
    return sniff(data), hashlib.sha256(data).hexdigest()


async def _receive(
    request: web.Request, conversation_id: str, role: UploaderRole, uploader: str
) -> Attachment:
    """Read, check and keep the request's file; UploadRefused says why not."""
    upload = await read_upload(request, request.app[SETTINGS].attachment_max_bytes)
    content_type, digest = await asyncio.to_thread(_inspect, upload.data)
    if content_type is None:
        raise UploadRefused(
            415,
            "unsupported_type",
            "only JPEG, PNG, GIF and WebP images and PDF files can be sent "
            f"({', '.join(ALLOWED_TYPES)}); the type is read from the file itself",
            {"allowed_types": list(ALLOWED_TYPES)},
        )
    attachment = Attachment(
        id=secrets.token_urlsafe(24),
        conversation_id=conversation_id,
        uploader_role=role,
        uploader=uploader,
        # Shown to people and stored as a message's text: card numbers masked, as text is.
        name=mask_secrets(display_name(upload.filename, content_type)),
        content_type=content_type,
        size=len(upload.data),
        sha256=digest,
    )
    stored = await request.app[SERVICE].store.add_attachment(attachment, upload.data)
    log.info("%s sent an attachment (%s, %d bytes)", role, content_type, stored.size)
    return stored


def _created(attachment: Attachment, message: Message) -> web.Response:
    return web.json_response(
        {"attachment": attachment.public(), "seq": message.seq, "message": message.public()},
        status=201,
    )


def _usable_id(attachment_id: str) -> bool:
    return len(attachment_id) <= _MAX_ID_CHARS and attachment_id.isascii()


async def _file(request: web.Request, conversation_id: str) -> web.Response:
    attachment_id = request.match_info["attachment_id"]
    found = None
    if _usable_id(attachment_id):
        found = await request.app[SERVICE].store.attachment(conversation_id, attachment_id)
    if found is None:
        return json_error(404, "not_found", _NOT_FOUND)
    attachment, data = found
    response = web.Response(body=data, content_type=attachment.content_type)
    # Images may show in place; a PDF is always a download, never a page of ours.
    disposition = "inline" if attachment.content_type in IMAGE_TYPES else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(attachment.name, safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"  # personal data
    request[_FILE_RESPONSE] = True
    return response


# -- customer -------------------------------------------------------------------------


@routes.post("/api/conversations/{conversation_id}/attachments")
async def customer_upload(request: web.Request) -> web.Response:
    # As for messages: a flood is refused before the store is read, counted once authorized.
    token = bearer_token(request)
    limiter = request.app[ATTACHMENT_LIMIT]
    if wait := await limiter.wait(request.match_info["conversation_id"]):
        return too_many_requests(wait, _SLOW_DOWN)
    conversation = await authorized_conversation(request, token)
    if wait := await limiter.hit(conversation.id):
        return too_many_requests(wait, _SLOW_DOWN)
    try:
        attachment = await _receive(request, conversation.id, "customer", "")
    except UploadRefused as exc:
        return _refusal(exc)
    service = request.app[SERVICE]
    # Not a message for the bot (it cannot read a file): stored and shown, no outbox item.
    message, _ = await service.store.add_message(
        conversation.id, "customer", attachment.name, meta={"attachment": attachment.public()}
    )
    request.app[METRICS].messages.labels("in", "customer").inc()
    service.hub.publish(conversation.id, {"type": "message", **message.public()})
    handoff = await service.handoff.handoffs.open_handoff(conversation.id)
    if handoff is not None and handoff.status == "assigned" and handoff.agent:
        service.handoff.relay_to_agent(handoff.agent, conversation.id, message)
    return _created(attachment, message)


@routes.get("/api/conversations/{conversation_id}/attachments/{attachment_id}")
async def customer_download(request: web.Request) -> web.Response:
    # 401 without a token, 403 for one that does not open this conversation (as on every
    # customer route: the same for any attachment id, so it tells nothing of them).
    conversation = await authorized_conversation(request, bearer_token(request))
    return await _file(request, conversation.id)


# -- agents ---------------------------------------------------------------------------


def _path_conversation(request: web.Request) -> str | None:
    conversation_id = request.match_info["conversation_id"]
    return conversation_id if conversation_id.isascii() and conversation_id.isprintable() else None


@routes.post("/api/agent/conversations/{conversation_id}/attachments")
async def agent_upload(request: web.Request) -> web.Response:
    """Only the agent who holds the chat (checked before the body is read, and again by
    the store with the message's write)."""
    agent = await signed_in_agent(request)
    conversation_id = _path_conversation(request)
    if conversation_id is None:
        return json_error(404, "not_found", "there is no conversation with this id")
    service = request.app[SERVICE].handoff
    handoff = await service.handoffs.open_handoff(conversation_id)
    if handoff is None or handoff.status != "assigned" or handoff.agent != agent.username:
        raise HandoffError("not_yours", "this conversation is not assigned to you")
    if wait := await request.app[ATTACHMENT_LIMIT].hit(conversation_id):
        return too_many_requests(wait, _SLOW_DOWN)
    try:
        attachment = await _receive(request, conversation_id, "agent", agent.username)
    except UploadRefused as exc:
        return _refusal(exc)
    message = await service.agent_message(
        agent, conversation_id, attachment.name, meta={"attachment": attachment.public()}
    )
    return _created(attachment, message)


@routes.get("/api/agent/conversations/{conversation_id}/attachments/{attachment_id}")
async def agent_download(request: web.Request) -> web.Response:
    """The chat's agents (as for its private notes) and supervisors."""
    agent = await signed_in_agent(request)
    conversation_id = _path_conversation(request)
    if conversation_id is None:
        return json_error(404, "not_found", _NOT_FOUND)
    try:
        await request.app[SERVICE].handoff.check_desk_access(agent, conversation_id)
    except HandoffError:
        return json_error(404, "not_found", _NOT_FOUND)
    return await _file(request, conversation_id)


async def _sandbox(request: web.Request, response: web.StreamResponse) -> None:
    """A file opened as a page (a PDF viewer, an SVG someone slips past) may run nothing:
    runs after the guard's headers (registered later), so it extends its policy."""
    if request.get(_FILE_RESPONSE):
        policy = response.headers.get("Content-Security-Policy", "default-src 'none'")
        response.headers["Content-Security-Policy"] = f"{policy}; sandbox"


def attachment_limiter(app: web.Application) -> RateLimiter:
    """Uploads per conversation per minute: in Redis when replicas share one."""
    settings = app[SETTINGS]
    limit = settings.attachments_per_conversation_per_minute
    redis_client = shared_redis(settings, socket_timeout=2)
    if redis_client is None:
        return LocalRateLimiter(limit)

    async def close_redis(_: web.Application) -> None:
        await redis_client.aclose()

    app.on_cleanup.append(close_redis)
    return RedisRateLimiter(redis_client, "attachments", limit)


def setup_attachment_routes(app: web.Application) -> None:
    """After handoff/web/guard.install: _sandbox must run after its headers."""
    app[ATTACHMENT_LIMIT] = attachment_limiter(app)
    app.add_routes(routes)
    app.on_response_prepare.append(_sandbox)

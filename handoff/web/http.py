"""The HTTP plumbing every room of the gateway shares: error bodies, the middlewares,
reading a client's JSON safely, bearer tokens, and what the static files are."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, hdrs, web

from common.jsonlog import conversation_context
from handoff.conversation.handoff_service import HandoffError
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.web.rate_limit import RateLimiter, retry_after_header
from handoff.web.request_models import (
    InvalidRequest,
    Model,
    parse,
)
from handoff.web.state import METRICS, SERVICE

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent.parent / "static"
# Bodies and websocket frames larger than this are refused outright.
MAX_BODY_BYTES = 64 * 1024
# A client told the database is away comes back after this long (Retry-After).
STORE_RETRY_SECONDS = 2

# 409: the chat moved on (taken, no longer waiting, agent full); 403: not this agent's.
HANDOFF_ERROR_STATUS = {
    "already_assigned": 409,
    "at_capacity": 409,
    "not_waiting": 409,
    "not_eligible": 403,
    "not_available": 409,  # the agent set away or busy: no new chats until online again
    "not_yours": 403,
    "not_found": 404,  # no conversation with this id (private notes)
    # A supervisor's reassign (handoff_service.reassign): the chat moved meanwhile, or
    # the chosen agent cannot take it now.
    "moved": 409,
    "unknown_agent": 409,
    "agent_offline": 409,
    "agent_away": 409,
    "agent_busy": 409,
    "agent_not_eligible": 409,
    "agent_at_capacity": 409,
    # An agent's transfer to a team (HandoffService.transfer): no agent has the skill, or
    # none of them who speaks the chat's language takes new chats now.
    "unknown_skill": 409,
    "team_unavailable": 409,
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
# True for a client on the gateway's own machine (handoff/web/guard.py WebGuard.is_local).
LOCAL_CLIENT = web.RequestKey("local_client", bool)


def client_address(request: web.Request) -> str:
    """Whom the per-address limits count: as handoff/web/guard.py recorded it (the peer,
    or behind a trusted reverse proxy the address it forwarded)."""
    return request.get(CLIENT_ADDRESS) or request.remote or "unknown"


def limited_per_address(request: web.Request) -> bool:
    """False for a client on the gateway's own machine: the per-address limits are for
    strangers, and a local client is the operator's (a script, a benchmark, a probe)."""
    return not request.get(LOCAL_CLIENT, False)


async def wait_per_address(request: web.Request, limiter: RateLimiter, key: str) -> float:
    """Seconds `request`'s client must wait under a per-address `limiter` (`key` names
    the client's address), after counting this request; 0 for a local client."""
    return await limiter.hit(key) if limited_per_address(request) else 0.0


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
    browser can take them. A NUL (`"\\u0000"`) is a character, but PostgreSQL's text
    cannot hold one: it becomes U+FFFD here, once for every field and both backends, so
    what is read back is what was stored."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJSON(f"is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise BadJSON("is nested too deeply") from exc
    has_nul = False
    pending = [value]
    while pending:  # iterative: the value may be nested a thousand levels
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise BadJSON(
                    "contains a lone surrogate (\\ud800-\\udfff), which is not a character"
                )
            has_nul = has_nul or "\x00" in item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    if not has_nul:
        return value
    try:
        return _without_nul(value)
    except RecursionError as exc:
        raise BadJSON("is nested too deeply") from exc


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
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

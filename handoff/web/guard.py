"""The gateway's web edge: security headers on every response, the Origin allowlist on
websockets and agent POSTs, and the customer rate limits' state.

`install` puts it on an application:
- every response gets a Content-Security-Policy (pages may run only our own scripts and
  styles; nothing else may run anything), `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer`, an `X-Frame-Options` that says what frame-ancestors
  says, and a `Server` header without a version;
- a websocket handshake, or an agent POST, sent by a browser from a page of another
  origin gets 403 (requests without an Origin header are not from a browser page and
  pass: curl, tests, other services);
- `LIMITS` holds the customer rate limits, used by the routes in handoff/customer/api.py, which
  count per client address as this records it (`CLIENT_ADDRESS`): the peer, or behind
  the reverse proxies in `trusted_proxies` the address they forwarded. A client on this
  machine (`LOCAL_CLIENT`: a loopback peer that forwards nothing) is not counted: it is
  the operator's own script, benchmark or probe, not a crowd of strangers. A loopback
  peer that does send `X-Forwarded-For` is a reverse proxy nobody declared: it is
  counted as one address, as before, and the log says once how to declare it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from redis import asyncio as redis_asyncio
from yarl import URL

from handoff.store.backends import shared_redis
from handoff.web.http import CLIENT_ADDRESS, LOCAL_CLIENT, json_error
from handoff.web.rate_limit import (
    CustomerLimits,
    LocalConcurrencyLimiter,
    LocalRateLimiter,
    RateLimiter,
)
from handoff.web.rate_limit_redis import RedisRateLimiter
from handoff.web.state import LIMITS
from stack.settings import Settings

SERVER_NAME = "support-assistant"

# HTML pages: only our own scripts, styles and connections (same-origin websockets
# included); the console's favicon is a `data:` URL; attachments show from `blob:` URLs
# (fetched with the page's credentials in a header, handoff/attachments/routes.py).
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "
    "frame-ancestors {ancestors}"
)
# Everything else (JSON, scripts, styles): nothing in it may run or load anything.
_RESOURCE_POLICY = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"
_WIDGET_PAGE = "/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORWARDING_HEADERS = (hdrs.X_FORWARDED_FOR, hdrs.FORWARDED)
log = logging.getLogger(__name__)
# An origin as CSP and the Origin header write it: scheme://host[:port], host may start "*.".
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")


def parse_origins(raw: str, setting: str) -> tuple[str, ...]:
    """Origins from a setting (space- or comma-separated), or ValueError naming the bad one."""
    origins = []
    for item in re.split(r"[\s,]+", raw.strip()):
        if not item:
            continue
        if not _ORIGIN.match(item):
            raise ValueError(
                f"ASSISTANT_{setting.upper()}: {item!r} is not an origin like https://shop.example.com"
            )
        origins.append(item.rstrip("/").lower())
    return tuple(origins)


def _ip(item: str, setting: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(item)
    except ValueError:
        raise ValueError(f"ASSISTANT_{setting.upper()}: {item!r} is not an IP address") from None


def _ip_or_none(item: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(item)
    except ValueError:
        return None


def _origin_key(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme.lower(), (url.host or "").lower(), url.port)


class WebGuard:
    def __init__(self, settings: Settings) -> None:
        allowed = parse_origins(settings.allowed_origins, "allowed_origins")
        if any("*" in origin for origin in allowed):
            raise ValueError("ASSISTANT_ALLOWED_ORIGINS: name each origin, no wildcards")
        self.allowed_origins = frozenset(
            _origin_key(URL(o)) for o in (settings.gateway_url, *allowed)
        )
        frame_origins = parse_origins(settings.widget_frame_origins, "widget_frame_origins")
        self.widget_policy = _PAGE_POLICY.format(ancestors=" ".join(("'self'", *frame_origins)))
        # X-Frame-Options cannot name other origins: with any, CSP alone decides.
        self.widget_frame_options = None if frame_origins else "SAMEORIGIN"
        self.page_policy = _PAGE_POLICY.format(ancestors="'none'")
        self._warned_undeclared_proxy = False
        self.trusted_proxies = frozenset(
            _ip(item, "trusted_proxies")
            for item in re.split(r"[\s,]+", settings.trusted_proxies.strip())
            if item
        )

    def client_address(self, request: web.Request) -> str:
        """The peer; from a trusted proxy, the last forwarded address that is not one."""
        peer = request.remote or "unknown"
        if not self.trusted_proxies or _ip_or_none(peer) not in self.trusted_proxies:
            return peer
        forwarded = ",".join(request.headers.getall(hdrs.X_FORWARDED_FOR, []))
        for item in reversed([part.strip() for part in forwarded.split(",")]):
            address = _ip_or_none(item)
            if address is None:
                break  # garbage: trust nothing further along
            if address not in self.trusted_proxies:
                return str(address)
        return peer

    def is_local(self, request: web.Request) -> bool:
        """A client on the gateway's own machine: a loopback peer that is not a declared
        proxy and forwards nobody else's requests."""
        peer = _ip_or_none(request.remote or "")
        if peer is None or not peer.is_loopback or peer in self.trusted_proxies:
            return False
        if any(name in request.headers for name in _FORWARDING_HEADERS):
            if not self._warned_undeclared_proxy:
                self._warned_undeclared_proxy = True
                log.warning(
                    "requests from %s carry X-Forwarded-For or Forwarded, but ASSISTANT_TRUSTED_PROXIES "
                    "does not list %s: every customer behind that proxy shares its one "
                    "address's rate limits (list the proxy's address there)",
                    peer,
                    peer,
                )
            return False
        return True

    def origin_allowed(self, request: web.Request) -> bool:
        """No Origin header (not a browser page), the gateway's own origin (as the browser
        reached it: the Host header, or as configured), or one of `allowed_origins`."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return True
        try:
            url = URL(origin)
        except ValueError:
            return False
        if not url.absolute or url.scheme not in {"http", "https"} or url.path not in {"", "/"}:
            return False  # "null" (sandboxed frames, file:) and anything malformed
        key = _origin_key(url)
        if key in self.allowed_origins:
            return True
        try:
            reached = URL(f"{url.scheme}://{request.host}")
        except ValueError:
            return False
        return _origin_key(reached) == key

    def headers_for(self, path: str, content_type: str, status: int) -> Iterable[tuple[str, str]]:
        """The widget page may be framed as configured; any other HTML page (the agent
        console, analytics) never; anything else is no page and may do nothing. A 304
        may be a page: the browser keeps its headers (CSP too) for the cached copy; on a
        script or style a page's policy does nothing."""
        is_page = content_type == "text/html" or status == 304
        if is_page and path == _WIDGET_PAGE:
            yield "Content-Security-Policy", self.widget_policy
            if self.widget_frame_options:
                yield "X-Frame-Options", self.widget_frame_options
            return
        yield "Content-Security-Policy", self.page_policy if is_page else _RESOURCE_POLICY
        yield "X-Frame-Options", "DENY"


WEB_GUARD = web.AppKey("web_guard", WebGuard)


def _needs_origin_check(request: web.Request) -> bool:
    if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        return True
    return request.method not in _SAFE_METHODS and request.path.startswith("/api/agent/")


@web.middleware
async def edge_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    guard = request.app[WEB_GUARD]
    request[CLIENT_ADDRESS] = guard.client_address(request)
    request[LOCAL_CLIENT] = guard.is_local(request)
    if _needs_origin_check(request) and not guard.origin_allowed(request):
        return json_error(
            403,
            "forbidden_origin",
            f"requests from pages of {request.headers.get(hdrs.ORIGIN)!s} are not accepted "
            "here (ASSISTANT_ALLOWED_ORIGINS lists the origins that are)",
        )
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    # aiohttp would name itself with its version; this runs before it does (setdefault).
    headers[hdrs.SERVER] = SERVER_NAME
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    policies = request.app[WEB_GUARD].headers_for(
        request.path, response.content_type, response.status
    )
    for name, value in policies:
        headers[name] = value


def customer_limits(
    settings: Settings, redis_client: redis_asyncio.Redis | None = None
) -> CustomerLimits:
    """In this process; the rates in Redis when gateways share one (rate_limit_redis.py).
    Open websockets are counted per replica: each replica holds its own sockets."""
    messages_limit = settings.messages_per_conversation_per_minute
    conversations_limit = settings.conversations_per_address_per_minute
    searches_limit = settings.searches_per_address_per_minute
    # A person types in bursts: a word's worth of keystrokes back to back.
    search_burst = max(1, searches_limit // 10)
    messages: RateLimiter
    conversations: RateLimiter
    searches: RateLimiter
    if redis_client is not None:
        messages = RedisRateLimiter(
            redis_client, "messages", messages_limit, burst=settings.message_burst
        )
        conversations = RedisRateLimiter(redis_client, "conversations", conversations_limit)
        searches = RedisRateLimiter(redis_client, "searches", searches_limit, burst=search_burst)
    else:
        messages = LocalRateLimiter(messages_limit, burst=settings.message_burst)
        conversations = LocalRateLimiter(conversations_limit)
        searches = LocalRateLimiter(searches_limit, burst=search_burst)
    return CustomerLimits(
        messages=messages,
        conversations=conversations,
        searches=searches,
        sockets=LocalConcurrencyLimiter(settings.websockets_per_address),
    )


def install(app: web.Application, settings: Settings) -> None:
    """Headers, the Origin check, client addresses and the rate limits. Raises ValueError
    for an origin or proxy setting that is not a list of origins or IP addresses."""
    app[WEB_GUARD] = WebGuard(settings)
    redis_client = shared_redis(settings, socket_timeout=2)
    app[LIMITS] = customer_limits(settings, redis_client)
    if redis_client is not None:

        async def close_redis(_: web.Application) -> None:
            await redis_client.aclose()

        app.on_cleanup.append(close_redis)
    app.middlewares.append(edge_middleware)
    app.on_response_prepare.append(_security_headers)


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a NUL in a header, a broken request line)
    as an ERROR with a traceback, though the client already got its 400: a client's
    mistake, not ours. Such records become one WARNING line that says what was wrong
    (the offending bytes left out: they are the client's, and may be anything)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = str(error.message).splitlines()[0] if error.message else "malformed"
            record.msg = "refused a malformed HTTP request (%s): %s"
            record.args = (error.code, reason[:120])
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_malformed_requests() -> None:
    """Install MalformedRequestFilter on aiohttp's server logger."""
    logging.getLogger("aiohttp.server").addFilter(MalformedRequestFilter())

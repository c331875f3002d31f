"""Origin allowlist, client addresses behind proxies, and the header policies
(handoff/web/guard.py), on requests made up here."""

from __future__ import annotations

import logging
import sys

import pytest
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.test_utils import make_mocked_request

from handoff.web.guard import MalformedRequestFilter, WebGuard, parse_origins
from stack.settings import Settings


def request(headers: dict[str, str], peer: str = "127.0.0.1") -> object:
    made = make_mocked_request("GET", "/api/agent/ws", headers=headers)
    made._transport_peername = (peer, 50000)  # read by request.remote
    return made


def guard(**changes: object) -> WebGuard:
    return WebGuard(Settings(gateway_port=8080).replace(**changes))


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("127.0.0.1:8080", None, True),  # not a browser page
        ("127.0.0.1:8080", "http://127.0.0.1:8080", True),  # the gateway's own
        ("support.example.com", "https://support.example.com", True),  # as reached
        ("localhost:8080", "http://localhost:8080", True),
        ("127.0.0.1:8080", "http://127.0.0.1:8081", False),  # another port is another origin
        ("127.0.0.1:8080", "https://evil.example.net", False),
        ("127.0.0.1:8080", "null", False),  # sandboxed frames, file: pages
        ("127.0.0.1:8080", "https://shop.example.com", True),  # configured
        ("127.0.0.1:8080", "https://SHOP.example.com", True),
        ("127.0.0.1:8080", "http://shop.example.com", False),  # scheme matters
    ],
)
def test_origin_allowlist(host: str, origin: str | None, allowed: bool) -> None:
    headers = {"Host": host} if origin is None else {"Host": host, "Origin": origin}
    checker = guard(allowed_origins="https://shop.example.com, https://www.example.com")
    assert checker.origin_allowed(request(headers)) is allowed  # type: ignore[arg-type]


def test_origin_settings_must_be_origins() -> None:
    assert parse_origins(" https://a.example.com,http://b.example.com:8443 ", "x") == (
        "https://a.example.com",
        "http://b.example.com:8443",
    )
    for bad in ("shop.example.com", "https://a.example.com; script-src *", "'unsafe-inline'"):
        with pytest.raises(ValueError, match="ASSISTANT_ALLOWED_ORIGINS"):
            parse_origins(bad, "allowed_origins")
    with pytest.raises(ValueError, match="no wildcards"):
        guard(allowed_origins="https://*.example.com")
    framed = guard(widget_frame_origins="https://*.example.com").widget_policy
    assert "frame-ancestors 'self' https://*.example.com" in framed  # CSP has them


def test_client_address_behind_trusted_proxies_only() -> None:
    forwarded = {"Host": "x", "X-Forwarded-For": "203.0.113.9, 10.0.0.2"}
    plain = guard()
    assert plain.client_address(request(forwarded, peer="10.0.0.1")) == "10.0.0.1"  # type: ignore[arg-type]
    proxied = guard(trusted_proxies="10.0.0.1 10.0.0.2")
    assert proxied.client_address(request(forwarded, peer="10.0.0.1")) == "203.0.113.9"  # type: ignore[arg-type]
    # from anyone else the header is a claim, not an address
    assert proxied.client_address(request(forwarded, peer="198.51.100.7")) == "198.51.100.7"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ASSISTANT_TRUSTED_PROXIES"):
        guard(trusted_proxies="proxy.local")


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "local"),
    [
        ("127.0.0.1", {}, "", True),  # a script, a benchmark, a probe on this machine
        ("127.0.0.53", {}, "", True),
        ("::1", {}, "", True),
        ("10.0.0.1", {}, "", False),
        ("198.51.100.7", {}, "", False),
        ("127.0.0.1", {}, "127.0.0.1", False),  # a declared proxy is never the client
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, "", False),  # an undeclared one
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, "", False),
        ("not-an-address", {}, "", False),
    ],
)
def test_a_client_on_this_machine_is_local(
    peer: str, headers: dict[str, str], trusted: str, local: bool
) -> None:
    made = request({"Host": "x", **headers}, peer=peer)
    assert guard(trusted_proxies=trusted).is_local(made) is local  # type: ignore[arg-type]


def test_an_undeclared_proxy_on_this_machine_is_named_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    edge = guard()
    forwarded = {"Host": "x", "X-Forwarded-For": "203.0.113.9"}
    with caplog.at_level(logging.WARNING, logger="handoff.web.guard"):
        for _ in range(3):
            assert not edge.is_local(request(forwarded))  # type: ignore[arg-type]
    warnings = [r.getMessage() for r in caplog.records if r.name == "handoff.web.guard"]
    assert len(warnings) == 1
    assert "ASSISTANT_TRUSTED_PROXIES" in warnings[0] and "127.0.0.1" in warnings[0]
    assert "203.0.113.9" not in warnings[0]  # a customer's address is not logged


def test_pages_and_the_rest_get_their_policies() -> None:
    html = "text/html"
    framed = dict(
        guard(widget_frame_origins="https://shop.example.com").headers_for("/", html, 200)
    )
    assert "frame-ancestors 'self' https://shop.example.com" in framed["Content-Security-Policy"]
    assert "X-Frame-Options" not in framed
    widget = dict(guard().headers_for("/", html, 200))
    assert widget["X-Frame-Options"] == "SAMEORIGIN"
    console = dict(guard().headers_for("/agent", html, 200))
    assert "frame-ancestors 'none'" in console["Content-Security-Policy"]
    assert console["X-Frame-Options"] == "DENY"
    assert dict(guard().headers_for("/agent/analytics", html, 200)) == console  # any other page
    for path, content_type in (("/api/openapi.json", "application/json"), ("/", "text/plain")):
        other = dict(guard().headers_for(path, content_type, 200))
        assert other["Content-Security-Policy"].startswith("default-src 'none'")
        assert "script-src" not in other["Content-Security-Policy"]
        assert other["X-Frame-Options"] == "DENY"
    # a reload answered 304 (no type): the browser keeps this CSP for the cached page
    revalidated = dict(guard().headers_for("/", "application/octet-stream", 304))
    assert revalidated == widget


def test_a_malformed_request_is_logged_as_one_warning_without_traceback() -> None:
    try:
        raise BadHttpMessage("Invalid header value char:\n\n  b'X-Probe: \\x00'")
    except BadHttpMessage:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "Error handling request from %s",
            ("127.0.0.1",),
            sys.exc_info(),
        )
    assert MalformedRequestFilter().filter(record)
    assert record.levelno == logging.WARNING and record.exc_info is None
    line = logging.Formatter().format(record)
    assert "Traceback" not in line and "\\x00" not in line
    assert line == "refused a malformed HTTP request (400): Invalid header value char:"


def test_our_own_errors_keep_their_traceback() -> None:
    try:
        raise KeyError("a bug of ours")
    except KeyError:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "Error handling request",
            (),
            sys.exc_info(),
        )
    assert MalformedRequestFilter().filter(record)
    assert record.levelno == logging.ERROR and record.exc_info is not None

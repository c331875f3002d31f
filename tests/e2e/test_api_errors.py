"""Bad requests get a clear 4xx and never reveal another conversation."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from stack.launcher import Stack
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e


async def post(session: aiohttp.ClientSession, url: str, **kwargs: object) -> tuple[int, dict]:
    async with session.post(url, **kwargs) as r:  # type: ignore[arg-type]
        return r.status, await r.json()


async def test_missing_and_wrong_tokens(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        alice = await Customer(session, gateway_url).start()
        bob = await Customer(session, gateway_url).start()
        await alice.say("hello there")
        url = f"{gateway_url}/api/conversations/{alice.conversation_id}"

        async with session.get(url) as r:
            assert r.status == 401
            assert "Bearer" in (await r.json())["error"]["message"]
        # Bob's valid token does not open Alice's conversation
        async with session.get(url, headers=bob.headers) as r:
            assert r.status == 403
            body = await r.text()
        assert "hello there" not in body
        # an unknown id looks exactly like a wrong token
        async with session.get(
            f"{gateway_url}/api/conversations/not-a-real-id", headers=bob.headers
        ) as r:
            assert r.status == 403
        status, _ = await post(session, f"{url}/messages", json={"text": "hi"}, headers=bob.headers)
        assert status == 403


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"text": ""}', 400, "non-empty"),
        (b'{"text": 42}', 400, "must be a string"),
        (b'{"text": "hi", "client_id": 7}', 400, "client_id"),
        (b'{"text": "hi", "client_id": "' + b"c" * 129 + b'"}', 400, "at most 128"),
        (b'{"payload": "/greet", "text": "' + b"a" * 2001 + b'"}', 400, "limit is 2000"),
        (('{"text": "' + "a" * 2001 + '"}').encode(), 400, "limit is 2000"),
        (b'{"text": "' + b"a" * 70_000 + b'"}', 413, "larger than"),
        (b"\xff\xfe", 400, "UTF-8"),
        # Lone surrogates are no characters: no store or browser can take them.
        (b'{"text": "hi \\ud800"}', 400, "lone surrogate"),
        (b'{"text": "hi", "client_id": "\\udfff"}', 400, "lone surrogate"),
        (b'{"payload": "/greet\\ud83d"}', 400, "lone surrogate"),
        # Nesting deep enough to exhaust the parser, in far less than 64 KiB.
        (b"[" * 30_000 + b"]" * 30_000, 400, "nested too deeply"),
    ],
)
async def test_malformed_or_oversized_messages(
    gateway_url: str, body: bytes, status: int, fragment: str
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        code, payload = await post(
            session,
            f"{gateway_url}/api/conversations/{customer.conversation_id}/messages",
            data=body,
            headers={**customer.headers, "Content-Type": "application/json"},
        )
        transcript = await customer.transcript()
    assert code == status
    assert fragment in payload["error"]["message"]
    assert transcript["messages"] == []  # nothing half-stored


async def test_unsupported_language_is_refused(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        status, payload = await post(
            session, f"{gateway_url}/api/conversations", json={"language": "fr"}
        )
    assert status == 400
    assert "ko, ja, en" in payload["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [b'{"customer": {"name": "\\ud800"}}', b'{"customer":' + b"[" * 30_000 + b"]" * 30_000 + b"}"],
)
async def test_starting_a_conversation_refuses_unusable_json(gateway_url: str, body: bytes) -> None:
    async with aiohttp.ClientSession() as session:
        status, payload = await post(
            session,
            f"{gateway_url}/api/conversations",
            data=body,
            headers={"Content-Type": "application/json"},
        )
    assert status == 400
    assert payload["error"]["message"].startswith("the body ")


async def test_undecodable_bytes_in_the_authorization_header_are_a_401(live_stack: Stack) -> None:
    """A raw 0xFF in the header (no client library sends it: a hand-made request) used to
    reach the token hashing and end as a 500."""
    settings = live_stack.settings
    reader, writer = await asyncio.open_connection(settings.host, settings.gateway_port)
    writer.write(
        b"GET /api/conversations/x HTTP/1.1\r\nHost: t\r\n"
        b"Authorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401")
    assert json.loads(body)["error"]["code"] == "unauthorized"


async def test_sockets_closed_before_their_hello_leave_no_traceback(live_stack: Stack) -> None:
    url = live_stack.settings.gateway_url
    log = live_stack.log_path("gateway")
    start = log.stat().st_size
    async with aiohttp.ClientSession() as session:
        for path in ("/api/conversations/x/ws", "/api/agent/ws"):
            for _ in range(20):
                ws = await session.ws_connect(f"{url}{path}")
                await ws.close()
        async with session.get(f"{url}/healthz") as r:  # the gateway is fine
            assert r.status == 200
    await asyncio.sleep(0.5)
    with log.open("rb") as written:
        written.seek(start)
        assert b"Traceback" not in written.read()

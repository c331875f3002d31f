"""Bad requests get a clear 4xx and never reveal another conversation."""

from __future__ import annotations

import aiohttp
import pytest

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
        (b'{"text": 42}', 400, "non-empty"),
        (('{"text": "' + "a" * 2001 + '"}').encode(), 400, "limit is 2000"),
        (b'{"text": "' + b"a" * 70_000 + b'"}', 413, "larger than"),
        (b"\xff\xfe", 400, "UTF-8"),
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

"""One customer across devices (issue 14, item 8), over HTTP against the real stack: a
conversation started with a signed identity on one device is listed, and opens read-only,
on another; a badly signed or expired identity gets a clear error; another customer's
identity lists none of it and its history token opens none of it."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from handoff.customer.identity import signed_fields
from stack.launcher import Stack
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e

QUESTION = {"ko": "배송 얼마나 걸려요?", "ja": "送料いくら", "en": "how long does shipping take"}
NAME = {"ko": "김민아", "ja": "山田花子", "en": "Mina Kim"}


async def _history(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with session.post(f"{url}/api/customers/history", json=body) as r:
        return r.status, await r.json()


async def _transcript(
    session: aiohttp.ClientSession, url: str, conversation_id: str, token: str
) -> tuple[int, dict[str, Any]]:
    async with session.get(
        f"{url}/api/customers/history/{conversation_id}",
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        return r.status, await r.json()


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_conversation_on_one_device_is_in_the_history_on_another(
    live_stack: Stack, language: str
) -> None:
    url = live_stack.settings.gateway_url
    secret = live_stack.settings.identity_secret
    assert secret, "the live stack needs an identity secret"
    email = f"{uuid.uuid4().hex}@example.com"
    customer = {"id": f"cust-{uuid.uuid4().hex}", "email": email, "name": NAME[language]}

    # Device A: the host site signs the identity; the customer asks something.
    async with aiohttp.ClientSession() as device_a:
        body = {"language": language, **signed_fields(secret, customer, 600)}
        async with device_a.post(f"{url}/api/conversations", json=body) as r:
            assert r.status == 201, await r.text()
            started = await r.json()
        on_a = Customer(device_a, url)
        on_a.conversation_id, on_a.token = started["conversation_id"], started["token"]
        reply = await on_a.say(QUESTION[language])
        assert reply["replies"], reply

    # Device B: another client, the same customer signed in (a signature made later).
    async with aiohttp.ClientSession() as device_b:
        status, listed = await _history(device_b, url, signed_fields(secret, customer, 300))
        assert status == 200, listed
        items = {item["conversation_id"]: item for item in listed["conversations"]}
        assert list(items) == [on_a.conversation_id]
        item = items[on_a.conversation_id]
        assert item["language"] == language
        assert item["state"] == "bot"
        assert item["preview"] == reply["replies"][-1]["text"][:120]

        status, transcript = await _transcript(
            device_b, url, on_a.conversation_id, listed["history_token"]
        )
        assert status == 200, transcript
        roles_and_texts = [(m["role"], m["text"]) for m in transcript["messages"]]
        assert ("customer", QUESTION[language]) in roles_and_texts
        assert any(role == "bot" for role, _ in roles_and_texts)

    log = live_stack.log_path("gateway").read_text(encoding="utf-8", errors="replace")
    assert email not in log


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"identity_signature": "0" * 64}, "invalid_identity_signature"),
        ({"identity_expires": 1}, "identity_expired"),
        ({"customer": {"email": "a@example.com"}}, "invalid_identity"),
    ],
)
async def test_a_bad_or_expired_identity_gets_a_clear_error(
    live_stack: Stack, change: dict[str, Any], code: str
) -> None:
    url = live_stack.settings.gateway_url
    body = signed_fields(live_stack.settings.identity_secret, {"id": "c-1", "email": "a@b"}, 600)
    body.update(change)
    async with aiohttp.ClientSession() as session:
        status, answer = await _history(session, url, body)
    assert status == 400
    assert answer["error"]["code"] == code
    assert answer["error"]["message"]


async def test_another_customer_can_neither_list_nor_open_these(live_stack: Stack) -> None:
    url = live_stack.settings.gateway_url
    secret = live_stack.settings.identity_secret
    owner = {"id": f"cust-{uuid.uuid4().hex}", "email": "owner@example.com"}
    other = {"id": f"cust-{uuid.uuid4().hex}", "email": "owner@example.com"}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/api/conversations", json=signed_fields(secret, owner, 600)
        ) as r:
            conversation = await r.json()
        mine = Customer(session, url)
        mine.conversation_id, mine.token = conversation["conversation_id"], conversation["token"]
        await mine.say("where is my order")

        status, listed = await _history(session, url, signed_fields(secret, other, 600))
        assert status == 200
        assert listed["conversations"] == []
        status, answer = await _transcript(
            session, url, mine.conversation_id, listed["history_token"]
        )
        assert status == 403
        assert answer["error"]["message"]
        # Nor does the conversation's own token stand in for a history token.
        status, answer = await _transcript(session, url, mine.conversation_id, mine.token)
        assert status == 401
        assert answer["error"]["code"] == "invalid_history_token"

"""Earlier conversations are shown to agents only for an identity the host site signed:
typing someone's email (or id) into a new chat shows the agent nothing of theirs."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from handoff.customer.identity import signed_fields
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, handed_to

pytestmark = pytest.mark.e2e


async def _start(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any]
) -> tuple[Customer, str]:
    async with session.post(f"{url}/api/conversations", json={"language": "en", **body}) as r:
        assert r.status == 201, await r.text()
        data = await r.json()
    customer = Customer(session, url)
    customer.conversation_id, customer.token = data["conversation_id"], data["token"]
    await customer.say("how long does shipping take")
    return customer, customer.conversation_id


async def _agent_context(agent: AgentClient, customer: Customer) -> dict[str, Any]:
    """Hand the chat to the agent and return what the console shows about the customer."""
    view = await handed_to(agent, customer, "talk to a human")
    status, _ = await agent.resolve(customer.conversation_id)
    assert status == 200
    context: dict[str, Any] = view["customer"]
    return context


async def test_a_self_typed_email_links_no_earlier_conversations(
    live_stack: Stack, agents: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    secret = live_stack.settings.identity_secret
    victim = {"id": f"victim-{uuid.uuid4().hex}", "email": f"{uuid.uuid4().hex}@example.com"}
    async with aiohttp.ClientSession() as session:
        agent = await AgentClient(session, url).login("alice", agents["alice"])
        # The real customer, signed in on the host site, and once typing their email.
        await _start(session, url, signed_fields(secret, {**victim, "name": "Mina"}, 600))
        await _start(session, url, {"customer": {"email": victim["email"], "name": "Mina"}})

        # Someone else types the same email, even the same id: no history for them.
        impostor, _ = await _start(session, url, {"customer": {**victim, "name": "Not Mina"}})
        context = await _agent_context(agent, impostor)
    assert context["verified"] is False
    assert context["earlier_conversations"] == []
    # What they typed is still shown to the agent, labelled as unverified.
    assert (context["email"], context["name"]) == (victim["email"], "Not Mina")


async def test_a_signed_identity_links_its_earlier_conversations(
    live_stack: Stack, agents: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    secret = live_stack.settings.identity_secret
    customer = {"id": f"cust-{uuid.uuid4().hex}", "email": "hana@example.jp", "name": "山田花子"}
    async with aiohttp.ClientSession() as session:
        agent = await AgentClient(session, url).login("alice", agents["alice"])
        _, first_id = await _start(session, url, signed_fields(secret, customer, 600))
        # The same email typed by someone, and another signed customer: not linked.
        await _start(session, url, {"customer": customer})
        other = {**customer, "id": f"cust-{uuid.uuid4().hex}"}
        await _start(session, url, signed_fields(secret, other, 600))

        second, _ = await _start(session, url, signed_fields(secret, customer, 600))
        context = await _agent_context(agent, second)
    assert context["verified"] is True
    assert (context["id"], context["name"]) == (customer["id"], "山田花子")
    earlier = context["earlier_conversations"]
    assert [item["conversation_id"] for item in earlier] == [first_id]
    assert earlier[0]["summary"] == "how long does shipping take"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"identity_signature": "0" * 64}, "invalid_identity_signature"),
        ({"identity_expires": 1}, "identity_expired"),
        ({"identity_signature": None, "identity_expires": 1}, "invalid_identity"),
    ],
)
async def test_a_bad_signature_is_refused_with_a_reason(
    live_stack: Stack, change: dict[str, Any], code: str
) -> None:
    url = live_stack.settings.gateway_url
    body = signed_fields(live_stack.settings.identity_secret, {"id": "c-1", "email": "a@b"}, 600)
    body.update(change)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/conversations", json=body) as r,
    ):
        assert r.status == 400
        error = (await r.json())["error"]
    assert error["code"] == code
    assert error["message"]

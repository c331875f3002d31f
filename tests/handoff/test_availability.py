"""Agents' availability (HandoffService.set_availability): online, away and busy as routing,
the customers' wait estimate, the consoles' queue frames, a supervisor's reassign and the
live view see them; and auto-away once the last console has been closed for the grace
period (ONLINE_SECONDS)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handoff.agent.analytics_api import live_state
from handoff.conversation import handoff_service
from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import (
    DEFAULT_HANDLING_SECONDS,
    ONLINE_SECONDS,
    HandoffError,
    HandoffService,
    agent_channel,
)
from handoff.conversation.models import Agent, Availability, Conversation
from handoff.conversation.queue_broadcast import READY_ESTIMATE_SECONDS
from handoff.customer.texts import GatewayTexts, load_texts
from handoff.realtime.hub import Frame, Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings
from tests.handoff.test_abandon import FakeRasa


@dataclass
class Desk:
    store: SQLiteStore
    handoffs: HandoffStore
    hub: Hub
    service: HandoffService
    texts: GatewayTexts

    async def agent(self, username: str) -> Agent:
        """The agent as a request reads them (signed_in_agent): fresh from the store."""
        found = await self.handoffs.agent(username)
        assert found is not None
        return found

    async def set(self, username: str, availability: Availability) -> Agent:
        return await self.service.set_availability(await self.agent(username), availability)

    async def waiting(self, language: str = "en") -> Conversation:
        conversation, _ = await self.store.create_conversation(language, {})
        await self.store.add_message(conversation.id, "customer", "talk to a person please")
        await self.service.escalate(conversation, {"reason": "requested"})
        return conversation

    async def queued_for(self, username: str) -> list[str]:
        items = await self.service.queue_for(await self.agent(username))
        return [item["conversation_id"] for item in items]

    async def estimate(self, conversation: Conversation) -> int:
        """The customer's wait estimate now, computed from a fresh read of the queue."""
        handoff = await self.handoffs.open_handoff(conversation.id)
        assert handoff is not None and handoff.status == "queued"
        status = self.service.queue_status(handoff, await self.service.snapshot())
        return status["estimated_wait_seconds"]


def drained(queue: asyncio.Queue[Frame | None]) -> list[Frame]:
    frames: list[Frame] = []
    while not queue.empty():
        frame = queue.get_nowait()
        assert frame is not None
        frames.append(frame)
    return frames


@pytest.fixture
async def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Desk]:
    # Load read at every flush (not at most once a second): each step's numbers are its own.
    monkeypatch.setattr(handoff_service, "CUSTOMER_INTERVAL", 0.0)
    monkeypatch.setattr(handoff_service, "AGENT_INTERVAL", 0.0)
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    hub, rasa = Hub(), FakeRasa()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, max_attempts=5)  # type: ignore[arg-type]
    service = HandoffService(store, handoffs, rasa, relay, hub, texts, {})  # type: ignore[arg-type]
    await handoffs.upsert_agent("lead", "pw-lead-1", [], [], 1, "Lead", "supervisor")
    await handoffs.upsert_agent("alice", "pw-alice-1", ["en", "ko"], [], 3, "Alice")
    await handoffs.upsert_agent("bob", "pw-bob-1", ["en", "ko"], [], 1, "Bob")
    for name in ("alice", "bob"):
        service.presence.sockets[name] = 1  # a console is open
    await service.refresh_agents()
    yield Desk(store, handoffs, hub, service, texts)
    await service.aclose()
    await store.close()


# -- routing ----------------------------------------------------------------------------


@pytest.mark.parametrize("availability", ["away", "busy"])
async def test_away_and_busy_agents_are_offered_no_new_chats(
    desk: Desk, availability: Availability
) -> None:
    await desk.set("alice", availability)
    conversation = await desk.waiting()

    assert await desk.queued_for("alice") == []
    assert await desk.queued_for("bob") == [conversation.id]
    with pytest.raises(HandoffError) as refused:
        await desk.service.accept(await desk.agent("alice"), conversation.id)
    assert refused.value.code == "not_available"
    assert availability in str(refused.value)
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and handoff.status == "queued"  # still waiting, for bob
    view = await desk.service.accept(await desk.agent("bob"), conversation.id)
    assert view["conversation_id"] == conversation.id


@pytest.mark.parametrize("availability", ["away", "busy"])
async def test_chats_they_have_stay_theirs_to_work_and_resolve(
    desk: Desk, availability: Availability
) -> None:
    conversation = await desk.waiting()
    await desk.service.accept(await desk.agent("alice"), conversation.id)

    alice = await desk.set("alice", availability)

    assert [h.conversation_id for h in await desk.handoffs.assigned_to("alice")] == [
        conversation.id
    ]
    view = await desk.service.agent_view(alice, conversation.id)
    assert view["state"] == "assigned"
    message = await desk.service.agent_message(alice, conversation.id, "Still with you.")
    assert message.role == "agent"
    await desk.service.resolve(alice, conversation.id)
    assert await desk.handoffs.open_handoff(conversation.id) is None


async def test_the_wait_estimate_counts_only_agents_who_take_chats(desk: Desk) -> None:
    # bob's only seat is taken; alice (3 seats) is free
    first = await desk.waiting()
    await desk.service.accept(await desk.agent("bob"), first.id)
    waiting = await desk.waiting()
    assert await desk.estimate(waiting) == READY_ESTIMATE_SECONDS  # alice has a free seat

    customer = desk.hub.subscribe(waiting.id)
    await desk.set("alice", "busy")
    # only bob counts now, with no free seat: a whole round of handling
    assert await desk.estimate(waiting) == DEFAULT_HANDLING_SECONDS
    await desk.service.queue_idle()
    pushed = [f for f in drained(customer) if f.get("state") == "queued"]
    assert pushed[-1]["queue"] == {"position": 1, "estimated_wait_seconds": 240}

    await desk.set("alice", "online")  # counted again
    assert await desk.estimate(waiting) == READY_ESTIMATE_SECONDS
    await desk.service.queue_idle()
    pushed = [f for f in drained(customer) if f.get("state") == "queued"]
    assert pushed[-1]["queue"] == {"position": 1, "estimated_wait_seconds": 30}


async def test_nobody_taking_chats_gets_the_customer_the_offline_notice(desk: Desk) -> None:
    await desk.set("alice", "away")
    await desk.set("bob", "busy")
    conversation = await desk.waiting()
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and handoff.context.get("offline") is True
    said = [m.text for m in await desk.store.messages(conversation.id) if m.role == "system"]
    assert said == [desk.texts.say("nobody", "en")]

    await desk.set("bob", "online")
    other = await desk.waiting()
    queued = await desk.handoffs.open_handoff(other.id)
    assert queued is not None and not queued.context.get("offline")


async def test_back_online_an_agent_sees_the_queue_and_takes_the_next_chat(desk: Desk) -> None:
    await desk.set("alice", "away")
    conversation = await desk.waiting()
    assert await desk.queued_for("alice") == []

    alice = await desk.set("alice", "online")

    assert alice.availability == "online"
    assert await desk.queued_for("alice") == [conversation.id]
    view = await desk.service.accept(await desk.agent("alice"), conversation.id)
    assert view["conversation_id"] == conversation.id


async def test_consoles_get_the_availability_and_an_empty_queue_while_away(desk: Desk) -> None:
    conversation = await desk.waiting()
    await desk.service.queue_idle()
    alice, bob = (
        desk.hub.subscribe(agent_channel("alice")),
        desk.hub.subscribe(agent_channel("bob")),
    )

    await desk.set("alice", "away")
    await desk.service.queue_idle()

    frames = drained(alice)
    assert {"type": "availability", "availability": "away"} in frames
    queues = [f for f in frames if f["type"] == "queue"]
    assert queues and queues[-1]["items"] == []
    assert not [f for f in drained(bob) if f["type"] == "availability"]  # alice's only

    # a change made on another replica (straight in the store) reaches this one's consoles
    # with the next flush: the queue frames' fingerprint includes who takes chats
    await desk.handoffs.set_availability("alice", "online")
    await desk.service.resync_queue()
    await desk.service.queue_idle()
    queues = [f for f in drained(alice) if f["type"] == "queue"]
    assert queues and [i["conversation_id"] for i in queues[-1]["items"]] == [conversation.id]


# -- a supervisor's reassign ------------------------------------------------------------


async def test_a_supervisor_cannot_give_an_away_agent_a_chat_even_by_force(desk: Desk) -> None:
    lead = await desk.agent("lead")
    conversation = await desk.waiting()
    await desk.set("bob", "away")
    for force in (False, True):
        with pytest.raises(HandoffError) as refused:
            await desk.service.reassign(lead, conversation.id, "bob", force=force)
        assert refused.value.code == "agent_away"


async def test_a_busy_agent_gets_a_chat_from_a_supervisor_only_by_force(desk: Desk) -> None:
    lead = await desk.agent("lead")
    conversation = await desk.waiting()
    await desk.set("bob", "busy")
    with pytest.raises(HandoffError) as refused:
        await desk.service.reassign(lead, conversation.id, "bob")
    assert refused.value.code == "agent_busy"
    result = await desk.service.reassign(lead, conversation.id, "bob", force=True)
    assert (result["agent"], result["forced"]) == ("bob", True)


# -- auto-away and what supervisors see ---------------------------------------------------


async def test_the_last_console_closed_past_the_grace_period_means_away(desk: Desk) -> None:
    service = desk.service
    alice = await desk.agent("alice")
    signed_in = {"alice"}
    assert service.status_of(alice, signed_in) == "online" and service.takes_new_chats(alice)

    # the console closes (as the socket's end does): within the grace period still here
    service.presence.sockets["alice"] = 0
    service.presence.last_seen["alice"] = time.time() - ONLINE_SECONDS + 30
    assert service.status_of(alice, signed_in) == "online" and service.takes_new_chats(alice)

    # past it: away, whatever she set, and no chats counted on her
    service.presence.last_seen["alice"] = time.time() - ONLINE_SECONDS - 1
    for availability in ("online", "busy", "away"):
        alice = await desk.set("alice", availability)
        assert service.status_of(alice, signed_in) == "away"
        assert not service.takes_new_chats(alice)
    assert service.status_of(alice, set()) == "offline"  # no session at all

    # a console again: what she set
    service.presence.sockets["alice"] = 1
    assert service.status_of(await desk.set("alice", "busy"), signed_in) == "busy"
    alice = await desk.set("alice", "online")
    assert service.status_of(alice, signed_in) == "online" and service.takes_new_chats(alice)


async def test_signing_out_leaves_no_grace_period(desk: Desk) -> None:
    service = desk.service
    service.presence.sockets["alice"] = 0
    service.presence.seen("alice")
    assert service.presence.online("alice")
    service.presence.forget("alice")
    assert not service.presence.online("alice")
    service.presence.sockets["alice"] = 1  # a console still open elsewhere keeps her here
    service.presence.forget("alice")
    assert service.presence.online("alice")


async def test_the_live_view_shows_each_agents_availability(desk: Desk) -> None:
    for name in ("alice", "bob", "lead"):
        assert await desk.handoffs.login(name, f"pw-{name}-1") is not None
    await desk.handoffs.upsert_agent("kenji", "pw-kenji-1", ["ja"], [], 2, "Kenji")
    await desk.set("bob", "busy")
    desk.service.presence.last_seen.pop("lead", None)  # signed in, no console: away

    state: dict[str, Any] = await live_state(desk.service)

    by_name = {a["username"]: a for a in state["agents"]}
    assert {name: a["availability"] for name, a in by_name.items()} == {
        "alice": "online",
        "bob": "busy",
        "lead": "away",
        "kenji": "offline",  # never signed in
    }
    assert (by_name["bob"]["online"], by_name["lead"]["online"]) == (True, False)
    assert state["agents_online"] == 1  # those who take new chats
    assert [a["username"] for a in state["agents"]] == ["alice", "bob", "lead", "kenji"]

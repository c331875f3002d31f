"""An agent transfers their chat (HandoffService.transfer): to a colleague or to a team's
queue, with a reason that reaches the next agent and never the customer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import HandoffError, HandoffService, agent_channel
from handoff.conversation.models import Agent, Conversation
from handoff.customer.texts import load_texts
from handoff.realtime.hub import Frame, Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings
from tests.handoff.test_abandon import FakeRasa

CARD = "4111 1111 1111 1111"
REASON = "refund over 100 dollars: needs billing"


@dataclass
class Desk:
    store: SQLiteStore
    handoffs: HandoffStore
    hub: Hub
    service: HandoffService
    alice: Agent  # en, ko; no skill
    bob: Agent  # en, ko; billing; one seat
    kenji: Agent  # ja
    mina: Agent  # ko; billing

    async def with_alice(self, language: str = "en") -> Conversation:
        conversation, _ = await self.store.create_conversation(language, {})
        await self.store.add_message(conversation.id, "customer", "talk to a person please")
        await self.service.escalate(conversation, {"reason": "requested"})
        await self.service.accept(self.alice, conversation.id)
        return conversation


def drained(queue: asyncio.Queue[Frame | None]) -> list[Frame]:
    frames: list[Frame] = []
    while not queue.empty():
        frame = queue.get_nowait()
        assert frame is not None
        frames.append(frame)
    return [f for f in frames if f["type"] != "queue"]  # queue snapshots may come too


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    hub, rasa = Hub(), FakeRasa()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, max_attempts=5)  # type: ignore[arg-type]
    service = HandoffService(store, handoffs, rasa, relay, hub, texts, {})  # type: ignore[arg-type]
    alice = await handoffs.upsert_agent("alice", "pw-alice-1", ["en", "ko"], [], 3, "Alice")
    bob = await handoffs.upsert_agent("bob", "pw-bob-1", ["en", "ko"], ["billing"], 1, "Bob")
    kenji = await handoffs.upsert_agent("kenji", "pw-kenji-1", ["ja"], [], 2, "Kenji")
    mina = await handoffs.upsert_agent("mina", "pw-mina-1", ["ko"], ["billing"], 2, "Mina")
    for person in (alice, bob, kenji, mina):
        service.presence.sockets[person.username] = 1  # a console is open
    await service.refresh_agents()
    yield Desk(store, handoffs, hub, service, alice, bob, kenji, mina)
    await service.aclose()
    await store.close()


async def test_a_transfer_to_a_colleague_moves_the_chat_with_its_reason(desk: Desk) -> None:
    conversation = await desk.with_alice()
    customer = desk.hub.subscribe(conversation.id)
    old = desk.hub.subscribe(agent_channel("alice"))
    new = desk.hub.subscribe(agent_channel("bob"))

    result = await desk.service.transfer(
        desk.alice, conversation.id, f"{REASON}, card {CARD}", to_agent="bob"
    )

    assert result == {
        "conversation_id": conversation.id,
        "state": "assigned",
        "agent": "bob",
        "from_agent": "alice",
    }
    event = (await desk.store.events(conversation.id))[-1]
    assert (event.name, event.from_state, event.to_state) == ("transfer", "assigned", "assigned")
    assert event.data["from_agent"] == "alice" and event.data["to_agent"] == "bob"
    assert event.data["reason"].startswith(REASON) and CARD not in event.data["reason"]
    # the old console drops it, as after a supervisor's reassign
    assert drained(old) == [
        {
            "type": "state",
            "conversation_id": conversation.id,
            "state": "reassigned",
            "agent": "bob",
            "by": "alice",
            "transfer": True,
        }
    ]
    # the new one gets the whole chat, and the transfer with its reason
    [given] = drained(new)
    assert given["type"] == "assigned" and given["transfer"]["from_agent"] == "alice"
    [listed] = given["view"]["transfers"]
    assert (listed["from_agent"], listed["to_agent"]) == ("alice", "bob")
    assert listed["reason"] == event.data["reason"]
    assert listed["after_seq"] == given["view"]["transcript"][-2]["seq"]  # before the notice
    assert "talk to a person please" in [t["text"] for t in given["view"]["transcript"]]
    # the customer: a polite line and the new name, never the reason
    frames = drained(customer)
    assert REASON not in str(frames)
    notice = next(f for f in frames if f["type"] == "message")
    assert notice["role"] == "system" and "Bob" in notice["text"]
    assert {"type": "state", "state": "assigned", "agent": "Bob"} in frames
    assert all(REASON not in m.text for m in await desk.store.messages(conversation.id))
    with pytest.raises(HandoffError) as refused:
        await desk.service.agent_message(desk.alice, conversation.id, "still here?")
    assert refused.value.code == "not_yours"
    await desk.service.agent_message(desk.bob, conversation.id, "Bob here")


@pytest.mark.parametrize(
    ("target", "setup", "code"),
    [
        ("kenji", None, "agent_not_eligible"),  # no English
        ("nobody", None, "unknown_agent"),
        ("alice", None, "already_assigned"),  # to oneself
        ("bob", "away", "agent_away"),
        ("bob", "busy", "agent_busy"),
        ("bob", "gone", "agent_offline"),
        ("bob", "full", "agent_at_capacity"),
    ],
)
async def test_a_colleague_who_cannot_take_it_is_refused(
    desk: Desk, target: str, setup: str | None, code: str
) -> None:
    conversation = await desk.with_alice()
    if setup in ("away", "busy"):
        await desk.handoffs.set_availability("bob", setup)
    elif setup == "gone":
        desk.service.presence.sockets["bob"] = 0
    elif setup == "full":
        other, _ = await desk.store.create_conversation("en", {})
        await desk.service.escalate(other, {"reason": "requested"})
        await desk.service.accept(desk.bob, other.id)
    with pytest.raises(HandoffError) as refused:
        await desk.service.transfer(desk.alice, conversation.id, REASON, to_agent=target)
    assert refused.value.code == code
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and handoff.agent == "alice"  # nothing moved
    assert (await desk.store.events(conversation.id))[-1].name == "assign"


async def test_only_the_agent_who_has_the_chat_transfers_it(desk: Desk) -> None:
    conversation = await desk.with_alice()
    with pytest.raises(HandoffError) as refused:
        await desk.service.transfer(desk.bob, conversation.id, REASON, to_agent="bob")
    assert refused.value.code == "not_yours"
    with pytest.raises(HandoffError) as options:
        await desk.service.transfer_options(desk.bob, conversation.id)
    assert options.value.code == "not_yours"


@pytest.mark.parametrize(("language", "words"), [("ko", "담당 상담원"), ("en", "specialist")])
async def test_a_transfer_to_a_team_queues_the_chat_in_its_place(
    desk: Desk, language: str, words: str
) -> None:
    earlier = await desk.with_alice(language)
    later, _ = await desk.store.create_conversation(language, {})
    await desk.service.escalate(later, {"reason": "requested", "skill": "billing"})
    customer = desk.hub.subscribe(earlier.id)
    old = desk.hub.subscribe(agent_channel("alice"))

    result = await desk.service.transfer(desk.alice, earlier.id, REASON, to_skill="billing")

    assert (result["state"], result["skill"], result["queue"]["position"]) == (
        "queued",
        "billing",
        1,  # queued before `later`: it keeps its place
    )
    event = (await desk.store.events(earlier.id))[-1]
    assert (event.name, event.from_state, event.to_state) == (
        "transfer_to_queue",
        "assigned",
        "queued",
    )
    assert event.data == {
        "from_agent": "alice",
        "to_skill": "billing",
        "reason": REASON,
        "after_seq": (await desk.store.messages(earlier.id))[-2].seq,  # before the notice
    }
    assert drained(old) == [
        {
            "type": "state",
            "conversation_id": earlier.id,
            "state": "reassigned",
            "skill": "billing",
            "by": "alice",
        }
    ]
    # the billing team sees it first; alice (no billing) does not see it at all
    assert [i["conversation_id"] for i in await desk.service.queue_for(desk.bob)] == [
        earlier.id,
        later.id,
    ]
    assert earlier.id not in [
        i["conversation_id"] for i in await desk.service.queue_for(desk.alice)
    ]
    frames = drained(customer)
    notice = next(f for f in frames if f["type"] == "message")
    assert words in notice["text"] and REASON not in str(frames)
    assert {"type": "state", "state": "queued", "queue": result["queue"]} in frames
    # whoever accepts it reads the transfer and its reason
    view = await desk.service.accept(desk.bob, earlier.id)
    [listed] = view["transfers"]
    assert (listed["from_agent"], listed["to_skill"], listed["reason"]) == (
        "alice",
        "billing",
        REASON,
    )


@pytest.mark.parametrize(
    ("skill", "language", "code"),
    [
        ("astrology", "en", "unknown_skill"),
        ("billing", "ja", "team_unavailable"),  # nobody in billing speaks Japanese
    ],
)
async def test_a_team_nobody_can_serve_is_refused(
    desk: Desk, skill: str, language: str, code: str
) -> None:
    conversation, _ = await desk.store.create_conversation(language, {})
    await desk.service.escalate(conversation, {"reason": "requested"})
    holder = desk.kenji if language == "ja" else desk.alice
    await desk.service.accept(holder, conversation.id)
    with pytest.raises(HandoffError) as refused:
        await desk.service.transfer(holder, conversation.id, REASON, to_skill=skill)
    assert refused.value.code == code
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and (handoff.status, handoff.agent) == ("assigned", holder.username)


async def test_a_team_whose_agents_are_all_away_is_refused(desk: Desk) -> None:
    conversation = await desk.with_alice("ko")
    for name in ("bob", "mina"):
        await desk.handoffs.set_availability(name, "away")
    with pytest.raises(HandoffError) as refused:
        await desk.service.transfer(desk.alice, conversation.id, REASON, to_skill="billing")
    assert refused.value.code == "team_unavailable"


async def test_the_options_are_the_colleagues_and_teams_that_can_take_it(desk: Desk) -> None:
    conversation = await desk.with_alice("ko")
    options = await desk.service.transfer_options(desk.alice, conversation.id)
    # not alice herself, not kenji (no Korean); teams with someone online speaking Korean
    assert [a["username"] for a in options["agents"]] == ["bob", "mina"]
    assert options["agents"][0]["display_name"] == "Bob"
    assert options["teams"] == ["billing"]
    await desk.handoffs.set_availability("mina", "busy")
    options = await desk.service.transfer_options(desk.alice, conversation.id)
    assert [a["username"] for a in options["agents"]] == ["bob"]


async def test_two_transfers_at_once_only_one_wins(desk: Desk) -> None:
    conversation = await desk.with_alice("ko")
    results: list[Any] = await asyncio.gather(
        desk.service.transfer(desk.alice, conversation.id, REASON, to_agent="bob"),
        desk.service.transfer(desk.alice, conversation.id, REASON, to_skill="billing"),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, HandoffError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code in ("moved", "not_yours")
    names = [e.name for e in await desk.store.events(conversation.id)]
    assert names.count("transfer") + names.count("transfer_to_queue") == 1

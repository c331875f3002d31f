"""A supervisor reassigns a chat (HandoffService.reassign): who may get it, what each side
is told, and that racing moves cannot both win."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handoff.agent.live_view import MAX_LISTED_QUEUED, LiveFeed, open_chats
from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import HandoffError, HandoffService, agent_channel
from handoff.conversation.models import Agent, Conversation
from handoff.customer.texts import load_texts
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
    lead: Agent
    alice: Agent
    bob: Agent
    kenji: Agent

    async def waiting(self, language: str = "en", skill: str | None = None) -> Conversation:
        conversation, _ = await self.store.create_conversation(language, {})
        await self.store.add_message(conversation.id, "customer", "talk to a person please")
        info: dict[str, Any] = {"reason": "requested", "skill": skill}
        await self.service.escalate(conversation, info)
        return conversation

    async def with_alice(self, language: str = "en") -> Conversation:
        conversation = await self.waiting(language)
        await self.service.accept(self.alice, conversation.id)
        return conversation

    def listen(self, channel: str) -> asyncio.Queue[Frame | None]:
        return self.hub.subscribe(channel)


def drained(queue: asyncio.Queue[Frame | None]) -> list[Frame]:
    frames: list[Frame] = []
    while not queue.empty():
        frame = queue.get_nowait()
        assert frame is not None
        frames.append(frame)
    return frames


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    hub, rasa = Hub(), FakeRasa()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, max_attempts=5)  # type: ignore[arg-type]
    service = HandoffService(store, handoffs, rasa, relay, hub, texts, {})  # type: ignore[arg-type]
    lead = await handoffs.upsert_agent("lead", "pw-lead-1", [], [], 1, "Lead", "supervisor")
    alice = await handoffs.upsert_agent("alice", "pw-alice-1", ["en", "ko"], [], 3, "Alice")
    bob = await handoffs.upsert_agent("bob", "pw-bob-1", ["en", "ko"], [], 1, "Bob")
    kenji = await handoffs.upsert_agent("kenji", "pw-kenji-1", ["ja"], [], 2, "Kenji")
    for person in (alice, bob, kenji):
        service.presence.sockets[person.username] = 1  # a console is open
    await service.refresh_agents()
    yield Desk(store, handoffs, hub, service, lead, alice, bob, kenji)
    await service.aclose()
    await store.close()


async def test_an_assigned_chat_moves_to_another_agent(desk: Desk) -> None:
    conversation = await desk.with_alice()
    customer, old, new = (
        desk.listen(conversation.id),
        desk.listen(agent_channel("alice")),
        desk.listen(agent_channel("bob")),
    )

    result = await desk.service.reassign(desk.lead, conversation.id, "bob")

    assert result == {
        "conversation_id": conversation.id,
        "state": "assigned",
        "agent": "bob",
        "from_agent": "alice",
        "forced": False,
    }
    last = (await desk.store.events(conversation.id))[-1]
    assert (last.name, last.from_state, last.to_state) == ("reassign", "assigned", "assigned")
    assert last.data == {"from_agent": "alice", "to_agent": "bob", "by": "lead", "forced": False}
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and handoff.agent == "bob"
    # the old console drops it; the new one gets it with the transcript
    assert [f for f in drained(old) if f["type"] != "queue"] == [
        {
            "type": "state",
            "conversation_id": conversation.id,
            "state": "reassigned",
            "agent": "bob",
            "by": "lead",
        }
    ]
    [given] = [f for f in drained(new) if f["type"] != "queue"]  # queue frames may come too
    assert given["type"] == "assigned" and given["by"] == "lead"
    assert given["view"]["conversation_id"] == conversation.id
    said = [t["text"] for t in given["view"]["transcript"]]
    assert "talk to a person please" in said
    # the customer is told who has the chat now, in a notice and in the state frame
    frames = drained(customer)
    notice = next(f for f in frames if f["type"] == "message")
    assert (
        notice["role"] == "system" and "Bob" in notice["text"] and "taking over" in notice["text"]
    )
    assert {"type": "state", "state": "assigned", "agent": "Bob"} in frames
    # only the new agent may write now
    with pytest.raises(HandoffError) as refused:
        await desk.service.agent_message(desk.alice, conversation.id, "still here?")
    assert refused.value.code == "not_yours"
    await desk.service.agent_message(desk.bob, conversation.id, "Bob here, I have it all")


async def test_a_waiting_chat_is_given_to_an_agent(desk: Desk) -> None:
    conversation = await desk.waiting()
    new = desk.listen(agent_channel("bob"))

    result = await desk.service.reassign(desk.lead, conversation.id, "bob")

    assert (result["agent"], result["from_agent"]) == ("bob", None)
    last = (await desk.store.events(conversation.id))[-1]
    assert (last.name, last.data) == ("assign", {"agent": "bob", "by": "lead", "forced": False})
    assert await desk.handoffs.queued() == []
    [given] = [f for f in drained(new) if f["type"] != "queue"]
    assert given["type"] == "assigned" and given["view"]["state"] == "assigned"
    messages = await desk.store.messages(conversation.id)
    assert messages[-1].role == "system" and "Bob" in messages[-1].text


@pytest.mark.parametrize(
    ("target", "language", "code"),
    [
        ("kenji", "en", "agent_not_eligible"),  # no English
        ("nobody", "en", "unknown_agent"),
        ("alice", "en", "already_assigned"),  # has it already
    ],
)
async def test_a_target_who_cannot_take_it_is_refused(
    desk: Desk, target: str, language: str, code: str
) -> None:
    conversation = await desk.with_alice(language)
    with pytest.raises(HandoffError) as refused:
        await desk.service.reassign(desk.lead, conversation.id, target)
    assert refused.value.code == code
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and handoff.agent == "alice"  # nothing moved
    assert (await desk.store.events(conversation.id))[-1].name == "assign"


async def test_force_overrides_skills_and_capacity_but_not_presence(desk: Desk) -> None:
    first, second = await desk.with_alice(), await desk.with_alice()
    await desk.service.reassign(desk.lead, first.id, "bob")  # bob's one seat
    with pytest.raises(HandoffError) as full:
        await desk.service.reassign(desk.lead, second.id, "bob")
    assert full.value.code == "agent_at_capacity"
    assert (await desk.service.reassign(desk.lead, second.id, "bob", force=True))["forced"]
    assert (await desk.store.events(second.id))[-1].data["forced"] is True

    english = await desk.with_alice()
    await desk.service.reassign(desk.lead, english.id, "kenji", force=True)  # knows better
    desk.service.presence.sockets["bob"] = 0
    desk.service.presence.last_seen.pop("bob", None)
    with pytest.raises(HandoffError) as away:
        await desk.service.reassign(desk.lead, english.id, "bob", force=True)
    assert away.value.code == "agent_offline"


async def test_two_reassigns_at_once_only_one_wins(desk: Desk) -> None:
    conversation = await desk.with_alice()
    carol = await desk.handoffs.upsert_agent("carol", "pw-carol-1", ["en"], [], 2, "Carol")
    desk.service.presence.sockets[carol.username] = 1

    results = await asyncio.gather(
        desk.service.reassign(desk.lead, conversation.id, "bob"),
        desk.service.reassign(desk.lead, conversation.id, "carol"),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, HandoffError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "moved"
    moves = [e for e in await desk.store.events(conversation.id) if e.name == "reassign"]
    assert [e.data["to_agent"] for e in moves] == [won[0]["agent"]]
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and handoff.agent == won[0]["agent"]


async def test_reassign_after_resolve_is_refused(desk: Desk) -> None:
    conversation = await desk.with_alice()
    await desk.service.resolve(desk.alice, conversation.id)
    with pytest.raises(HandoffError) as refused:
        await desk.service.reassign(desk.lead, conversation.id, "bob")
    assert refused.value.code == "not_waiting"


async def test_a_resolve_that_lands_mid_move_keeps_the_resolving_agent(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handoff row moved, then the conversation was resolved before the move's
    transition: the move is refused and the record goes back to the agent who resolved."""
    conversation = await desk.with_alice()
    real = desk.handoffs.reassign

    async def then_resolved(*args: Any, **kwargs: Any) -> bool:
        moved = await real(*args, **kwargs)
        if kwargs.get("only_open", True):
            await desk.store.transition(conversation.id, "resolve", {"agent": "alice"})
        return moved

    monkeypatch.setattr(desk.handoffs, "reassign", then_resolved)
    with pytest.raises(HandoffError) as refused:
        await desk.service.reassign(desk.lead, conversation.id, "bob")
    assert refused.value.code == "moved"
    handoff = await desk.handoffs.latest_handoff(conversation.id)
    assert handoff is not None and handoff.agent == "alice"
    assert "reassign" not in [e.name for e in await desk.store.events(conversation.id)]


async def test_a_move_that_lands_after_the_resolve_read_wins_alone(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice resolves while the lead moves her chat to Bob, and the move lands between
    the resolve's read and its write: the resolve is refused, the chat stays with Bob
    (still assigned), and no resolve is recorded."""
    conversation = await desk.with_alice()
    real = desk.handoffs.open_handoff
    moves: list[str] = []

    async def read_then_moved(conversation_id: str) -> Any:
        handoff = await real(conversation_id)
        if not moves:  # the first read is alice's; the move's own reads go through
            moves.append("bob")
            await desk.service.reassign(desk.lead, conversation_id, "bob")
        return handoff  # what alice's resolve saw: still hers

    monkeypatch.setattr(desk.handoffs, "open_handoff", read_then_moved)
    with pytest.raises(HandoffError) as refused:
        await desk.service.resolve(desk.alice, conversation.id)
    monkeypatch.undo()
    assert refused.value.code == "not_yours"
    handoff = await desk.handoffs.open_handoff(conversation.id)
    assert handoff is not None and (handoff.status, handoff.agent) == ("assigned", "bob")
    assert (await desk.store.get_conversation(conversation.id)).state == "assigned"  # type: ignore[union-attr]
    assert "resolve" not in [e.name for e in await desk.store.events(conversation.id)]


async def test_a_chat_back_with_the_bot_cannot_be_reassigned(desk: Desk) -> None:
    conversation, _ = await desk.store.create_conversation("en", {})
    with pytest.raises(HandoffError) as refused:
        await desk.service.reassign(desk.lead, conversation.id, "bob")
    assert refused.value.code == "not_waiting"


async def test_open_chats_list_waiting_then_assigned(desk: Desk) -> None:
    waiting = await desk.waiting("ko")
    taken = await desk.with_alice()
    queued, assigned = await desk.handoffs.queued(), await desk.handoffs.assigned()
    now = max(h.queued_at for h in queued + assigned) + 30
    chats = open_chats(queued, assigned, now)
    assert [(c["conversation_id"], c["state"], c["agent"]) for c in chats] == [
        (waiting.id, "queued", None),
        (taken.id, "assigned", "alice"),
    ]
    assert chats[0]["language"] == "ko" and chats[0]["reason"] == "requested"
    assert chats[0]["wait_seconds"] >= 30 and "with_agent_seconds" not in chats[0]
    assert chats[1]["with_agent_seconds"] >= 0
    many = queued * (MAX_LISTED_QUEUED + 5)
    assert len(open_chats(many, [], now)) == MAX_LISTED_QUEUED


async def test_the_live_feed_pushes_on_change_only_while_watched(desk: Desk) -> None:
    computed = 0

    async def compute() -> dict[str, Any]:
        nonlocal computed
        computed += 1
        return {"queued_total": len(await desk.handoffs.queued())}

    feed = LiveFeed(compute, interval=0.01)
    desk.service.watchers.append(feed.touch)
    await desk.waiting()  # nobody watches: nothing computed
    await feed.frames.idle()
    assert computed == 0

    page = feed.subscribe()
    await desk.waiting()  # the queue changed: the service tells the feed
    await feed.frames.idle()
    frame = page.get_nowait()
    assert frame == {"type": "live", "queued_total": 2}
    for _ in range(5):  # a slow page keeps only the latest views
        feed.touch()
        await feed.frames.idle()
    assert page.qsize() <= 2
    await feed.aclose()
    assert drained_to_close(page)


def drained_to_close(queue: asyncio.Queue[Frame | None]) -> bool:
    while not queue.empty():
        if queue.get_nowait() is None:
            return True
    return False

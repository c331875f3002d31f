"""Queue frames: positions in one pass, customers told only changes, agents coalesced."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import HandoffService, agent_channel
from handoff.conversation.models import Conversation, Handoff, Reply
from handoff.conversation.queue_broadcast import (
    AgentKind,
    Coalescer,
    QueueFeed,
    queue_positions,
    wait_estimate,
)
from handoff.customer.texts import load_texts
from handoff.realtime.hub import Frame, Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings

FAST = 0.05  # seconds: the coalescing intervals in these tests


class FakeRasa:
    async def resume(self, sender: str) -> None:
        pass

    async def trigger_intent(self, sender: str, intent: str, language: str) -> list[Reply]:
        return []

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        return []


def handoff(id: int, language: str = "en", skill: str | None = None) -> Handoff:
    return Handoff(id, f"c{id}", "queued", "requested", 1, language, skill, None, "")


def test_positions_count_within_each_language_and_skill_in_one_pass() -> None:
    queued = [
        handoff(1),
        handoff(2, "ko"),
        handoff(3),
        handoff(4, "en", "billing"),
        handoff(5, "ko"),
        handoff(6),
    ]
    assert queue_positions(queued) == {1: 1, 2: 1, 3: 2, 4: 1, 5: 2, 6: 3}
    assert queue_positions([]) == {}


def test_wait_estimate_is_short_with_a_free_seat_and_grows_by_rounds() -> None:
    assert wait_estimate(2, free_seats=2, agents=1, handling_seconds=240) == 30
    assert wait_estimate(3, free_seats=2, agents=1, handling_seconds=240) == 240
    assert wait_estimate(5, free_seats=0, agents=2, handling_seconds=100) == 300
    assert wait_estimate(1, free_seats=0, agents=0, handling_seconds=100) == 100


async def test_a_burst_of_touches_costs_a_bounded_number_of_flushes() -> None:
    calls: list[float] = []

    async def flush() -> None:
        calls.append(time.monotonic())

    coalescer = Coalescer(FAST, flush)
    started = time.monotonic()
    for _ in range(200):  # 200 events over about 0.2 s
        coalescer.touch()
        await asyncio.sleep(0.001)
    await coalescer.idle()
    took = time.monotonic() - started
    assert 1 <= len(calls) <= 2 + took / FAST
    assert all(b - a >= FAST * 0.9 for a, b in itertools.pairwise(calls))
    assert calls[-1] >= started  # the last touch was followed by a flush
    await coalescer.aclose()


async def test_the_first_touch_after_a_quiet_spell_flushes_at_once() -> None:
    calls: list[float] = []

    async def flush() -> None:
        calls.append(time.monotonic())

    coalescer = Coalescer(10.0, flush)  # a long interval: only the leading edge can run
    touched = time.monotonic()
    coalescer.touch()
    await asyncio.sleep(0.01)
    assert len(calls) == 1 and calls[0] - touched < 0.05
    coalescer.touch()  # folded into a flush 10 s later
    await coalescer.aclose()
    assert len(calls) == 1 and not coalescer.pending


async def test_a_failing_flush_does_not_stop_later_ones() -> None:
    calls = 0

    async def flush() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("store away")

    coalescer = Coalescer(0.0, flush)
    coalescer.touch()
    await coalescer.idle()
    coalescer.touch()
    await coalescer.idle()
    assert calls == 2


# -- what each console is sent: a snapshot once, then deltas ---------------------------

EN: AgentKind = (("en",), ())
KO: AgentKind = (("ko",), ())


def item(conversation_id: str, waiting: int = 0, summary: str = "") -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "waiting_seconds": waiting,
        "summary": summary,
        "labels": [],
    }


def test_a_console_gets_the_whole_queue_first_and_then_only_what_changed() -> None:
    feed = QueueFeed()
    feed.update(EN, [item("a"), item("b"), item("c")])
    first = feed.frame_for("ann", EN)
    assert first is not None and first["type"] == "queue"
    assert [i["conversation_id"] for i in first["items"]] == ["a", "b", "c"]

    # b taken, c's summary written, d new; a only waited longer (the console counts that)
    feed.update(EN, [item("a", waiting=9), item("c", summary="refund"), item("d")])
    delta = feed.frame_for("ann", EN)
    assert delta is not None and delta["type"] == "queue_delta"
    assert (delta["base"], delta["version"]) == (first["version"], first["version"] + 1)
    assert delta["removed"] == ["b"]
    assert [i["conversation_id"] for i in delta["upsert"]] == ["c", "d"]

    feed.update(EN, [item("a", waiting=10), item("c", summary="refund"), item("d")])
    assert feed.frame_for("ann", EN) is None  # nothing a console shows changed


def test_a_console_with_nothing_to_build_on_gets_a_snapshot() -> None:
    feed = QueueFeed()
    feed.update(EN, [item("a")])
    assert feed.frame_for("ann", EN) is not None
    feed.update(EN, [item("a"), item("b")])

    # ann's socket closed and opened again (a reload): the delta would find no base
    feed.forget("ann")
    again = feed.frame_for("ann", EN)
    assert again is not None and again["type"] == "queue"
    assert [i["conversation_id"] for i in again["items"]] == ["a", "b"]

    # bob missed a change (no console open during it): a snapshot, not a delta
    feed.update(EN, [item("b")])
    late = feed.frame_for("bob", EN)
    assert late is not None and late["type"] == "queue" and late["version"] == again["version"] + 1

    # ann now speaks Korean too: another kind, another list
    feed.update(KO, [item("k")])
    other = feed.frame_for("ann", KO)
    assert other is not None and other["type"] == "queue"
    assert [i["conversation_id"] for i in other["items"]] == ["k"]


def test_an_away_console_is_told_once_and_gets_the_whole_queue_when_back() -> None:
    feed = QueueFeed()
    feed.update(EN, [item("a")])
    feed.frame_for("ann", EN)
    assert feed.pause("ann") is True
    assert feed.pause("ann") is False  # already told: no second empty list
    feed.update(EN, [item("a")])
    back = feed.frame_for("ann", EN)
    assert back is not None and back["type"] == "queue"


def test_a_delta_is_as_small_as_the_change_whatever_the_queue_length() -> None:
    sizes = {}
    for length in (100, 1000):
        feed = QueueFeed()
        queue = [item(f"c{n}", waiting=n) for n in range(length)]
        feed.update(EN, queue)
        feed.frame_for("ann", EN)
        feed.update(EN, [dict(i, waiting_seconds=i["waiting_seconds"] + 1) for i in queue[1:]])
        delta = feed.frame_for("ann", EN)
        assert delta is not None and delta["removed"] == ["c0"] and delta["upsert"] == []
        sizes[length] = len(delta.text)
    assert sizes[100] == sizes[1000]


# -- through the service ---------------------------------------------------------------


@dataclass
class Setup:
    store: SQLiteStore
    handoffs: HandoffStore
    hub: Hub
    service: HandoffService

    async def customer(
        self, language: str = "en", watching: bool = True
    ) -> tuple[Conversation, asyncio.Queue[Any]]:
        """A queued customer, and the frames their widget gets from now on."""
        conversation, _ = await self.store.create_conversation(language, {})
        await self.store.add_message(conversation.id, "customer", "talk to a human")
        frames = self.hub.subscribe(conversation.id)
        await self.service.escalate(conversation, {"reason": "requested"})
        await self.service.queue_idle()
        drain(frames)
        if not watching:
            self.hub.unsubscribe(conversation.id, frames)
        return conversation, frames

    async def agent(self, username: str, capacity: int = 5, connected: bool = True) -> Any:
        agent = await self.handoffs.upsert_agent(
            username, "a long test password", ["en", "ko"], [], capacity
        )
        if connected:
            self.service.presence.sockets[username] = 1
        await self.service.refresh_agents()
        return agent


def drain(frames: asyncio.Queue[Any]) -> list[Frame]:
    out = []
    while not frames.empty():
        out.append(frames.get_nowait())
    return out


def positions(frames: asyncio.Queue[Any]) -> list[int]:
    return [f["queue"]["position"] for f in drain(frames) if f.get("type") == "state"]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    hub, rasa = Hub(), FakeRasa()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, max_attempts=5)  # type: ignore[arg-type]
    service = HandoffService(store, handoffs, rasa, relay, hub, texts, {})  # type: ignore[arg-type]
    service.position_frames.interval = FAST
    service.queue_frames.interval = FAST
    yield Setup(store, handoffs, hub, service)
    await service.aclose()
    await store.close()


async def test_customers_behind_an_accepted_chat_move_up_and_others_hear_nothing(
    setup: Setup,
) -> None:
    agent = await setup.agent("ann")
    first, first_frames = await setup.customer()
    _second, second_frames = await setup.customer()
    third, third_frames = await setup.customer()
    _korean, korean_frames = await setup.customer("ko")
    assert (await setup.service.state_frame(third.id))["queue"]["position"] == 3

    await setup.service.accept(agent, first.id)
    await setup.service.queue_idle()
    assert positions(second_frames) == [1]
    assert positions(third_frames) == [2]
    assert positions(korean_frames) == []  # another queue: unchanged, so no frame
    assert [f["state"] for f in drain(first_frames) if f["type"] == "state"] == ["assigned"]

    await setup.service.broadcast_queue()  # nothing changed: nobody is told anything
    await setup.service.queue_idle()
    assert positions(second_frames) == positions(third_frames) == []


async def test_a_cancelled_or_abandoned_chat_moves_the_ones_behind_it(setup: Setup) -> None:
    await setup.agent("ann")
    first, _ = await setup.customer(watching=False)  # the widget was closed
    second, _ = await setup.customer()
    _third, third_frames = await setup.customer()
    handoff = await setup.handoffs.open_handoff(second.id)
    assert handoff is not None
    await setup.service.cancel(second, handoff)
    await setup.service.queue_idle()
    assert positions(third_frames) == [2]

    later = time.time() + 3600
    assert await setup.service.abandon_stale(now=later) == [first.id]
    await setup.service.queue_idle()
    assert positions(third_frames) == [1]


async def test_the_estimate_follows_agents_going_offline(setup: Setup) -> None:
    await setup.agent("ann", capacity=1)
    await setup.agent("bob", capacity=1)
    _, first_frames = await setup.customer()
    _, second_frames = await setup.customer()
    _, third_frames = await setup.customer()
    setup.service.presence.sockets["bob"] = 0  # bob closes his console and goes
    await setup.service.broadcast_queue()
    await setup.service.queue_idle()
    assert drain(first_frames) == []  # a free seat still: 30 s, as before
    [frame] = drain(second_frames)
    assert frame["queue"] == {"position": 2, "estimated_wait_seconds": 240}
    [frame] = drain(third_frames)
    assert frame["queue"] == {"position": 3, "estimated_wait_seconds": 480}


def rebuilt(frames: list[Frame]) -> list[str]:
    """The queue a console shows after these frames, as agent.js builds it: a snapshot,
    then deltas that each start from the version before (asserted)."""
    shown: dict[str, dict[str, Any]] = {}
    version = None
    for frame in frames:
        if frame["type"] == "queue":
            shown, version = {i["conversation_id"]: i for i in frame["items"]}, frame["version"]
        elif frame["type"] == "queue_delta":
            assert frame["base"] == version, "a delta that does not follow the frame before"
            for gone in frame["removed"]:
                del shown[gone]
            shown.update((i["conversation_id"], i) for i in frame["upsert"])
            version = frame["version"]
    ordered = sorted(shown.values(), key=lambda i: (-i["priority"], i["queued_at"]))
    return [i["conversation_id"] for i in ordered]


async def test_agents_get_a_bounded_number_of_queue_frames_for_a_burst(setup: Setup) -> None:
    await setup.agent("ann")
    await setup.agent("kim", connected=False)
    console = setup.hub.subscribe(agent_channel("ann"))
    away = setup.hub.subscribe(agent_channel("kim"))
    started = time.monotonic()
    burst, queued = 30, []
    for _ in range(burst):
        conversation, _ = await setup.store.create_conversation("en", {})
        await setup.store.add_message(conversation.id, "customer", "talk to a human")
        await setup.service.escalate(conversation, {"reason": "requested"})
        queued.append(conversation.id)
    await setup.service.queue_idle()
    took = time.monotonic() - started
    frames = [f for f in drain(console) if f["type"] in ("queue", "queue_delta")]
    assert 1 <= len(frames) <= 2 + took / FAST
    assert len(frames) < burst
    assert frames[0]["type"] == "queue"  # the first is whole, the rest only changes
    assert all(f["type"] == "queue_delta" for f in frames[1:])
    assert rebuilt(frames) == queued  # the console ends with the whole queue, in order
    assert drain(away) == []  # no console open: no frames


async def test_an_accept_sends_other_consoles_only_the_chat_that_left(setup: Setup) -> None:
    ann = await setup.agent("ann")
    await setup.agent("bob")
    bob = setup.hub.subscribe(agent_channel("bob"))
    chats = [(await setup.customer())[0].id for _ in range(12)]
    before = drain(bob)
    await setup.service.accept(ann, chats[4])
    await setup.service.queue_idle()
    after = [f for f in drain(bob) if f["type"] in ("queue", "queue_delta")]
    assert [(f["type"], f["removed"], f["upsert"]) for f in after] == [
        ("queue_delta", [chats[4]], [])
    ]
    assert rebuilt(before + after) == chats[:4] + chats[5:]


async def test_a_console_that_opens_gets_the_whole_queue(setup: Setup) -> None:
    await setup.agent("ann")
    chats = [(await setup.customer())[0].id for _ in range(3)]
    console = setup.hub.subscribe(agent_channel("ann"))  # a second tab, say
    await setup.service.console_opened("ann")
    await setup.service.queue_idle()
    frames = [f for f in drain(console) if f["type"] in ("queue", "queue_delta")]
    assert [f["type"] for f in frames] == ["queue"]
    assert [i["conversation_id"] for i in frames[0]["items"]] == chats


async def test_a_customer_is_told_at_most_once_per_interval(setup: Setup) -> None:
    agent = await setup.agent("ann", capacity=50)
    setup.service.position_frames.interval = 0.3
    chats = [await setup.customer() for _ in range(8)]
    _last, last_frames = chats[-1]
    started = time.monotonic()
    for conversation, _ in chats[:-1]:  # seven accepts in a row
        await setup.service.accept(agent, conversation.id)
    await setup.service.queue_idle()
    took = time.monotonic() - started
    told = positions(last_frames)
    assert told[-1] == 1
    assert len(told) <= 2 + took / 0.3 and len(told) < 7

"""One contract for every realtime hub: the in-process `Hub` and the Redis-backed
`RedisHub` (on this test run's throwaway Redis). "Two replicas" are two RedisHubs on the
same Redis; for the in-process hub both are the same hub, as within one gateway."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Protocol

import pytest

from handoff.realtime.hub import Frame, Hub
from handoff.realtime.redis_hub import RedisHub, shard_stream
from stack.devservers import RedisServer


class AnyHub(Protocol):
    def subscribe(self, conversation_id: str) -> asyncio.Queue[Frame | None]: ...
    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[Frame | None]) -> None: ...
    def has_subscribers(self, conversation_id: str) -> bool: ...
    def publish(self, conversation_id: str, frame: Frame) -> None: ...
    def publish_local(self, conversation_id: str, frame: Frame) -> None: ...
    def publish_elsewhere(self, conversation_id: str, frame: Frame) -> None: ...
    def close_all(self) -> None: ...


Replicas = Callable[[], Awaitable[tuple[AnyHub, AnyHub]]]


async def settle(*hubs: AnyHub) -> None:
    """Let subscriptions and published frames reach Redis (nothing to do in process)."""
    for hub in hubs:
        if isinstance(hub, RedisHub):
            await hub.flush()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def receive(queue: asyncio.Queue[Frame | None], count: int) -> list[Frame | None]:
    return [await asyncio.wait_for(queue.get(), 5) for _ in range(count)]


@pytest.fixture(params=["in-process", "redis"])
async def replicas(request: pytest.FixtureRequest) -> AsyncIterator[Replicas]:
    started: list[RedisHub] = []
    prefix = f"test:{uuid.uuid4().hex[:8]}:"

    async def make() -> tuple[AnyHub, AnyHub]:
        if request.param == "in-process":
            hub = Hub()
            return hub, hub
        url = request.getfixturevalue("redis_url")
        pair = (
            RedisHub(url, prefix=prefix, heartbeat_seconds=0.5),
            RedisHub(url, prefix=prefix, heartbeat_seconds=0.5),
        )
        for redis_hub in pair:
            await redis_hub.start()
            started.append(redis_hub)
        return pair

    try:
        yield make
    finally:
        for redis_hub in started:
            await redis_hub.aclose()


async def test_frames_arrive_in_order_on_every_replica(replicas: Replicas) -> None:
    a, b = await replicas()
    here, there = a.subscribe("c1"), b.subscribe("c1")
    await settle(a, b)
    # More than one of the Redis hub's send batches, with presence news between frames.
    for n in range(450):  # (a subscriber holds up to 500)
        a.publish("c1", {"type": "message", "n": n})
        if n % 100 == 0:
            a.subscribe(f"other-{n}")
    expected = [{"type": "message", "n": n} for n in range(450)]
    assert await receive(here, 450) == expected
    assert await receive(there, 450) == expected


async def test_only_the_conversation_s_subscribers_get_its_frames(replicas: Replicas) -> None:
    a, b = await replicas()
    mine, other = b.subscribe("mine"), b.subscribe("other")
    await settle(a, b)
    a.publish("mine", {"n": 1})
    a.publish("other", {"n": 2})
    assert await receive(mine, 1) == [{"n": 1}]
    assert await receive(other, 1) == [{"n": 2}]
    assert mine.empty() and other.empty()


async def test_a_local_frame_stays_on_its_own_replica(replicas: Replicas) -> None:
    a, b = await replicas()
    here, there = a.subscribe("agent:ann"), b.subscribe("agent:ann")
    await settle(a, b)
    a.publish_local("agent:ann", {"n": 1})
    a.publish("agent:ann", {"n": 2})  # a later frame for everyone: the local one went first
    await settle(a, b)
    assert await receive(here, 2) == [{"n": 1}, {"n": 2}]
    if a is b:  # one process: local is everywhere
        return
    assert await receive(there, 1) == [{"n": 2}]
    assert there.empty()


async def test_news_for_elsewhere_reaches_only_the_other_replicas(replicas: Replicas) -> None:
    a, b = await replicas()
    here, there = a.subscribe("queue:changes"), b.subscribe("queue:changes")
    await settle(a, b)
    a.publish_elsewhere("queue:changes", {"n": 1})
    a.publish("queue:changes", {"n": 2})  # for everyone, in order after the first
    await settle(a, b)
    assert await receive(here, 1) == [{"n": 2}]
    assert here.empty()
    if a is b:  # one process: there is nowhere else
        return
    assert await receive(there, 2) == [{"n": 1}, {"n": 2}]


def shard_mate(conversation_id: str) -> str:
    """Another conversation whose frames go through the same Redis stream."""
    mine = shard_stream("", conversation_id)
    return next(f"mate-{n}" for n in range(10_000) if shard_stream("", f"mate-{n}") == mine)


async def test_a_conversation_sharing_a_stream_gets_only_its_own_frames(
    replicas: Replicas,
) -> None:
    a, b = await replicas()
    mate = shard_mate("mine")
    mine = b.subscribe("mine")
    await settle(a, b)
    a.publish(mate, {"n": 0})  # nobody on b follows it: read from the stream, not delivered
    a.publish("mine", {"n": 1})
    assert await receive(mine, 1) == [{"n": 1}]
    # A later subscriber in a stream the replica already reads gets what comes next.
    mates = b.subscribe(mate)
    await settle(a, b)
    a.publish(mate, {"n": 2})
    a.publish("mine", {"n": 3})
    assert await receive(mates, 1) == [{"n": 2}]
    assert await receive(mine, 1) == [{"n": 3}]
    assert mine.empty() and mates.empty()


async def test_a_socket_that_just_opened_gets_the_very_next_frame(replicas: Replicas) -> None:
    """Nothing settles between a subscription and the other replica's publishing, as
    when a customer's socket opens and the agent answers the next moment; also in a
    stream that replica read nothing from before, and after its last follower left."""
    a, b = await replicas()
    await settle(a, b)
    for n in range(16):
        fresh = b.subscribe(f"fresh-{n}")
        a.publish(f"fresh-{n}", {"n": n})
        assert await receive(fresh, 1) == [{"n": n}]
        b.unsubscribe(f"fresh-{n}", fresh)
    again = b.subscribe("fresh-0")
    a.publish("fresh-0", {"n": "again"})
    assert await receive(again, 1) == [{"n": "again"}]


async def test_unicode_frames_survive(replicas: Replicas) -> None:
    a, b = await replicas()
    queue = b.subscribe("c")
    await settle(a, b)
    frame: Frame = {"text": "배송 얼마나 걸려요? 届くまで", "buttons": [{"payload": "/deny"}]}
    a.publish("c", frame)
    assert await receive(queue, 1) == [frame]


async def test_presence_is_seen_from_every_replica(replicas: Replicas) -> None:
    a, b = await replicas()
    assert not a.has_subscribers("c") and not b.has_subscribers("c")
    first, second = b.subscribe("c"), b.subscribe("c")
    assert b.has_subscribers("c")
    await settle(a, b)
    await until(lambda: a.has_subscribers("c"))
    b.unsubscribe("c", first)
    await settle(a, b)
    await asyncio.sleep(0.1)
    assert a.has_subscribers("c") and b.has_subscribers("c")  # one is still open
    b.unsubscribe("c", second)
    assert not b.has_subscribers("c")
    await settle(a, b)
    await until(lambda: not a.has_subscribers("c"))


async def test_an_unsubscribed_queue_gets_nothing_more(replicas: Replicas) -> None:
    a, b = await replicas()
    kept, left = b.subscribe("c"), b.subscribe("c")
    await settle(a, b)
    b.unsubscribe("c", left)
    a.publish("c", {"n": 1})
    assert await receive(kept, 1) == [{"n": 1}]
    await asyncio.sleep(0.1)
    assert left.empty()


async def test_close_all_tells_every_subscriber_to_close(replicas: Replicas) -> None:
    _, b = await replicas()
    queues = [b.subscribe("c1"), b.subscribe("c2")]
    b.publish("c1", {"n": 1})
    b.close_all()
    assert [queue.get_nowait() for queue in queues] == [None, None]  # pending frames dropped
    assert not b.has_subscribers("c1")


async def test_a_subscriber_that_falls_behind_is_closed_not_waited_for(
    replicas: Replicas,
) -> None:
    a, _ = await replicas()
    slow, fast = a.subscribe("c"), a.subscribe("c")
    for n in range(501):  # one more than a subscriber may have waiting
        a.publish("c", {"n": n})
        if n < 500:
            fast.get_nowait()
    assert slow.get_nowait() is None  # told to close; its client catches up from the store
    assert fast.get_nowait() == {"n": 500}
    assert a.has_subscribers("c")


# -- Redis only -------------------------------------------------------------------------


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis this test may restart (the session's is shared)."""
    with RedisServer() as server:
        yield server


async def test_replicas_recover_from_a_redis_restart_without_losing_frames(
    own_redis: RedisServer,
) -> None:
    a = RedisHub(own_redis.url, heartbeat_seconds=0.5)
    b = RedisHub(own_redis.url, heartbeat_seconds=0.5)
    await a.start()
    await b.start()
    try:
        queue = b.subscribe("c")
        await settle(a, b)
        a.publish("c", {"n": 0})
        assert await receive(queue, 1) == [{"n": 0}]

        own_redis.restart()
        await until(lambda: not a.connected or not b.connected, timeout=5)
        # published while the hubs are (re)connecting: sent in order, read from where
        # the other replica was
        for n in range(1, 6):
            a.publish("c", {"n": n})
        await until(lambda: a.connected and b.connected, timeout=15)
        await settle(a, b)
        assert await receive(queue, 5) == [{"n": n} for n in range(1, 6)]
        a.publish("c", {"n": 6})
        assert await receive(queue, 1) == [{"n": 6}]
        await until(lambda: a.has_subscribers("c"))  # presence told again after the restart

        # published while Redis is down: kept by the publisher, read by the other
        # replica from where it was once Redis is back
        own_redis.stop()
        for n in range(7, 10):
            a.publish("c", {"n": n})
        await asyncio.sleep(0.3)
        own_redis.start()
        await until(lambda: a.connected and b.connected, timeout=15)
        assert await receive(queue, 3) == [{"n": n} for n in range(7, 10)]
        assert queue.empty()  # each exactly once
    finally:
        await a.aclose()
        await b.aclose()

"""The realtime hub over Redis, for several gateway replicas (ASSISTANT_REDIS_URL).

Same interface as the in-process `handoff.realtime.hub.Hub` (subscribe / unsubscribe / publish /
has_subscribers / close_all), plus `start()` and `aclose()` for its connections:

- `publish` hands the frame to this replica's own subscribers at once, and appends it to
  its conversation's shard: one of `SHARDS` Redis streams (`<prefix>frames:<n>`, n from
  a CRC of the conversation id, each capped), through one ordered sender task. Every
  replica reads every shard, from where it was when the hub started and on from where
  it left off, so a conversation's frames arrive in the order they were published, also
  across a lost connection, and a websocket that just opened gets the very next frame
  (a replica that began reading a shard only once it had a subscriber there started at
  the shard's end as it found it then, and missed what came between). Each entry names
  its conversation and replica, so a replica skips the frames of conversations it has
  no subscriber for, and its own, without parsing them. Why shards rather than a stream
  per conversation: a read names `SHARDS` streams, not one per open chat (with thousands
  of chats, building, sending and scanning that list on every read was most of the
  cost), and no key needs an expiry.
- `has_subscribers` is true when a websocket of the conversation is open on any replica:
  replicas announce their conversations on the pub/sub channel `<prefix>presence` (on
  change, every `heartbeat_seconds`, and to a replica that (re)connects and says hello);
  a replica not heard from for three heartbeats counts as gone.
- When Redis goes away (restart, network), the hub keeps serving its own subscribers,
  keeps what it has to send (up to `max_pending` frames), reconnects with backoff and
  goes on: the kept frames are sent in order and read by the other replicas from where
  they were. What a Redis restart empties (frames already delivered) is not needed;
  websocket clients catch up from the store in any case.

Frames must be JSON (they are what the websockets send).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
import zlib
from collections import defaultdict, deque
from typing import Any

from redis import asyncio as redis_asyncio

from handoff.realtime.hub import Frame
from handoff.store.redis_outage import REDIS_ERRORS

log = logging.getLogger(__name__)

_MAX_QUEUED_FRAMES = 500  # per subscriber, as handoff.realtime.hub
# How long a read waits for frames before it looks again (whether the hub is closing).
_POLL_SECONDS = 0.1
# What every key and channel of the hub starts with, unless told otherwise.
DEFAULT_PREFIX = "assistant:hub:"
# Streams that carry the frames; a conversation's shard is fixed by its id.
SHARDS = 16
# Each shard keeps about this many frames (trimmed by whole blocks, the cheap way): enough
# for a replica that lost Redis for a while to catch up; websocket clients that missed
# more catch up from the store when they reconnect.
_STREAM_LENGTH = 5000
# Frames sent to Redis in one round trip at most.
_SEND_BATCH = 256


class RedisHub:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        heartbeat_seconds: float = 5.0,
        max_pending: int = 10_000,
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._heartbeat = heartbeat_seconds
        self._max_pending = max_pending
        self.replica_id = uuid.uuid4().hex
        self._subscribers: dict[str, set[asyncio.Queue[Frame | None]]] = defaultdict(set)
        # replica id -> (its conversations with subscribers, when last heard from)
        self._remote: dict[str, tuple[set[str], float]] = {}
        # (stream or channel, what to add or publish), in publishing order
        self._outbox: deque[tuple[str, str | dict[str, str]]] = deque()
        self._outbox_ready = asyncio.Event()
        self._presence_on = False  # subscribed to the presence channel right now
        # every shard's stream key -> id of the last entry read (set by `start`)
        self._positions: dict[str, str] = {}
        self._client: redis_asyncio.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.connected = False
        self.dropped = 0  # frames not sent: more than max_pending waited for Redis

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start listening; returns once Redis answered (or raises)."""
        self._client = redis_asyncio.Redis.from_url(
            self._url, socket_connect_timeout=2.0, health_check_interval=10
        )
        await self._client.ping()
        # Where each shard is now: what is published from here on is read, whoever
        # subscribes when. One round trip for all of them.
        async with self._client.pipeline(transaction=False) as pipe:
            keys = [_shard_key(self._prefix, n) for n in range(SHARDS)]
            for key in keys:
                pipe.xrevrange(key, count=1)
            lasts: list[Any] = await pipe.execute()
        self._positions = {
            key: _text(last[0][0]) if last else "0-0" for key, last in zip(keys, lasts, strict=True)
        }
        self._tasks = [
            asyncio.create_task(self._listen(), name="redis-hub-presence"),
            asyncio.create_task(self._read(), name="redis-hub-read"),
            asyncio.create_task(self._send(), name="redis-hub-send"),
            asyncio.create_task(self._beat(), name="redis-hub-heartbeat"),
        ]

    async def aclose(self) -> None:
        """Say goodbye to the other replicas (if Redis is there), close every local
        subscriber and the connections."""
        if self._closed:
            return
        self.close_all()
        self._queue(self._presence_channel, {"replica": self.replica_id, "bye": True})
        with contextlib.suppress(TimeoutError):
            await self.flush(timeout=1.0)
        self._closed = True  # the loops end at their next turn, or on being cancelled
        for task in self._tasks:
            task.cancel()
        # (a cancel that meets a read's own timeout can be taken for that timeout:
        # the loops then see _closed)
        await asyncio.wait(self._tasks, timeout=5)
        if self._client is not None:
            await self._client.aclose()

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until every frame published so far was handed to Redis and the presence
        channel is followed (tests; a graceful stop)."""
        deadline = time.monotonic() + timeout
        while self._outbox or not self._presence_on:
            if time.monotonic() > deadline:
                raise TimeoutError("the Redis hub did not catch up (is Redis reachable?)")
            await asyncio.sleep(0.01)

    # -- the Hub interface ------------------------------------------------------------

    def subscribe(self, conversation_id: str) -> asyncio.Queue[Frame | None]:
        queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=_MAX_QUEUED_FRAMES)
        first = not self._subscribers.get(conversation_id)
        self._subscribers[conversation_id].add(queue)
        if first:
            self._announce(conversation_id, True)
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[Frame | None]) -> None:
        subscribers = self._subscribers.get(conversation_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[conversation_id]
                self._announce(conversation_id, False)

    def has_subscribers(self, conversation_id: str) -> bool:
        if self._subscribers.get(conversation_id):
            return True
        cutoff = time.monotonic() - 3 * self._heartbeat
        return any(
            conversation_id in conversations and seen >= cutoff
            for conversations, seen in self._remote.values()
        )

    def publish(self, conversation_id: str, frame: Frame) -> None:
        self._deliver(conversation_id, frame)
        self.publish_elsewhere(conversation_id, frame)

    def publish_local(self, conversation_id: str, frame: Frame) -> None:
        self._deliver(conversation_id, frame)

    def publish_elsewhere(self, conversation_id: str, frame: Frame) -> None:
        self._enqueue(
            self.stream_key(conversation_id),
            {
                "r": self.replica_id,
                "c": conversation_id,
                "f": json.dumps(frame, ensure_ascii=False),
            },
        )

    def close_all(self) -> None:
        for conversation_id in list(self._subscribers):
            for queue in list(self._subscribers[conversation_id]):
                _close(queue)
            self._announce(conversation_id, False)
        self._subscribers.clear()

    # -- local delivery ---------------------------------------------------------------

    def _deliver(self, conversation_id: str, frame: Frame) -> None:
        for queue in list(self._subscribers.get(conversation_id, ())):
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:
                # As handoff.realtime.hub: the stuck subscriber is told to close; its client
                # reconnects and catches up from the store.
                self.unsubscribe(conversation_id, queue)
                _close(queue)

    # -- Redis ------------------------------------------------------------------------

    @property
    def _presence_channel(self) -> str:
        return f"{self._prefix}presence"

    def stream_key(self, conversation_id: str) -> str:
        return shard_stream(self._prefix, conversation_id)

    def _queue(self, channel: str, message: dict[str, Any]) -> None:
        """Publish `message` on a pub/sub channel, in order with the frames."""
        self._enqueue(channel, json.dumps(message, ensure_ascii=False))

    def _enqueue(self, key: str, item: str | dict[str, str]) -> None:
        if self._closed:
            return
        if len(self._outbox) >= self._max_pending:
            self._outbox.popleft()
            self.dropped += 1
        self._outbox.append((key, item))
        self._outbox_ready.set()

    def _announce(self, conversation_id: str, present: bool) -> None:
        self._queue(
            self._presence_channel,
            {"replica": self.replica_id, "conversation": conversation_id, "present": present},
        )

    def _announce_all(self, hello: bool = False) -> None:
        message: dict[str, Any] = {
            "replica": self.replica_id,
            "conversations": sorted(self._subscribers),
        }
        if hello:
            message["hello"] = True
        self._queue(self._presence_channel, message)

    async def _send(self) -> None:
        """The one sender: frames leave in the order they were published, as many as are
        waiting (up to `_SEND_BATCH`) in one pipeline, so a burst costs one round trip to
        Redis rather than one per frame. A pipeline that fails is sent again whole: a
        frame that had landed may then reach the other replicas twice, which websocket
        clients already ignore (they keep the highest `seq` they have)."""
        assert self._client is not None
        backoff = 0.05
        while not self._closed:
            if not self._outbox:
                self._outbox_ready.clear()
                await self._outbox_ready.wait()
                continue
            batch = list(itertools.islice(self._outbox, _SEND_BATCH))
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for key, item in batch:
                        if isinstance(item, str):
                            pipe.publish(key, item)
                        else:
                            fields: Any = item
                            pipe.xadd(key, fields, maxlen=_STREAM_LENGTH, approximate=True)
                    await pipe.execute()
            except REDIS_ERRORS as exc:
                log.warning("Redis hub: cannot publish (%s); retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            # What was sent is still at the head, unless a full outbox dropped some of it
            # meanwhile (then only what is left of it goes).
            for entry in batch:
                if self._outbox and self._outbox[0] is entry:
                    self._outbox.popleft()

    async def _beat(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._heartbeat)
            self._announce_all()
            cutoff = time.monotonic() - 3 * self._heartbeat
            for replica, (_, seen) in list(self._remote.items()):
                if seen < cutoff:
                    del self._remote[replica]

    async def _listen(self) -> None:
        """Follow the presence channel; on a lost connection start over (with backoff)
        and say hello again."""
        assert self._client is not None
        backoff = 0.05
        while not self._closed:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._presence_channel)
                self._presence_on = True
                self._announce_all(hello=True)
                backoff = 0.05
                while not self._closed:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._received(message["data"])
            except REDIS_ERRORS as exc:
                if self._presence_on:
                    log.warning("Redis hub: lost Redis (%s); reconnecting", type(exc).__name__)
                self._presence_on = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read(self) -> None:
        """Read every shard from where it left off and hand the frames on to this
        replica's subscribers."""
        assert self._client is not None
        backoff = 0.05
        while not self._closed:
            try:
                streams: dict[Any, Any] = dict(self._positions)
                result: Any = await self._client.xread(
                    streams, count=500, block=int(_POLL_SECONDS * 1000)
                )
                self.connected = True
                backoff = 0.05
                for stream_key, entries in result or []:
                    name = _text(stream_key)
                    for entry_id, fields in entries:
                        self._positions[name] = _text(entry_id)
                        self._frame_read(fields)
            except REDIS_ERRORS as exc:
                if self.connected:
                    log.warning("Redis hub: lost Redis (%s); reconnecting", type(exc).__name__)
                self.connected = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def _frame_read(self, fields: dict[bytes, bytes]) -> None:
        """A shard entry: delivered if this replica has subscribers for its conversation
        and another replica published it (parsed only then)."""
        try:
            conversation_id = fields[b"c"].decode()
            if conversation_id not in self._subscribers or fields[b"r"].decode() == self.replica_id:
                return
            frame = json.loads(fields[b"f"])
        except (KeyError, ValueError):  # UnicodeDecodeError and JSONDecodeError too
            log.warning("Redis hub: ignored a malformed frame")
            return
        self._deliver(conversation_id, frame)

    def _received(self, data: bytes | str) -> None:
        """A presence message from the pub/sub channel."""
        try:
            message = json.loads(data)
            replica = str(message["replica"])
        except (ValueError, KeyError, TypeError):
            log.warning("Redis hub: ignored a malformed message")
            return
        if replica != self.replica_id:
            self._presence(replica, message)

    def _presence(self, replica: str, message: dict[str, Any]) -> None:
        if message.get("bye"):
            self._remote.pop(replica, None)
            return
        conversations, _ = self._remote.get(replica, (set(), 0.0))
        if "conversations" in message:
            conversations = {str(c) for c in message["conversations"]}
        elif "conversation" in message:
            if message.get("present"):
                conversations.add(str(message["conversation"]))
            else:
                conversations.discard(str(message["conversation"]))
        self._remote[replica] = (conversations, time.monotonic())
        if message.get("hello"):
            self._announce_all()  # a replica (re)joined: tell it who is here


def shard_stream(prefix: str, conversation_id: str) -> str:
    """The Redis stream a conversation's frames go through (CRC-32: the same on every
    replica, unlike Python's per-process string hash)."""
    return _shard_key(prefix, zlib.crc32(conversation_id.encode()) % SHARDS)


def _shard_key(prefix: str, shard: int) -> str:
    return f"{prefix}frames:{shard}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _close(queue: asyncio.Queue[Frame | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)

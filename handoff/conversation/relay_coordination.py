"""What the bot relay's replicas must agree on: one delivery per conversation at a time,
and which sends may still be running in Rasa ("in doubt").

One gateway keeps both in memory (`LocalCoordination`). Gateways sharing Redis
(ASSISTANT_REDIS_URL) use `RedisCoordination`:

- the conversation's lock is the in-memory lock (so one waiter per replica reaches
  Redis) and then redis-py's `Lock` (SET NX PX with a token; released only by its
  holder), renewed while held, so a slow Rasa cannot let another replica in, and a
  replica that dies holding it frees it within `lock_seconds`;
- a send that timed out is a key with `in_doubt_seconds` to live: any replica that finds
  it leaves the message alone until it expires, whoever sent it.

Redis unreachable: the replica keeps serving its own customers with its in-memory lock
and memory of sends (one message at a time per conversation on this replica; a
conversation whose requests reach two replicas in that minute may get two deliveries
at once) and logs that it does; it never refuses a customer for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import redis
from redis import asyncio as redis_asyncio
from redis.asyncio.lock import Lock as RedisLock

from handoff.store.redis_outage import Away, RedisOutage

log = logging.getLogger(__name__)

T = TypeVar("T")


class _LockLost:
    """Our Redis lock had expired when we renewed or released it."""


_LOCK_LOST = _LockLost()


class RelayCoordination(Protocol):
    in_doubt_seconds: float

    def hold(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while anything is delivered for, or stored by a customer in, the
        conversation."""
        ...

    async def mark_in_doubt(self, item_id: int) -> None: ...

    async def in_doubt(self, item_id: int) -> bool: ...

    async def clear_doubt(self, item_id: int) -> None: ...


class LocalCoordination:
    """One gateway: an asyncio lock per conversation, and a dict of timed-out sends."""

    def __init__(self, in_doubt_seconds: float) -> None:
        self.in_doubt_seconds = in_doubt_seconds
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._sent_at: dict[int, float] = {}

    def local_lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    def hold(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        return _held(self.local_lock(conversation_id))

    async def mark_in_doubt(self, item_id: int) -> None:
        self._sent_at[item_id] = time.monotonic()

    async def in_doubt(self, item_id: int) -> bool:
        sent_at = self._sent_at.get(item_id)
        if sent_at is None:
            return False
        if time.monotonic() - sent_at < self.in_doubt_seconds:
            return True
        del self._sent_at[item_id]
        return False

    async def clear_doubt(self, item_id: int) -> None:
        self._sent_at.pop(item_id, None)


@contextlib.asynccontextmanager
async def _held(lock: asyncio.Lock) -> AsyncIterator[None]:
    async with lock:
        yield


class RedisCoordination(LocalCoordination):
    """Gateways sharing Redis; falls back to the in-memory parts while Redis is away."""

    def __init__(
        self,
        client: redis_asyncio.Redis,
        in_doubt_seconds: float,
        *,
        prefix: str = "assistant:relay:",
        lock_seconds: float = 30.0,
    ) -> None:
        super().__init__(in_doubt_seconds)
        self._client = client
        self._prefix = prefix
        self.lock_seconds = lock_seconds
        self.outage = RedisOutage("the relay", "coordinates alone", "coordinate")

    def hold(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._hold(conversation_id)

    @contextlib.asynccontextmanager
    async def _hold(self, conversation_id: str) -> AsyncIterator[None]:
        async with self.local_lock(conversation_id):
            shared = RedisLock(
                self._client,
                f"{self._prefix}lock:{conversation_id}",
                timeout=self.lock_seconds,
                sleep=0.02,
            )
            acquired = await self._try(shared.acquire, False)
            keeper = asyncio.create_task(self._keep(shared)) if acquired else None
            try:
                yield
            finally:
                if keeper is not None:
                    keeper.cancel()
                    await self._try(shared.release, None)

    async def _keep(self, shared: RedisLock) -> None:
        """Renew the lock while it is held (a delivery may wait on Rasa for a while)."""
        while True:
            await asyncio.sleep(self.lock_seconds / 3)
            await self._try(shared.reacquire, None)

    async def mark_in_doubt(self, item_id: int) -> None:
        await super().mark_in_doubt(item_id)
        key, milliseconds = self._doubt_key(item_id), int(self.in_doubt_seconds * 1000)
        await self._try(lambda: self._client.set(key, "1", px=milliseconds), None)

    async def in_doubt(self, item_id: int) -> bool:
        key = self._doubt_key(item_id)
        found = await self._try(lambda: self._client.exists(key), None)
        if found is None:  # Redis away: what this replica remembers
            return await super().in_doubt(item_id)
        return bool(found)

    async def clear_doubt(self, item_id: int) -> None:
        await super().clear_doubt(item_id)
        key = self._doubt_key(item_id)
        await self._try(lambda: self._client.delete(key), None)

    def _doubt_key(self, item_id: int) -> str:
        return f"{self._prefix}in-doubt:{item_id}"

    async def _try(self, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """Run a Redis call; `fallback` when Redis is away (told once per outage)."""

        async def unless_lock_lost() -> T | _LockLost:
            try:
                return await call()
            except redis.exceptions.LockError as exc:  # expired meanwhile: not an outage
                log.warning("relay lock lost before it was let go: %s", exc)
                return _LOCK_LOST

        answer = await self.outage.ask(unless_lock_lost)
        return fallback if isinstance(answer, Away | _LockLost) else answer

    @property
    def degraded(self) -> bool:
        return self.outage.degraded

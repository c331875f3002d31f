"""Fan-out of conversation events to every open websocket of that conversation."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Protocol

Frame = dict[str, Any]

# A subscriber that falls this far behind is dropped; it catches up from the
# store (last_seq) when it reconnects, so nothing is lost.
_MAX_QUEUED_FRAMES = 500


class Realtime(Protocol):
    """What the services need of a hub: this in-process `Hub` (one gateway), or
    `realtime_redis.RedisHub` (gateways sharing Redis, ASSISTANT_REDIS_URL)."""

    def subscribe(self, conversation_id: str) -> asyncio.Queue[Frame | None]: ...

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[Frame | None]) -> None: ...

    def has_subscribers(self, conversation_id: str) -> bool: ...

    def publish(self, conversation_id: str, frame: Frame) -> None: ...

    def publish_local(self, conversation_id: str, frame: Frame) -> None:
        """To this process's subscribers only (frames each replica makes for its own)."""
        ...

    def publish_elsewhere(self, conversation_id: str, frame: Frame) -> None:
        """To the other replicas' subscribers only (news this replica acted on itself)."""
        ...

    def close_all(self) -> None: ...


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Frame | None]]] = defaultdict(set)

    def subscribe(self, conversation_id: str) -> asyncio.Queue[Frame | None]:
        queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=_MAX_QUEUED_FRAMES)
        self._subscribers[conversation_id].add(queue)
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[Frame | None]) -> None:
        subscribers = self._subscribers.get(conversation_id)
        if subscribers is not None:
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[conversation_id]

    def has_subscribers(self, conversation_id: str) -> bool:
        return bool(self._subscribers.get(conversation_id))

    def publish(self, conversation_id: str, frame: Frame) -> None:
        for queue in list(self._subscribers.get(conversation_id, ())):
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:
                # Tell the stuck subscriber to close; its client reconnects
                # and catches up from the store.
                self.unsubscribe(conversation_id, queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def publish_local(self, conversation_id: str, frame: Frame) -> None:
        self.publish(conversation_id, frame)  # one process: local is everywhere

    def publish_elsewhere(self, conversation_id: str, frame: Frame) -> None:
        """One process: there is nowhere else."""

    def close_all(self) -> None:
        for conversation_id in list(self._subscribers):
            for queue in list(self._subscribers[conversation_id]):
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)
        self._subscribers.clear()

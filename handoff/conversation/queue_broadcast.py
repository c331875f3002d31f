"""Queue events whose cost does not grow with the queue.

A queue change (a chat queued, accepted, cancelled, abandoned, a new message in the
summary) only marks the queue dirty: `Coalescer.touch()` is O(1). A flusher task per
kind of audience then reads the queue from the store once and sends:

- customers, at most once per `CUSTOMER_INTERVAL` (1 s): their position and wait
  estimate, and only to those whose numbers changed since the last frame they got;
- agents, at most once per `AGENT_INTERVAL` (0.5 s): what changed in their queue since
  the frame they got last (`queue_delta`: chats gone, chats new or changed), computed once
  per kind of agent (languages, skills); a whole snapshot (`queue`) only to a console
  with nothing to build on (`QueueFeed`). So a flush sends bytes in proportion to what
  changed, not to the length of the queue, to each of N consoles.

Positions come from one pass over the ordered queue (`queue_positions`). The store
stays the order of truth: each gateway replica coalesces for its own sockets, and a
periodic resync (`HandoffService.resync_queue`) catches changes another replica made.
Queue frames go to this replica's sockets only (`Realtime.publish_local`): every
replica sends its own consoles their own versions, which must not interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from handoff.conversation.models import Handoff
from handoff.store.errors import STORE_UNAVAILABLE

log = logging.getLogger(__name__)

CUSTOMER_INTERVAL = 1.0  # seconds between two position frames to one customer, at least
AGENT_INTERVAL = 0.5  # seconds between two queue snapshots to the agents, at least
READY_ESTIMATE_SECONDS = 30.0  # a free agent can pick the chat up right away


QueueKey = tuple[str, str | None]  # (language, skill): chats waiting for the same agents


def queue_key(handoff: Handoff) -> QueueKey:
    return (handoff.language, handoff.skill)


def queue_positions(queued: Iterable[Handoff]) -> dict[int, int]:
    """Handoff id -> 1-based position among the chats waiting for the same kind of agent.

    `queued` is in service order (priority, then first come), as the store returns it;
    one pass, whatever the length of the queue."""
    seen: dict[QueueKey, int] = {}
    positions: dict[int, int] = {}
    for handoff in queued:
        key = queue_key(handoff)
        seen[key] = seen.get(key, 0) + 1
        positions[handoff.id] = seen[key]
    return positions


def wait_estimate(position: int, free_seats: int, agents: int, handling_seconds: float) -> int:
    """Seconds until an agent is likely to take the chat at `position`."""
    if position <= free_seats:
        return int(READY_ESTIMATE_SECONDS)
    rounds = math.ceil((position - free_seats) / max(1, agents))
    return int(rounds * handling_seconds)


class EncodedFrame(dict[str, Any]):
    """A frame many sockets get as is: serialized once, on first use (`text`), not once
    per socket. Still a plain JSON object for anything that does not know it."""

    @functools.cached_property
    def text(self) -> str:
        return json.dumps(self)


AgentKind = tuple[tuple[str, ...], tuple[str, ...]]  # (languages, skills): who sees which chats
QueueItem = dict[str, Any]  # HandoffService.queue_item: one waiting chat as a console shows it
# What a console shows of an item that a flush can change. Not `waiting_seconds`: it
# grows every second and the console counts it up itself (from `queued_at`).
_TIMER = "waiting_seconds"


def _shown(item: QueueItem) -> tuple[Any, ...]:
    return tuple(
        (key, tuple(value) if isinstance(value, list) else value)
        for key, value in item.items()
        if key != _TIMER
    )


@dataclass
class _KindView:
    """One kind of agent's queue as of `version`, and how it got there from `version - 1`."""

    version: int
    items: dict[str, QueueItem]  # conversation id -> item, in service order
    shown: dict[str, tuple[Any, ...]]
    delta: EncodedFrame | None = None  # version - 1 -> version
    _snapshot: EncodedFrame | None = None

    def snapshot(self) -> EncodedFrame:
        if self._snapshot is None:
            items = list(self.items.values())
            self._snapshot = EncodedFrame(type="queue", version=self.version, items=items)
        return self._snapshot


# What `QueueFeed._sent` holds for a console that takes no new chats (away or busy).
_PAUSED = "paused"


class QueueFeed:
    """What each console on this replica was sent of its queue, so a flush sends it only
    the change (`queue_delta`: `base` -> `version`, `removed` ids, `upsert` items).

    A console gets the whole list (`queue`, with its `version`) when it has nothing to
    build on: its socket just opened (`forget`), it takes chats again after away or
    busy, or its languages or skills changed. A console whose version does not match a
    delta's `base` reads the queue again (the browser does: agent.js)."""

    def __init__(self) -> None:
        self._views: dict[AgentKind, _KindView] = {}
        # username -> (kind, version) last sent; PAUSED: the empty list of an away agent
        self._sent: dict[str, tuple[AgentKind, int] | str] = {}

    def forget(self, username: str) -> None:
        """A console opened: its next frame is a whole snapshot."""
        self._sent.pop(username, None)

    def update(self, kind: AgentKind, items: list[QueueItem]) -> None:
        """The queue this kind of agent can take now, in service order."""
        fresh = {item["conversation_id"]: item for item in items}
        shown = {conversation_id: _shown(item) for conversation_id, item in fresh.items()}
        view = self._views.get(kind)
        if view is None:
            self._views[kind] = _KindView(1, fresh, shown)
            return
        removed = [
            conversation_id for conversation_id in view.items if conversation_id not in fresh
        ]
        upsert = [
            item
            for conversation_id, item in fresh.items()
            if view.shown.get(conversation_id) != shown[conversation_id]
        ]
        if removed or upsert:
            view.version += 1
            view.delta = EncodedFrame(
                type="queue_delta",
                base=view.version - 1,
                version=view.version,
                removed=removed,
                upsert=upsert,
            )
        # Unchanged: the last delta still leads to this version.
        view.items, view.shown, view._snapshot = fresh, shown, None

    def frame_for(self, username: str, kind: AgentKind) -> EncodedFrame | None:
        """What to send this console after `update(kind, ...)`: None when it is up to date."""
        view = self._views[kind]
        sent = self._sent.get(username)
        self._sent[username] = (kind, view.version)
        if sent == (kind, view.version):
            return None
        if sent == (kind, view.version - 1) and view.delta is not None:
            return view.delta
        return view.snapshot()

    def pause(self, username: str) -> bool:
        """The agent takes no new chats: True if their console still needs the empty list."""
        paused = self._sent.get(username) == _PAUSED
        self._sent[username] = _PAUSED
        return not paused


@dataclass(frozen=True)
class Capacity:
    """Who can take chats of one queue key right now: agents online and free seats."""

    agents: int
    free_seats: int


class Coalescer:
    """Runs `flush` after `touch()`, at most once per `interval`, never two at once.

    The first touch after a quiet spell flushes at once (on the next turn of the event
    loop); touches while a flush waits or runs are folded into the next one. So a burst
    of N touches over T seconds costs at most 1 + T / interval flushes."""

    def __init__(
        self,
        interval: float,
        flush: Callable[[], Awaitable[None]],
        *,
        name: str = "queue flush",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._flush = flush
        self._name = name
        self._clock = clock
        self._dirty = False
        self._last = -math.inf
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0

    def touch(self) -> None:
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    @property
    def pending(self) -> bool:
        return self._dirty or (self._task is not None and not self._task.done())

    async def _run(self) -> None:
        while self._dirty:
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty = False
            self._last = self._clock()
            self.flushes += 1
            try:
                await self._flush()
            except STORE_UNAVAILABLE as exc:  # the next touch tries again
                log.warning("%s wait for the store (%s)", self._name, type(exc).__name__)
            except Exception:  # the next touch tries again; the store is unharmed
                log.exception("%s failed", self._name)

    async def idle(self) -> None:
        """Wait until nothing is left to flush (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._dirty = False

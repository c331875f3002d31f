"""The supervisors' live view: the chats with people now, pushed to every open page.

Pushed, not polled: the view changes at the moments the agents' queue frames go out
(a chat queued, taken, moved, resolved, an agent's console opened or closed), and the
service calls `HandoffService.changed()` then. `LiveFeed.touch()` is O(1); a coalesced
flush (at most once per `LIVE_INTERVAL`) computes the view once and sends the same
encoded frame to every supervisor socket on this replica, and only while one is open.
A slow tick (`REFRESH_SECONDS`) flushes anyway while someone watches: presence expires
with time, and another replica's changes are not announced here. Waits go out as
seconds; the page counts them on between frames.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from handoff.conversation.models import Handoff
from handoff.conversation.queue_broadcast import Coalescer, EncodedFrame
from handoff.realtime.hub import Frame

LIVE_INTERVAL = 1.0  # seconds between two live frames, at least
REFRESH_SECONDS = 10.0  # a frame this often while watched, changed or not
# Queued chats listed one by one (the oldest first); the per-team counts cover them all.
MAX_LISTED_QUEUED = 200
_FRAMES_KEPT = 2  # per socket: each frame is the whole view, so older ones can go


def open_chats(
    queued: Iterable[Handoff], assigned: Iterable[Handoff], now: float
) -> list[dict[str, Any]]:
    """The chats a supervisor may reassign: waiting ones in service order (at most
    `MAX_LISTED_QUEUED`), then those with an agent, longest held first.

    `wait_seconds`: how long the customer has waited (queued), or waited before an agent
    took it (assigned); `with_agent_seconds`: since the chat was first assigned."""
    items: list[dict[str, Any]] = []
    for handoff in list(queued)[:MAX_LISTED_QUEUED]:
        items.append({**_item(handoff), "wait_seconds": int(now - handoff.queued_at)})
    for handoff in assigned:
        assigned_at = handoff.assigned_at or handoff.queued_at
        items.append(
            {
                **_item(handoff),
                "wait_seconds": int(assigned_at - handoff.queued_at),
                "with_agent_seconds": int(now - assigned_at),
            }
        )
    return items


def _item(handoff: Handoff) -> dict[str, Any]:
    return {
        "conversation_id": handoff.conversation_id,
        "state": handoff.status,
        "language": handoff.language,
        "skill": handoff.skill,
        "reason": handoff.reason,
        "priority": handoff.priority,
        "agent": handoff.agent,
        "summary": handoff.summary,  # as the agents' queue shows it: contact details redacted
    }


class LiveFeed:
    """Sends the live view (`compute()`) to the sockets subscribed on this replica."""

    def __init__(
        self, compute: Callable[[], Awaitable[dict[str, Any]]], interval: float = LIVE_INTERVAL
    ) -> None:
        self._compute = compute
        self._sockets: set[asyncio.Queue[Frame | None]] = set()
        self.frames = Coalescer(interval, self._flush, name="live view")

    def subscribe(self) -> asyncio.Queue[Frame | None]:
        queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=_FRAMES_KEPT)
        self._sockets.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Frame | None]) -> None:
        self._sockets.discard(queue)

    @property
    def watched(self) -> bool:
        return bool(self._sockets)

    def touch(self) -> None:
        """Something in the view changed: a frame goes out soon, if anyone watches."""
        if self._sockets:
            self.frames.touch()

    async def frame(self) -> EncodedFrame:
        return EncodedFrame(type="live", **await self._compute())

    async def _flush(self) -> None:
        if not self._sockets:
            return
        frame = await self.frame()
        for queue in list(self._sockets):
            if queue.full():  # a slow page skips a view: the next one replaces it anyway
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(frame)

    async def aclose(self) -> None:
        """Stop flushing and tell every socket to close."""
        await self.frames.aclose()
        for queue in list(self._sockets):
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(None)
        self._sockets.clear()

"""The notices in force on this gateway replica, and the customers it tells when they change.

How every replica learns of a change: each one reads the store every REFRESH_SECONDS
and compares what is active with what it had (`refresh`), rather than publishing a change
on the realtime hub. Polling, because:

- the designers' windows (data/notices.yml) start and end by the clock alone, with nobody
  to publish anything: a timer per replica is needed anyway, and the same tick that
  notices a window opening picks up a supervisor's notice;
- a replica that was restarting, or cut from Redis, when a notice was posted or ended
  catches up on its next tick; a publish it missed would be lost for good;
- it works the same with SQLite alone and with PostgreSQL without Redis; the cost is one
  small indexed read per replica every few seconds, and customers' reads of the notices
  (GET /api/notices, the bot's lines) come from memory, never the store.

The replica a supervisor used refreshes at once (routes.py), so they see their change
immediately; the others within REFRESH_SECONDS.

Customers are told on their websocket: a `notices` frame with every active notice (each
text in ko, ja and en; the widget shows its language) when the socket opens while any is
active, and whenever the set changes. An empty list ends the banner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiohttp import web

from handoff.helpcentre.catalog import HelpCatalog, KnowledgeBase
from handoff.notices.model import Notice, now_instant
from handoff.notices.topics import known_topics
from handoff.realtime.hub import Frame
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.store.interface import Handoffs

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0


class NoticeBoard:
    def __init__(
        self,
        scheduled: tuple[Notice, ...],
        handoffs: Handoffs,
        catalog: HelpCatalog,
        clock: Callable[[], str] = now_instant,
    ) -> None:
        self.scheduled = scheduled  # data/notices.yml, checked at start
        self.handoffs = handoffs
        self.catalog = catalog
        self.clock = clock
        self._posted: tuple[Notice, ...] = ()  # the store's, as of the last refresh
        self._active: tuple[Notice, ...] = ()
        self._listeners: set[asyncio.Queue[Frame | None]] = set()

    def active(self) -> tuple[Notice, ...]:
        """What is in force, as of the last refresh: from memory, no store read."""
        return self._active

    async def refresh(self) -> bool:
        """Read the supervisors' notices, work out what is active now, and tell every
        listening customer if that changed; returns whether it did."""
        now = self.clock()
        self._posted = tuple(await self.handoffs.notices(now))
        active = tuple(
            sorted(
                (n for n in (*self.scheduled, *self._posted) if n.active_at(now)),
                key=lambda n: (n.starts_at, n.id),
            )
        )
        if active == self._active:
            return False
        before = {n.id for n in self._active}
        self._active = active
        after = {n.id for n in active}
        log.info(
            "notices changed: started %s, ended %s",
            sorted(after - before) or "none",
            sorted(before - after) or "none",
        )
        frame = self.frame()
        for queue in list(self._listeners):
            self._tell(queue, frame)
        return True

    async def upcoming(self) -> list[Notice]:
        """Active and scheduled notices of both sources (read fresh), by start."""
        now = self.clock()
        posted = await self.handoffs.notices(now)
        kept = [n for n in self.scheduled if n.ends_at is None or n.ends_at > now]
        return sorted([*kept, *posted], key=lambda n: (n.starts_at, n.id))

    def frame(self) -> Frame:
        return {"type": "notices", "notices": [n.for_socket() for n in self._active]}

    def listen(self, queue: asyncio.Queue[Frame | None]) -> None:
        """A customer's websocket: told what is active now if anything is, then every
        change. With nothing active a socket gets no frame it did not get before notices
        existed; the widget reads GET /api/notices whenever its socket (re)opens."""
        self._listeners.add(queue)
        if self._active:
            self._tell(queue, self.frame())

    def forget(self, queue: asyncio.Queue[Frame | None]) -> None:
        self._listeners.discard(queue)

    def _tell(self, queue: asyncio.Queue[Frame | None], frame: Frame) -> None:
        # A socket this far behind is being dropped by the hub; it reconnects and is told
        # the notices afresh when it opens again.
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(frame)

    async def knowledge_base(self) -> KnowledgeBase:
        """The KB as its files are now (a stat per file: off the event loop)."""
        return await asyncio.to_thread(self.catalog.current)

    async def topics(self) -> set[str]:
        return known_topics(await self.knowledge_base())

    async def run(self) -> None:
        """Refresh every REFRESH_SECONDS for as long as the gateway runs."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except STORE_UNAVAILABLE as exc:
                log.warning("notices wait for the store (%s)", type(exc).__name__)
            except Exception:
                log.exception("reading the notices failed")


NOTICE_BOARD = web.AppKey("notice_board", NoticeBoard)

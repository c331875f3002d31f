"""Copying SQLite's write-ahead log back into the database file, off the store's thread.

By default SQLite checkpoints inside the commit that takes the log past 1000 pages: the
store's one connection then copies a few MB of scattered pages and syncs the file while
every chat's next statement waits behind it. On a database with 170 000 messages that
was a write's p99 of 10 ms (18 ms at worst) against 1 ms with the checkpoints made here,
from a connection and a thread of their own (the store alone, 200 customer messages a
second for three minutes). A PASSIVE checkpoint
waits for no reader or writer, so the store goes on writing meanwhile; the log restarts
from its start once a checkpoint has copied all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from handoff.store.sqlite_connection import OneTripConnection

log = logging.getLogger(__name__)

# How often the log is copied back: about a second of writes (~4 MB at 200 messages a
# second) stays in it, as with SQLite's own 1000-page threshold.
CHECKPOINT_SECONDS = 1.0


class WalCheckpointer:
    """Every `seconds`, a PASSIVE checkpoint of the database at `path`, on a connection of
    its own. The store's connection must have `wal_autocheckpoint=0`."""

    def __init__(self, connection: OneTripConnection, seconds: float) -> None:
        self._connection = connection
        self._seconds = seconds
        self._task = asyncio.get_running_loop().create_task(self._run(), name="wal-checkpoint")

    @classmethod
    async def start(cls, path: Path, seconds: float = CHECKPOINT_SECONDS) -> WalCheckpointer:
        return cls(await OneTripConnection.open(path), seconds)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._seconds)
            try:
                await self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                # Nothing is lost: the log keeps the pages until a checkpoint succeeds.
                log.warning("WAL checkpoint failed (%s); the log grows until one succeeds", exc)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._connection.close()

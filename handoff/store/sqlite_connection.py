"""The store's SQLite connection: each statement runs, hands over all its rows and ends in
one trip to the connection's thread.

Why: aiosqlite runs every call on the connection's own thread, one at a time, so
`execute`, then `fetchone`, then the cursor's `close` are three trips, each queued behind
everyone else's. A SELECT that has produced its first row and is not yet closed keeps the
connection in a read transaction. With a thousand chats some SELECT is always between its
trips, so that read transaction never ended: a WAL checkpoint could not pass the frame it
started at, the WAL never restarted (250 MB after eight minutes) and every page read
searched a longer WAL index. bench/soak.py showed it as relay p95 climbing from 23 ms to
48 s within ten minutes at a steady rate. Here no statement is left open between trips,
so the read transaction ends at every commit and checkpoints keep the WAL small; it is
also one trip instead of three.

The store's queries read a row by key or a bounded list (LIMIT), so reading every row at
once costs nothing they did not read already.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiosqlite

Parameters = Sequence[Any] | Mapping[str, Any]


@dataclass(frozen=True)
class Rows:
    """What a statement gave: all its rows, and what a cursor would tell of it."""

    rows: list[sqlite3.Row]
    rowcount: int
    lastrowid: int | None
    # (name, None × 6) per column of a SELECT, as sqlite3.Cursor.description; else None.
    description: tuple[tuple[str, None, None, None, None, None, None], ...] | None

    async def fetchone(self) -> sqlite3.Row | None:
        return self.rows[0] if self.rows else None

    async def fetchall(self) -> list[sqlite3.Row]:
        return self.rows

    # `async with connection.execute(...) as rows:` reads as it did with a cursor.
    async def __aenter__(self) -> Rows:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


def _run(connection: sqlite3.Connection, sql: str, parameters: Parameters) -> Rows:
    """On the connection's thread: the statement, to its last row, then closed."""
    cursor = connection.execute(sql, parameters)
    try:
        return Rows(cursor.fetchall(), cursor.rowcount, cursor.lastrowid, cursor.description)
    finally:
        cursor.close()


class _Statement:
    """`await connection.execute(...)` or `async with connection.execute(...) as rows:`."""

    def __init__(self, connection: aiosqlite.Connection, sql: str, parameters: Parameters):
        self._connection = connection
        self._sql = sql
        self._parameters = parameters

    async def _rows(self) -> Rows:
        # aiosqlite has no public way to run our own function on its thread; _execute is
        # what all of its methods use (aiosqlite is pinned in requirements/app.txt, and
        # tests/handoff/test_sqlite_connection.py checks the behaviour).
        raw = self._connection._conn
        run = cast(Callable[..., Awaitable[Rows]], self._connection._execute)
        return await run(_run, raw, self._sql, self._parameters)

    def __await__(self) -> Generator[Any, None, Rows]:
        return self._rows().__await__()

    async def __aenter__(self) -> Rows:
        return await self._rows()

    async def __aexit__(self, *_: object) -> None:
        return None


class OneTripConnection:
    """An aiosqlite connection whose `execute` leaves no statement open (module doc)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, path: str | Any) -> OneTripConnection:
        connection = await aiosqlite.connect(path)
        connection.row_factory = aiosqlite.Row
        return cls(connection)

    def execute(self, sql: str, parameters: Parameters = ()) -> _Statement:
        return _Statement(self._connection, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Parameters]) -> None:
        await self._connection.executemany(sql, parameters)

    async def commit(self) -> None:
        await self._connection.commit()

    async def rollback(self) -> None:
        await self._connection.rollback()

    async def close(self) -> None:
        await self._connection.close()

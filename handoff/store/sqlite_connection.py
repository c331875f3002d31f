"""The store's SQLite connection: one thread of its own runs every statement, and each
statement runs, hands over all its rows and ends in one trip to that thread; `run` takes
a whole function there (several statements and the commit) in one trip too.

Why no statement is left open between trips: a SELECT that has produced its first row and
is not yet closed keeps the connection in a read transaction. With a thousand chats some
SELECT was always between its trips (aiosqlite's execute, then fetchone, then close), so
that read transaction never ended: a WAL checkpoint could not pass the frame it started
at, the WAL never restarted (250 MB after eight minutes) and every page read searched a
longer WAL index. bench/soak.py showed it as relay p95 climbing from 23 ms to 48 s within
ten minutes at a steady rate. Here the read transaction ends at every commit and
checkpoints keep the WAL small.

Why `run`: each trip is a hand-over to the thread and a later turn of the event loop to
go on, queued behind every other chat's trips. A message written statement by statement
took eight trips; as one function it takes one (handoff/store/sqlite_messages.py).

The thread is a one-worker ThreadPoolExecutor from the standard library: the connection
is made on it and used only there, as sqlite3 requires.

The store's queries read a row by key or a bounded list (LIMIT), so reading every row at
once costs nothing they did not read already.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

Parameters = Sequence[Any] | Mapping[str, Any]
P = ParamSpec("P")
T = TypeVar("T")


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


def run_statement(connection: sqlite3.Connection, sql: str, parameters: Parameters = ()) -> Rows:
    """On the connection's thread: the statement, to its last row, then closed."""
    cursor = connection.execute(sql, parameters)
    try:
        return Rows(cursor.fetchall(), cursor.rowcount, cursor.lastrowid, cursor.description)
    finally:
        cursor.close()


class _Statement:
    """`await connection.execute(...)` or `async with connection.execute(...) as rows:`."""

    def __init__(self, connection: OneTripConnection, sql: str, parameters: Parameters):
        self._connection = connection
        self._sql = sql
        self._parameters = parameters

    async def _rows(self) -> Rows:
        return await self._connection.run(run_statement, self._sql, self._parameters)

    def __await__(self) -> Generator[Any, None, Rows]:
        return self._rows().__await__()

    async def __aenter__(self) -> Rows:
        return await self._rows()

    async def __aexit__(self, *_: object) -> None:
        return None


class OneTripConnection:
    """A SQLite connection on a thread of its own whose `execute` leaves no statement
    open (module doc)."""

    def __init__(self, connection: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        self._connection = connection
        self._thread = thread
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> OneTripConnection:
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        try:
            connection = await asyncio.get_running_loop().run_in_executor(
                thread, _connect, str(path)
            )
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return cls(connection, thread)

    async def run(
        self,
        function: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`function(connection, *args, **kwargs)` on the connection's thread, in one trip.
        It must not leave a statement open (read its rows to the end, close its cursors)."""
        call = functools.partial(function, self._connection, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def execute(self, sql: str, parameters: Parameters = ()) -> _Statement:
        return _Statement(self, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Parameters]) -> None:
        rows = list(parameters)  # read here: a generator is not for another thread
        await self.run(lambda connection: connection.executemany(sql, rows).close())

    async def commit(self) -> None:
        await self.run(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        await self.run(sqlite3.Connection.rollback)

    async def close(self) -> None:
        """Close the connection and end its thread; again: nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.run(sqlite3.Connection.close)
        finally:
            self._thread.shutdown(wait=False)


def _connect(path: str) -> sqlite3.Connection:
    """On the connection's thread, which is the only one that uses it."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    return connection

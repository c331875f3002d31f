"""The store's SQLite connection leaves no statement open between trips to its thread
(handoff/store/sqlite_connection.py): a WAL checkpoint can then always copy every frame
back, while the same connection goes on writing. With a plain sqlite3 cursor that a
caller still holds, it cannot; the second test shows that, so the first one could fail.
The third shows `run`: a function with several statements and the commit in one trip."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from handoff.store.sqlite_connection import OneTripConnection

ROW = "x" * 2000  # about half a page: each commit adds WAL frames


def checkpoint(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames a passive checkpoint copied back), from another
    connection, as SQLite's automatic checkpoint would."""
    with sqlite3.connect(path) as other:
        _, log, done = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return log, done


async def prepared(path: Path) -> None:
    db = await OneTripConnection.open(path)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
        await db.executemany("INSERT INTO t (x) VALUES (?)", ((ROW,) for _ in range(3)))
        await db.commit()
    finally:
        await db.close()


async def test_rows_come_in_one_trip_and_leave_no_read_open(tmp_path: Path) -> None:
    path = tmp_path / "one.sqlite3"
    await prepared(path)
    db = await OneTripConnection.open(path)
    try:
        async with db.execute("SELECT id, x FROM t WHERE id >= ? ORDER BY id", (2,)) as rows:
            first = await rows.fetchone()
            assert first is not None and first["id"] == 2  # sqlite3.Row, by name
            assert [r["id"] for r in await rows.fetchall()] == [2, 3]
            assert rows.description is not None and rows.description[0][0] == "id"
        written = await db.execute("INSERT INTO t (x) VALUES (?)", (ROW,))
        assert written.rowcount == 1 and written.lastrowid == 4
        await db.commit()
        none = await db.execute("SELECT id FROM t WHERE id = 99")
        assert await none.fetchone() is None and none.rows == []

        # a caller still holding what a SELECT gave, while the connection writes on
        held = await db.execute("SELECT id FROM t ORDER BY id")
        assert (await held.fetchone())["id"] == 1  # type: ignore[index]
        for _ in range(50):
            await db.execute("INSERT INTO t (x) VALUES (?)", (ROW,))
            await db.commit()
        log, done = checkpoint(path)
        assert log > 0 and done == log, (log, done)
    finally:
        await db.close()


async def test_a_held_cursor_keeps_the_wal_from_being_copied_back(tmp_path: Path) -> None:
    """What the module exists for: the same steps with a cursor left open (as aiosqlite's
    execute / fetchone / close in three trips left it between them) pin the WAL at the
    frame its read began at."""
    path = tmp_path / "plain.sqlite3"
    await prepared(path)
    db = sqlite3.connect(path)
    try:
        held = db.execute("SELECT id FROM t ORDER BY id")
        assert held.fetchone() == (1,)
        for _ in range(50):
            db.execute("INSERT INTO t (x) VALUES (?)", (ROW,))
            db.commit()
        log, done = checkpoint(path)
        assert done < log, (log, done)
        held.close()
        log, done = checkpoint(path)
        assert done == log
    finally:
        db.close()


def _move(db: sqlite3.Connection, amount: int) -> tuple[int, str]:
    """On the connection's thread: two writes, a read and the commit, in one trip."""
    db.execute("UPDATE t SET x = x || ? WHERE id = 1", (str(amount),)).close()
    db.execute("INSERT INTO t (x) VALUES (?)", (f"moved {amount}",)).close()
    count = db.execute("SELECT COUNT(*) FROM t").fetchone()[0]
    db.commit()
    return count, threading.current_thread().name


async def test_run_takes_a_function_to_the_connections_thread(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite3"
    await prepared(path)
    db = await OneTripConnection.open(path)
    try:
        count, thread = await db.run(_move, 7)
        assert count == 4
        assert thread != threading.current_thread().name  # off the event loop's thread
        # committed: another connection sees both writes
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT x FROM t WHERE id = 4").fetchone() == ("moved 7",)
        # what the function raises reaches the caller; the connection goes on
        with pytest.raises(sqlite3.OperationalError):
            await db.run(lambda connection: connection.execute("SELECT * FROM nowhere"))
        await db.rollback()
        assert (await (await db.execute("SELECT COUNT(*) AS n FROM t")).fetchone())["n"] == 4  # type: ignore[index]
    finally:
        await db.close()

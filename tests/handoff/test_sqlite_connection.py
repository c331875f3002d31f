"""The store's SQLite connection leaves no statement open between trips to its thread
(handoff/store/sqlite_connection.py): a WAL checkpoint can then always copy every frame
back, while the same connection goes on writing. With a plain aiosqlite cursor that a
caller still holds, it cannot; the second test shows that, so the first one could fail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
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
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
        await db.executemany("INSERT INTO t (x) VALUES (?)", [(ROW,)] * 3)
        await db.commit()


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


async def test_a_held_aiosqlite_cursor_keeps_the_wal_from_being_copied_back(
    tmp_path: Path,
) -> None:
    """What the module exists for: the same steps on a plain aiosqlite cursor pin the WAL
    at the frame its read began at."""
    path = tmp_path / "plain.sqlite3"
    await prepared(path)
    async with aiosqlite.connect(path) as db:
        held = await db.execute("SELECT id FROM t ORDER BY id")
        assert (await held.fetchone()) == (1,)
        for _ in range(50):
            await db.execute("INSERT INTO t (x) VALUES (?)", (ROW,))
            await db.commit()
        log, done = checkpoint(path)
        assert done < log, (log, done)
        await held.close()
        log, done = checkpoint(path)
        assert done == log


@pytest.mark.parametrize("sql", ["SELECT nope FROM t", "INSERT INTO missing VALUES (1)"])
async def test_a_failing_statement_raises_and_the_connection_goes_on(
    tmp_path: Path, sql: str
) -> None:
    path = tmp_path / "errors.sqlite3"
    await prepared(path)
    db = await OneTripConnection.open(path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await db.execute(sql)
        count = await db.execute("SELECT COUNT(*) AS n FROM t")
        assert (await count.fetchone())["n"] == 3  # type: ignore[index]
    finally:
        await db.close()

"""The store's connection never checkpoints the WAL itself: a checkpointer on a connection
and thread of its own copies the log back (handoff/store/sqlite_checkpoint.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from handoff.store.sqlite import SQLiteStore

LONG = "x" * 3000  # most of a page per message: 2000 messages are far past 1000 pages


def file_sizes(path: Path) -> tuple[int, int]:
    """(database file, write-ahead log) in bytes."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size, wal.stat().st_size if wal.exists() else 0


async def write_messages(store: SQLiteStore, count: int) -> None:
    conversation, _ = await store.create_conversation("ko", {})
    for n in range(count):
        await store.add_message(conversation.id, "agent", f"{n} {LONG}")


async def test_the_stores_own_commits_leave_the_log_alone(tmp_path: Path) -> None:
    path = tmp_path / "handoff.sqlite3"
    store = await SQLiteStore.open(path, checkpoint_seconds=3600)  # not in this test
    try:
        before, _ = file_sizes(path)
        await write_messages(store, 2000)
        after, wal = file_sizes(path)
        # SQLite's own checkpoint would have run at 1000 pages (about 4 MB).
        assert wal > 6_000_000, wal
        assert after == before, (before, after)
    finally:
        await store.close()


async def test_the_checkpointer_copies_the_log_back_while_the_store_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handoff.sqlite3"
    store = await SQLiteStore.open(path, checkpoint_seconds=0.05)
    try:
        before, _ = file_sizes(path)
        await write_messages(store, 2000)
        async with asyncio.timeout(10):
            while file_sizes(path)[0] < before + 6_000_000:
                await asyncio.sleep(0.05)
        # Everything written is in the file and readable from another connection.
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT COUNT(*) FROM messages").fetchone() == (2000,)
    finally:
        await store.close()
    await store.close()  # a second close is harmless

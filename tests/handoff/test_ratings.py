"""One rating per handoff (per conversation when it had none): the latest one counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore


async def test_a_second_rating_of_a_handoff_replaces_the_first(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    conversation, _ = await store.create_conversation("en", {})
    first = await handoffs.enqueue(conversation.id, "requested", 1, "en", None, "s", {})
    first.agent = "alice"
    await handoffs.add_rating(conversation.id, 4, first)
    await handoffs.add_rating(conversation.id, 2, first)
    assert await handoffs.ratings(conversation.id) == [2]

    # a later handoff of the same conversation gets a rating of its own
    second = await handoffs.enqueue(conversation.id, "requested", 1, "en", None, "s", {})
    await handoffs.add_rating(conversation.id, 5, second)
    assert await handoffs.ratings(conversation.id) == [2, 5]

    # without any handoff: one per conversation
    other, _ = await store.create_conversation("en", {})
    await handoffs.add_rating(other.id, 3, None)
    await handoffs.add_rating(other.id, 1, None)
    assert await handoffs.ratings(other.id) == [1]
    await store.close()


async def test_an_older_database_keeps_the_latest_of_each_and_gets_the_index(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the ratings table as the first release made it
        db.execute(
            "CREATE TABLE ratings (conversation_id TEXT NOT NULL, handoff_id INTEGER,"
            " agent TEXT, rating INTEGER NOT NULL, ts TEXT NOT NULL)"
        )
        db.executemany(
            "INSERT INTO ratings VALUES (?, ?, ?, ?, ?)",
            [
                ("c1", 7, "alice", 4, "2026-01-01T00:00:00.000Z"),
                ("c1", 7, "alice", 1, "2026-01-01T00:00:05.000Z"),
                ("c1", 8, "bob", 5, "2026-01-02T00:00:00.000Z"),
                ("c2", None, None, 2, "2026-01-01T00:00:00.000Z"),
                ("c2", None, None, 3, "2026-01-01T00:00:01.000Z"),
            ],
        )
    for _ in range(2):  # opening twice changes nothing more
        store = await SQLiteStore.open(path)
        handoffs = HandoffStore(store.connection)
        assert await handoffs.ratings("c1") == [1, 5]
        assert await handoffs.ratings("c2") == [3]
        await store.close()
    with sqlite3.connect(path) as db:
        indexes = {row[1] for row in db.execute("PRAGMA index_list(ratings)")}
    assert "ratings_one_per_handoff" in indexes

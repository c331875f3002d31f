"""The SQLite search index merges its segments 16 at a time (migration 0012), and a line
written in any of many index batches is still found: ko, ja and en."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from handoff.store.search import SearchFilters
from handoff.store.sqlite import SQLiteStore

WORDS = {"ko": "환불 언제 되나요", "ja": "返品できますか", "en": "where is my parcel"}


async def test_the_index_merges_sixteen_segments_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "handoff.sqlite3"
    await (await SQLiteStore.open(path)).close()
    with sqlite3.connect(path) as db:
        config = dict(db.execute("SELECT k, v FROM search_text_config").fetchall())
    assert config.get("automerge") == 16
    assert config.get("crisismerge") == 64


async def test_lines_from_many_batches_are_found(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "handoff.sqlite3")
    try:
        wanted: dict[str, str] = {}
        # 40 batches: past a first merge of 16 segments, and more left unmerged
        for batch in range(40):
            for language, words in WORDS.items():
                conversation, _ = await store.create_conversation(language, {})
                await store.add_message(conversation.id, "customer", f"{words} {batch}번")
                if batch in (0, 17, 39):
                    wanted[f"{language}{batch}"] = conversation.id
            assert await store.index_search_text() == 3
        for language, words in WORDS.items():
            for batch in (0, 17, 39):
                hits = await store.search(SearchFilters(f"{words} {batch}번"))
                assert [hit.conversation_id for hit in hits] == [wanted[f"{language}{batch}"]]
    finally:
        await store.close()

from pathlib import Path

from handoff.store.sqlite import SQLiteStore


async def test_messages_get_increasing_seq_and_survive_reopen(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    conversation, token = await store.create_conversation("ko", {"name": "민지"})
    first, _ = await store.add_message(conversation.id, "customer", "안녕하세요")
    second, _ = await store.add_message(
        conversation.id, "bot", "네!", buttons=[{"title": "a", "payload": "/b"}]
    )
    assert (first.seq, second.seq) == (1, 2)
    await store.close()

    reopened = await SQLiteStore.open(tmp_path / "db.sqlite3")
    messages = await reopened.messages(conversation.id)
    assert [(m.seq, m.role, m.text) for m in messages] == [
        (1, "customer", "안녕하세요"),
        (2, "bot", "네!"),
    ]
    assert messages[1].buttons == [{"title": "a", "payload": "/b"}]
    assert await reopened.check_token(conversation.id, token)
    await reopened.close()


async def test_resend_with_same_client_id_is_stored_once(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    conversation, _ = await store.create_conversation("en", {})
    first, new_first = await store.add_message(conversation.id, "customer", "hi", client_id="c1")
    again, new_again = await store.add_message(conversation.id, "customer", "hi", client_id="c1")
    assert (new_first, new_again) == (True, False)
    assert again.seq == first.seq
    assert len(await store.messages(conversation.id)) == 1
    await store.close()


async def test_tokens_open_only_their_own_conversation(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    a, token_a = await store.create_conversation("en", {})
    _b, token_b = await store.create_conversation("en", {})
    assert await store.check_token(a.id, token_a)
    assert not await store.check_token(a.id, token_b)
    assert not await store.check_token("no-such-id", token_a)
    assert not await store.check_token(a.id, "")
    await store.close()


async def test_a_turns_replies_are_stored_together_in_order(tmp_path: Path) -> None:
    from handoff.conversation.models import Reply

    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    conversation, _ = await store.create_conversation("ja", {})
    await store.add_message(conversation.id, "customer", "返品したい")
    stored = await store.add_replies(
        conversation.id,
        [
            Reply(
                "返品は30日以内です。", links=[{"title": "t", "url": "u"}], meta={"kb": {"x": 1}}
            ),
            Reply("お役に立ちましたか？", buttons=[{"title": "はい", "payload": "/affirm"}]),
        ],
    )
    assert [m.seq for m in stored] == [2, 3]
    again = await store.messages(conversation.id, after_seq=1)
    assert [(m.seq, m.text, m.links, m.buttons, m.meta) for m in again] == [
        (2, "返品は30日以内です。", [{"title": "t", "url": "u"}], [], {"kb": {"x": 1}}),
        (3, "お役に立ちましたか？", [], [{"title": "はい", "payload": "/affirm"}], {}),
    ]
    await store.close()


async def test_writers_racing_in_one_conversation_get_distinct_seqs(tmp_path: Path) -> None:
    """The customer, the bot and an agent may write at the same moment."""
    import asyncio

    from handoff.conversation.models import Reply

    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    conversation, _ = await store.create_conversation("en", {})
    results = await asyncio.gather(
        *(
            store.add_message(conversation.id, "customer", f"c{i}", client_id=f"c{i}")
            for i in range(20)
        ),
        *(store.add_message(conversation.id, "agent", f"a{i}") for i in range(20)),
        *(store.add_replies(conversation.id, [Reply(f"b{i}"), Reply(f"b{i}'")]) for i in range(10)),
        # the same resend twice at once is stored once
        store.add_message(conversation.id, "customer", "dup", client_id="same"),
        store.add_message(conversation.id, "customer", "dup", client_id="same"),
    )
    stored = await store.messages(conversation.id)
    assert [m.seq for m in stored] == list(range(1, 62))  # 20 + 20 + 10 x 2 + 1
    assert sum(m.text == "dup" for m in stored) == 1
    assert len(results) == 52
    await store.close()


async def test_planner_statistics_steer_handoff_figures_to_their_covering_index(
    tmp_path: Path,
) -> None:
    """Without statistics SQLite walks `handoffs_open` for status = 'resolved' (most
    handoffs) and reads every row; after refresh_statistics the report's covering index."""
    import sqlite3
    from datetime import timedelta

    from bench.analytics import DAYS, START, fill
    from handoff.agent import analytics

    path = tmp_path / "db.sqlite3"
    await (await SQLiteStore.open(path)).close()
    fill(path, 500)
    queries: list[tuple[str, dict[str, object]]] = []

    async def capture(sql: str, params: dict[str, object]) -> list[dict[str, object]]:
        queries.append((sql, params))
        return []

    await analytics.handle_time(capture, analytics.Filters(START, START + timedelta(DAYS - 1)))
    sql, params = queries[0]

    def plan() -> str:
        with sqlite3.connect(path) as db:
            return " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))

    assert "handoffs_open" in plan()
    store = await SQLiteStore.open(path)
    await store.refresh_statistics()
    await store.close()
    assert "COVERING INDEX handoffs_by_hour" in plan()

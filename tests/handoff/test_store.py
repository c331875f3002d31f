from pathlib import Path

from handoff.store import SQLiteStore


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
    b, token_b = await store.create_conversation("en", {})
    assert await store.check_token(a.id, token_a)
    assert not await store.check_token(a.id, token_b)
    assert not await store.check_token("no-such-id", token_a)
    assert not await store.check_token(a.id, "")
    await store.close()

import time
from pathlib import Path

import pytest

from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore, hash_password, verify_password


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt$") and first != second  # salted
    assert "s3cret-pass" not in first
    assert verify_password("s3cret-pass", first)
    assert not verify_password("s3cret-pasS", first)
    assert not verify_password("s3cret-pass", "garbage")


async def test_sessions_open_close_and_expire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    agents = HandoffStore(store.connection)
    await agents.upsert_agent("mina", "password-1", ["ko", "en"], ["billing"], 2, "Mina")
    assert await agents.login("mina", "wrong") is None
    assert await agents.login("nobody", "password-1") is None
    result = await agents.login("mina", "password-1")
    assert result is not None
    agent, token, expires_at = result
    assert agent.can_take("ko", "billing") and not agent.can_take("ja", None)
    assert (await agents.agent_for_token(token)) == agent
    # the token is stored hashed, never as is
    rows = await (
        await store.connection.execute("SELECT token_hash FROM agent_sessions")
    ).fetchall()
    assert token not in {row[0] for row in rows}
    monkeypatch.setattr(time, "time", lambda: expires_at + 1)
    assert await agents.agent_for_token(token) is None  # expired
    monkeypatch.undo()
    await agents.logout(token)
    assert await agents.agent_for_token(token) is None
    await store.close()


async def test_queue_is_priority_then_first_come(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    agents = HandoffStore(store.connection)
    ids = []
    for priority in (1, 2, 1):
        conversation, _ = await store.create_conversation("en", {})
        ids.append((await agents.enqueue(conversation.id, "r", priority, "en", None, "s", {})).id)
    assert [h.id for h in await agents.queued()] == [ids[1], ids[0], ids[2]]
    assert await agents.assign(ids[1], "mina")
    assert not await agents.assign(ids[1], "joe")  # already taken
    assert [h.id for h in await agents.queued()] == [ids[0], ids[2]]
    await store.close()

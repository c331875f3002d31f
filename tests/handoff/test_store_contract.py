"""The store contract: every test runs on SQLite (SQLiteStore + HandoffStore on its
connection, as the gateway wires them) and on PostgreSQL (PostgresStore +
PostgresHandoffStore on this run's throwaway server, in a schema of the test's own), and
must pass the same way on both.

"Another gateway" is a second, independent connection to the same data: a second
SQLiteStore on the same file, or a second PostgresStore (its own pool) on the same schema.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import re
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from handoff.agent.passwords import PasswordHasher
from handoff.attachments.model import Attachment
from handoff.conversation.models import AgentWrite, Handoff, Reply
from handoff.conversation.state_machine import InvalidTransition, TicketRefused
from handoff.notices.model import Notice
from handoff.store import postgres_search
from handoff.store.backends import open_stores
from handoff.store.interface import SESSION_SECONDS
from handoff.store.migrations import (
    BOOKKEEPING_TABLES,
    MIGRATIONS_DIR,
    migrate,
    sqlite_database,
)
from handoff.store.postgres import PostgresHandoffStore, PostgresStore, postgres_fetch
from handoff.store.search import SearchFilters
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings
from stack.shared_stores import parse_database_url

Handoffs = HandoffStore | PostgresHandoffStore
Store = SQLiteStore | PostgresStore


@dataclass
class Backend:
    """One backend's store pair, and a way to open another gateway's pair on its data."""

    name: str
    store: Store
    handoffs: Handoffs
    open_peer: Callable[[], Awaitable[tuple[Store, Handoffs]]]
    # Reads a column the interface does not return (analytics facts); `?` placeholders.
    scalar: Callable[..., Awaitable[Any]]
    peers: list[Store] = field(default_factory=list)

    async def peer(self) -> tuple[Store, Handoffs]:
        store, handoffs = await self.open_peer()
        self.peers.append(store)
        return store, handoffs


async def _connect(url: str) -> asyncpg.Connection:
    target = parse_database_url(url)
    assert target is not None
    return await asyncpg.connect(
        host=target.host,
        port=target.port,
        user=target.user,
        password=target.password,
        database=target.database,
    )


async def _create_schema(url: str) -> str:
    name = f"contract_{secrets.token_hex(4)}"
    admin = await _connect(url)
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
    finally:
        await admin.close()
    return name


async def _drop_schema(url: str, name: str) -> None:
    admin = await _connect(url)
    try:
        await admin.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await admin.close()


@pytest.fixture
async def pg_schema(postgres_url: str) -> AsyncIterator[str]:
    """A fresh schema on the run's PostgreSQL, dropped afterwards."""
    name = await _create_schema(postgres_url)
    yield name
    await _drop_schema(postgres_url, name)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(backend, PostgreSQL URL or ""): the server starts only when a test needs it."""
    if request.param == "postgres":
        return "postgres", request.getfixturevalue("postgres_url")
    return "sqlite", ""


@pytest.fixture
async def backend(database: tuple[str, str], tmp_path: Path) -> AsyncIterator[Backend]:
    kind, url = database
    hasher = PasswordHasher()
    schema = ""
    if kind == "sqlite":
        path = tmp_path / "db.sqlite3"
        sqlite_store = await SQLiteStore.open(path)

        async def sqlite_peer() -> tuple[Store, Handoffs]:
            peer = await SQLiteStore.open(path)
            return peer, HandoffStore(peer.connection, hasher)

        async def sqlite_scalar(sql: str, *args: Any) -> Any:
            async with sqlite_store.connection.execute(sql, args) as cursor:
                row = await cursor.fetchone()
            return row[0] if row else None

        result = Backend(
            "sqlite",
            sqlite_store,
            HandoffStore(sqlite_store.connection, hasher),
            sqlite_peer,
            sqlite_scalar,
        )
    else:
        schema = await _create_schema(url)
        pg_store = await PostgresStore.open(url, schema=schema)

        async def pg_peer() -> tuple[Store, Handoffs]:
            peer = await PostgresStore.open(url, schema=schema)
            return peer, PostgresHandoffStore(peer.pool, hasher)

        async def pg_scalar(sql: str, *args: Any) -> Any:
            numbered = iter(range(1, len(args) + 1))
            return await pg_store.pool.fetchval(
                re.sub(r"\?", lambda _: f"${next(numbered)}", sql), *args
            )

        result = Backend(
            "postgres", pg_store, PostgresHandoffStore(pg_store.pool, hasher), pg_peer, pg_scalar
        )
    try:
        yield result
    finally:
        for peer in result.peers:
            await peer.close()
        await result.store.close()
        hasher.close()
        if schema:
            await _drop_schema(url, schema)


# -- conversations ------------------------------------------------------------------------


async def test_conversation_is_created_read_and_opened_only_by_its_token(
    backend: Backend,
) -> None:
    store = backend.store
    conversation, token = await store.create_conversation("ko", {"name": "민지", "verified": False})
    other, other_token = await store.create_conversation("en", {})
    assert conversation.state == "bot"
    assert await store.get_conversation(conversation.id) == conversation
    assert await store.get_conversation("no-such-id") is None
    assert await store.check_token(conversation.id, token)
    assert not await store.check_token(conversation.id, other_token)
    assert not await store.check_token(other.id, token)
    assert not await store.check_token("no-such-id", token)
    assert not await store.check_token(conversation.id, "")

    await store.set_language(conversation.id, "ja")
    changed = await store.get_conversation(conversation.id)
    assert changed is not None
    assert (changed.language, changed.customer) == ("ja", {"name": "민지", "verified": False})
    assert changed.updated_at >= conversation.updated_at


async def test_earlier_conversations_link_only_the_same_verified_customer(
    backend: Backend,
) -> None:
    store = backend.store
    signed = {"id": "c-42", "email": "a@example.com", "verified": True}
    first, _ = await store.create_conversation("en", signed)
    await asyncio.sleep(0.002)  # created_at has millisecond resolution
    second, _ = await store.create_conversation("en", signed)
    await store.create_conversation("en", {**signed, "verified": False})  # typed, not signed
    await store.create_conversation("en", {**signed, "id": "c-43"})
    current, _ = await store.create_conversation("en", signed)

    earlier = await store.conversations_of_customer(signed, exclude=current.id)
    assert [c.id for c in earlier] == [second.id, first.id]  # newest first, current left out
    assert await store.conversations_of_customer({**signed, "verified": False}, current.id) == []
    assert await store.conversations_of_customer({"verified": True}, current.id) == []


# -- messages and the bot outbox -------------------------------------------------------------


async def test_messages_keep_order_content_and_resends(backend: Backend) -> None:
    store = backend.store
    conversation, _ = await store.create_conversation("ja", {})
    assert (
        await backend.scalar("SELECT engaged FROM conversations WHERE id = ?", conversation.id) == 0
    )

    first, new = await store.add_message(
        conversation.id, "customer", "返品したい", payload="/ask", client_id="c1"
    )
    second, _ = await store.add_message(
        conversation.id,
        "bot",
        "はい",
        buttons=[{"title": "はい", "payload": "/affirm"}],
        links=[{"title": "t", "url": "https://example.com"}],
        meta={"intent": {"name": "ask", "confidence": 0.9}},
    )
    again, new_again = await store.add_message(conversation.id, "customer", "other", client_id="c1")
    assert (first.seq, second.seq, new, new_again) == (1, 2, True, False)
    assert again == first  # the stored message, not the resend's text

    stored = await store.messages(conversation.id)
    assert stored == [first, second]
    assert (stored[0].payload, stored[0].client_id) == ("/ask", "c1")
    assert stored[1].buttons == [{"title": "はい", "payload": "/affirm"}]
    assert stored[1].links == [{"title": "t", "url": "https://example.com"}]
    assert stored[1].meta == {"intent": {"name": "ask", "confidence": 0.9}}
    assert await store.messages(conversation.id, after_seq=1) == [second]
    assert await store.message(conversation.id, 2) == second
    assert await store.message(conversation.id, 3) is None
    assert (
        await backend.scalar("SELECT engaged FROM conversations WHERE id = ?", conversation.id) == 1
    )
    updated = await store.get_conversation(conversation.id)
    assert updated is not None and updated.updated_at == second.ts


async def test_customer_messages_to_the_bot_wait_in_the_outbox_until_answered(
    backend: Backend,
) -> None:
    store = backend.store
    conversation, _ = await store.create_conversation("en", {})
    first = await store.add_customer_message(conversation.id, "hi", payload=None, client_id="k1")
    message, new, item = first.message, first.is_new, first.item
    assert new and item is not None
    # Who owned the chat when it was stored, read under the same lock.
    assert (first.state, first.language, first.agent) == ("bot", "en", None)
    assert (item.kind, item.seq, item.attempts, item.notified) == ("message", message.seq, 0, False)
    assert await store.outbox(conversation.id) == [item]
    assert await store.outbox_conversations() == [conversation.id]

    # A resend neither stores the message again nor queues it for the bot again.
    resent = await store.add_customer_message(conversation.id, "hi", payload=None, client_id="k1")
    assert (resent.message, resent.is_new, resent.item) == (message, False, None)
    assert len(await store.outbox(conversation.id)) == 1

    noted = await store.note_delivery_attempt(item, counted=False)
    assert (noted.attempts, noted.notified) == (0, True)
    noted = await store.note_delivery_attempt(noted, counted=True)
    assert (noted.attempts, noted.notified) == (1, True)
    assert await store.outbox(conversation.id) == [noted]

    replies = await store.add_replies(
        conversation.id, [Reply("hello"), Reply("how can I help?")], completes=noted
    )
    assert [(m.seq, m.role, m.text) for m in replies] == [
        (2, "bot", "hello"),
        (3, "bot", "how can I help?"),
    ]
    assert await store.outbox(conversation.id) == []
    assert await store.outbox_conversations() == []
    assert await store.add_replies(conversation.id, []) == []


async def test_outbox_conversations_longest_waiting_first(backend: Backend) -> None:
    store = backend.store
    a, _ = await store.create_conversation("en", {})
    b, _ = await store.create_conversation("en", {})
    await store.add_customer_message(b.id, "first", payload=None, client_id=None)
    await store.add_customer_message(a.id, "second", payload=None, client_id=None)
    await store.add_customer_message(b.id, "third", payload=None, client_id=None)
    assert await store.outbox_conversations() == [b.id, a.id]


async def test_people_take_over_unanswered_messages_and_hand_back_with_a_resume(
    backend: Backend,
) -> None:
    store = backend.store
    conversation, _ = await store.create_conversation("en", {})
    await store.add_customer_message(conversation.id, "hi", payload=None, client_id=None)
    await store.transition(conversation.id, "escalate")
    assert await store.outbox(conversation.id) == []  # the people's now, not the bot's

    queued = await store.add_customer_message(
        conversation.id, "anyone?", payload=None, client_id=None
    )
    assert (queued.item, queued.state, queued.agent) == (None, "queued", None)
    await store.transition(conversation.id, "assign", {"agent": "kim"})
    await store.transition(conversation.id, "resolve")
    await store.transition(conversation.id, "return_to_bot", {"ask_rating": True})
    (resume,) = await store.outbox(conversation.id)
    assert (resume.kind, resume.seq, resume.ask_rating) == ("resume", None, True)

    other, _ = await store.create_conversation("en", {})
    await store.transition(other.id, "escalate")
    await store.transition(other.id, "cancel")
    await store.transition(other.id, "return_to_bot")
    (plain,) = await store.outbox(other.id)
    assert (plain.kind, plain.ask_rating) == ("resume", False)


async def test_bot_replies_record_their_kb_facts(backend: Backend) -> None:
    store = backend.store
    conversation, _ = await store.create_conversation("ko", {})
    await store.add_message(conversation.id, "customer", "환불")
    await store.add_replies(
        conversation.id,
        [Reply("환불은...", meta={"kb": {"decision": "answer", "article_id": "refunds"}})],
    )
    await store.add_replies(
        conversation.id,
        [Reply("...", meta={"kb_feedback": {"kind": "not_helpful", "article_id": "refunds"}})],
    )
    count = "SELECT COUNT(*) FROM bot_events WHERE conversation_id = ? AND kind = ?"
    assert await backend.scalar(count, conversation.id, "answer") == 1
    assert await backend.scalar(count, conversation.id, "not_helpful") == 1
    assert (
        await backend.scalar(
            "SELECT day || ' ' || started_at FROM bot_events"
            " WHERE conversation_id = ? AND kind = 'answer'",
            conversation.id,
        )
        == f"{conversation.created_at[:10]} {conversation.created_at}"
    )
    flags = "SELECT kb_answered * 10 + kb_rejected FROM conversations WHERE id = ?"
    assert await backend.scalar(flags, conversation.id) == 11


async def test_writers_racing_in_one_conversation_get_distinct_seqs(backend: Backend) -> None:
    """The customer, the bot and an agent may write at the same moment."""
    store = backend.store
    conversation, _ = await store.create_conversation("en", {})
    await asyncio.gather(
        *(
            store.add_customer_message(conversation.id, f"c{i}", payload=None, client_id=f"c{i}")
            for i in range(15)
        ),
        *(store.add_message(conversation.id, "agent", f"a{i}") for i in range(15)),
        *(store.add_replies(conversation.id, [Reply(f"b{i}"), Reply(f"b{i}'")]) for i in range(5)),
        # the same resend twice at once is stored once
        store.add_message(conversation.id, "customer", "dup", client_id="same"),
        store.add_message(conversation.id, "customer", "dup", client_id="same"),
    )
    stored = await store.messages(conversation.id)
    assert [m.seq for m in stored] == list(range(1, 42))  # 15 + 15 + 5 x 2 + 1
    assert sum(m.text == "dup" for m in stored) == 1
    # A turn's replies stay together, in order.
    texts = [m.text for m in stored]
    for i in range(5):
        assert texts.index(f"b{i}'") == texts.index(f"b{i}") + 1


async def test_gateways_writing_to_one_conversation_get_distinct_seqs(backend: Backend) -> None:
    """PostgreSQL serves several gateways; SQLite is one gateway's file by design."""
    if backend.name == "sqlite":
        pytest.skip("SQLite is written by one gateway process")
    conversation, _ = await backend.store.create_conversation("en", {})
    gateways = [backend.store, (await backend.peer())[0], (await backend.peer())[0]]
    await asyncio.gather(
        *(
            gateway.add_message(conversation.id, "customer", f"{g}-{i}", client_id=f"{g}-{i}")
            for g, gateway in enumerate(gateways)
            for i in range(10)
        ),
        *(
            gateway.add_message(conversation.id, "customer", "dup", client_id="same")
            for gateway in gateways
        ),
    )
    stored = await backend.store.messages(conversation.id)
    assert [m.seq for m in stored] == list(range(1, 32))
    assert sum(m.text == "dup" for m in stored) == 1


async def test_a_resend_racing_its_original_skips_no_seq(backend: Backend) -> None:
    """The same client_id sent through several gateways at once: stored once, and the
    next message gets the next number (the resends counted nothing)."""
    if backend.name == "sqlite":
        pytest.skip("SQLite is written by one gateway process")
    gateways = [backend.store, (await backend.peer())[0], (await backend.peer())[0]]
    conversation, _ = await backend.store.create_conversation("ja", {})
    for round_ in range(20):
        results = await asyncio.gather(
            *(
                gateway.add_customer_message(
                    conversation.id, f"再送{round_}", payload=None, client_id=f"r{round_}"
                )
                for gateway in gateways
            )
        )
        assert sum(r.is_new for r in results) == 1
        assert {r.message.seq for r in results} == {round_ + 1}
    stored = await backend.store.messages(conversation.id)
    assert [m.seq for m in stored] == list(range(1, 21))
    later, _ = await backend.store.add_message(conversation.id, "agent", "はい")
    assert later.seq == 21


async def test_a_message_written_without_the_count_is_not_overwritten(
    backend: Backend,
) -> None:
    """A row that came in some other way (a restore, an import) leaves the count behind:
    the next message still takes the number after the highest one stored."""
    conversation, _ = await backend.store.create_conversation("ko", {})
    await backend.store.add_message(conversation.id, "customer", "안녕하세요")
    imported = await backend.scalar(
        "INSERT INTO messages (conversation_id, seq, role, text, ts)"
        " VALUES (?, 5, 'bot', '가져온 메시지', '2026-12-05T00:00:00.000Z') RETURNING seq",
        conversation.id,
    )
    assert imported == 5
    message, is_new = await backend.store.add_message(conversation.id, "agent", "네")
    assert is_new and message.seq == 6


async def test_a_handoff_racing_customer_messages_leaves_the_bot_nothing(
    backend: Backend,
) -> None:
    """Whichever way they interleave: a message stored before the escalation had its
    outbox item deleted by it, one stored after never got one."""
    store = backend.store
    for _ in range(5):
        conversation, _ = await store.create_conversation("en", {})
        results = await asyncio.gather(
            *(
                store.add_customer_message(conversation.id, f"m{i}", payload=None, client_id=None)
                for i in range(6)
            ),
            store.transition(conversation.id, "escalate"),
        )
        assert await store.outbox(conversation.id) == []
        assert len(await store.messages(conversation.id)) == 6
        assert results[-1].to_state == "queued"


# -- transitions and their events -----------------------------------------------------------


async def test_transitions_move_the_state_and_record_each_event(backend: Backend) -> None:
    store = backend.store
    conversation, _ = await store.create_conversation("en", {})
    path = [
        ("escalate", {"reason": "requested"}, "bot", "queued"),
        ("assign", {"agent": "kim"}, "queued", "assigned"),
        ("resolve", {}, "assigned", "resolved"),
        ("return_to_bot", {"ask_rating": True}, "resolved", "bot"),
    ]
    for name, data, from_state, to_state in path:
        event = await store.transition(conversation.id, name, data or None)
        assert (event.name, event.from_state, event.to_state, event.data) == (
            name,
            from_state,
            to_state,
            data,
        )
        now = await store.get_conversation(conversation.id)
        assert now is not None and now.state == to_state and now.updated_at == event.ts
    events = await store.events(conversation.id)
    assert [(e.name, e.from_state, e.to_state, e.data) for e in events] == [
        (name, f, t, data) for name, data, f, t in path
    ]
    assert await store.events("no-such-id") == []


@pytest.mark.parametrize(
    ("path", "name", "current"),
    [
        ([], "assign", "bot"),
        ([], "return_to_bot", "bot"),
        ([], "no_such_transition", "bot"),
        (["escalate"], "escalate", "queued"),
        (["escalate"], "resolve", "queued"),
        (["escalate", "abandon"], "assign", "abandoned"),
    ],
)
async def test_an_invalid_transition_changes_nothing(
    backend: Backend, path: list[str], name: str, current: str
) -> None:
    store = backend.store
    conversation, _ = await store.create_conversation("en", {})
    for step in path:
        await store.transition(conversation.id, step)
    before = await store.get_conversation(conversation.id)
    with pytest.raises(InvalidTransition) as raised:
        await store.transition(conversation.id, name)
    assert raised.value.current == current
    assert await store.get_conversation(conversation.id) == before
    assert len(await store.events(conversation.id)) == len(path)


async def test_a_transition_of_an_unknown_conversation_is_a_key_error(backend: Backend) -> None:
    with pytest.raises(KeyError):
        await backend.store.transition("no-such-id", "escalate")


@pytest.mark.parametrize("where", ["one gateway", "two gateways"])
async def test_two_transitions_from_one_state_only_one_wins(backend: Backend, where: str) -> None:
    if backend.name == "sqlite" and where == "two gateways":
        # SQLiteStore leaves the losing UPDATE's transaction open until its connection's
        # next commit, holding the file's write lock: fine for its one process only.
        pytest.skip("SQLite is written by one gateway process")
    store = backend.store
    other = store if where == "one gateway" else (await backend.peer())[0]
    for _ in range(5):
        conversation, _ = await store.create_conversation("en", {})
        await store.transition(conversation.id, "escalate")
        results = await asyncio.gather(
            store.transition(conversation.id, "assign", {"agent": "a"}),
            other.transition(conversation.id, "cancel", {"by": "b"}),
            return_exceptions=True,
        )
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, InvalidTransition)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].current == won[0].to_state
        final = await store.get_conversation(conversation.id)
        assert final is not None and final.state == won[0].to_state
        events = await store.events(conversation.id)
        assert [e.name for e in events] == ["escalate", won[0].name]


# -- the queue ------------------------------------------------------------------------------


async def _queued_chat(
    backend: Backend,
    priority: int = 1,
    language: str = "en",
    skill: str | None = None,
    context: dict[str, Any] | None = None,
) -> Handoff:
    conversation, _ = await backend.store.create_conversation(language, {})
    await backend.store.transition(conversation.id, "escalate")
    return await backend.handoffs.enqueue(
        conversation.id,
        "requested",
        priority,
        language,
        skill,
        f"summary {conversation.id[:8]}",
        context or {"transcript": ["hi"]},
    )


async def test_enqueue_keeps_the_handoff_and_the_conversations_facts(backend: Backend) -> None:
    handoff = await _queued_chat(backend, priority=2, language="ko", skill="billing")
    assert (handoff.status, handoff.priority, handoff.language, handoff.skill) == (
        "queued",
        2,
        "ko",
        "billing",
    )
    assert (handoff.agent, handoff.assigned_at, handoff.closed_at) == (None, None, None)
    assert handoff.context == {"transcript": ["hi"]}
    assert abs(handoff.queued_at - time.time()) < 60
    assert await backend.handoffs.handoff(handoff.id) == handoff
    assert await backend.handoffs.handoff(handoff.id + 1000) is None
    assert await backend.handoffs.open_handoff(handoff.conversation_id) == handoff
    assert await backend.handoffs.latest_handoff(handoff.conversation_id) == handoff
    assert await backend.handoffs.open_handoff("no-such-id") is None
    conversation = await backend.store.get_conversation(handoff.conversation_id)
    assert conversation is not None
    assert (
        await backend.scalar(
            "SELECT last_handoff FROM conversations WHERE id = ?", handoff.conversation_id
        )
        == "queued"
    )
    assert (
        await backend.scalar(
            "SELECT day || ' ' || started_at FROM handoffs WHERE id = ?", handoff.id
        )
        == f"{conversation.created_at[:10]} {conversation.created_at}"
    )

    handoff.context["note"] = "vip"
    await backend.handoffs.save_context(handoff)
    saved = await backend.handoffs.handoff(handoff.id)
    assert saved is not None and saved.context == {"transcript": ["hi"], "note": "vip"}


async def test_the_queue_serves_priority_first_then_first_come(backend: Backend) -> None:
    normal_1 = await _queued_chat(backend, priority=1)
    urgent = await _queued_chat(backend, priority=5, context={"offline": True})
    normal_2 = await _queued_chat(backend, priority=1, context={"offline": False})
    korean = await _queued_chat(backend, priority=1, language="ko")
    billing = await _queued_chat(backend, priority=1, skill="billing")
    urgent_2 = await _queued_chat(backend, priority=5)
    urgent_billing = await _queued_chat(backend, priority=9, skill="billing")
    order = [urgent_billing, urgent, urgent_2, normal_1, normal_2, korean, billing]

    queued = await backend.handoffs.queued()
    assert [h.id for h in queued] == [h.id for h in order]
    assert queued[1].context == {"offline": True}  # the whole stored context
    entries = await backend.handoffs.queue_entries()
    assert [h.id for h in entries] == [h.id for h in order]
    assert [h.context for h in entries] == [{}, {"offline": True}, {}, {}, {}, {}, {}]
    assert entries[3].summary == normal_1.summary

    # Places count among chats of the same language and skill only.
    positions = [await backend.handoffs.queue_position(h) for h in order]
    assert positions == [1, 1, 2, 3, 4, 1, 2]

    assert await backend.handoffs.assign(urgent.id, "kim")
    assert [h.id for h in await backend.handoffs.queued()] == [
        h.id for h in order if h is not urgent
    ]
    assert await backend.handoffs.queue_position(normal_2) == 3


async def test_many_agents_accepting_one_chat_at_once_one_gets_it(backend: Backend) -> None:
    handoff = await _queued_chat(backend)
    _, peer_handoffs = await backend.peer()
    attempts = [
        (backend.handoffs if i % 2 == 0 else peer_handoffs).assign(handoff.id, f"agent{i}")
        for i in range(10)
    ]
    results = await asyncio.gather(*attempts)
    assert results.count(True) == 1, results
    winner = f"agent{results.index(True)}"
    taken = await backend.handoffs.handoff(handoff.id)
    assert taken is not None
    assert (taken.status, taken.agent) == ("assigned", winner)
    assert taken.assigned_at is not None and taken.assigned_at >= handoff.queued_at
    assert [h.id for h in await backend.handoffs.assigned_to(winner)] == [handoff.id]
    assert await backend.handoffs.assigned_counts() == {winner: 1}
    assert not await backend.handoffs.assign(handoff.id, "late")
    assert await backend.handoffs.queued() == []
    assert (
        await backend.scalar(
            "SELECT last_handoff FROM conversations WHERE id = ?", handoff.conversation_id
        )
        == "assigned"
    )


async def test_closing_a_handoff_and_what_it_took(backend: Backend) -> None:
    handoff = await _queued_chat(backend)
    assert await backend.handoffs.assign(handoff.id, "kim")
    await backend.handoffs.note_agent_reply(handoff.id)
    first_reply = await backend.scalar(
        "SELECT first_reply_at FROM handoffs WHERE id = ?", handoff.id
    )
    assert first_reply is not None
    await asyncio.sleep(0.01)
    await backend.handoffs.note_agent_reply(handoff.id)  # only the first counts
    assert (
        await backend.scalar("SELECT first_reply_at FROM handoffs WHERE id = ?", handoff.id)
        == first_reply
    )
    await backend.handoffs.close(handoff.id, "resolved")

    closed = await backend.handoffs.latest_handoff(handoff.conversation_id)
    assert closed is not None and closed.status == "resolved" and closed.closed_at is not None
    assert await backend.handoffs.open_handoff(handoff.conversation_id) is None
    assert await backend.handoffs.assigned_counts() == {}
    (seconds,) = await backend.handoffs.recent_handling_seconds()
    assert closed.assigned_at is not None
    assert seconds == pytest.approx(closed.closed_at - closed.assigned_at)
    assert (
        await backend.scalar(
            "SELECT last_handoff FROM conversations WHERE id = ?", handoff.conversation_id
        )
        == "resolved"
    )

    cancelled = await _queued_chat(backend)
    await backend.handoffs.close(cancelled.id, "cancelled")
    assert len(await backend.handoffs.recent_handling_seconds()) == 1  # resolved ones only
    assert await backend.handoffs.recent_handling_seconds(limit=0) == []


async def test_a_supervisor_moving_a_chat_wins_once(backend: Backend) -> None:
    handoff = await _queued_chat(backend)
    assert await backend.handoffs.assign(handoff.id, "kim")
    before = await backend.handoffs.handoff(handoff.id)
    assert before is not None
    _, peer_handoffs = await backend.peer()
    results = await asyncio.gather(
        *(
            (backend.handoffs if i % 2 == 0 else peer_handoffs).reassign(
                handoff.id, "kim", f"agent{i}"
            )
            for i in range(6)
        )
    )
    assert results.count(True) == 1, results
    winner = f"agent{results.index(True)}"
    moved = await backend.handoffs.handoff(handoff.id)
    assert moved is not None
    assert (moved.status, moved.agent, moved.assigned_at) == (
        "assigned",
        winner,
        before.assigned_at,
    )
    assert not await backend.handoffs.reassign(handoff.id, "kim", "lee")  # no longer kim's

    await backend.handoffs.close(handoff.id, "resolved")
    assert not await backend.handoffs.reassign(handoff.id, winner, "lee")  # closed
    # Undoing a move (only_open=False) works on a closed chat too.
    assert await backend.handoffs.reassign(handoff.id, winner, "kim", only_open=False)
    undone = await backend.handoffs.handoff(handoff.id)
    assert undone is not None and (undone.status, undone.agent) == ("resolved", "kim")


async def test_a_chat_transferred_to_a_team_keeps_its_place_in_the_queue(
    backend: Backend,
) -> None:
    """requeue: the chat waits again, for the new skill, ahead of chats queued after it,
    and only while it is still the transferring agent's."""
    first = await _queued_chat(backend, language="ko")
    later = await _queued_chat(backend, language="ko", skill="billing")
    assert await backend.handoffs.assign(first.id, "kim")
    assert not await backend.handoffs.requeue(first.id, "lee", "billing")  # not lee's
    assert await backend.handoffs.requeue(first.id, "kim", "billing")
    back = await backend.handoffs.handoff(first.id)
    assert back is not None
    assert (back.status, back.agent, back.skill, back.queued_at) == (
        "queued",
        None,
        "billing",
        first.queued_at,
    )
    assert await backend.handoffs.queue_position(back) == 1
    assert await backend.handoffs.queue_position(later) == 2
    assert [h.id for h in await backend.handoffs.queue_entries()] == [first.id, later.id]
    assert await backend.handoffs.assigned_counts() == {}
    assert not await backend.handoffs.requeue(first.id, "kim", None)  # waiting: nobody's
    await backend.handoffs.close(first.id, "cancelled")
    assert not await backend.handoffs.requeue(first.id, "kim", None)


async def test_a_customer_message_names_the_agent_who_has_the_chat(backend: Backend) -> None:
    """The service relays a message to the agent from what storing it said, with no
    second read: the agent must be the one the chat is assigned to now."""
    handoff = await _queued_chat(backend, language="ja")
    waiting = await backend.store.add_customer_message(
        handoff.conversation_id, "まだ？", payload=None, client_id=None
    )
    assert (waiting.state, waiting.agent, waiting.item) == ("queued", None, None)
    assert await backend.handoffs.assign(handoff.id, "kim")
    await backend.store.transition(handoff.conversation_id, "assign", {"agent": "kim"})
    to_kim = await backend.store.add_customer_message(
        handoff.conversation_id, "もしもし", payload=None, client_id=None
    )
    assert (to_kim.state, to_kim.language, to_kim.agent) == ("assigned", "ja", "kim")
    assert await backend.handoffs.reassign(handoff.id, "kim", "lee")
    to_lee = await backend.store.add_customer_message(
        handoff.conversation_id, "あれ？", payload=None, client_id=None
    )
    assert to_lee.agent == "lee"
    await backend.handoffs.close(handoff.id, "resolved")
    await backend.store.transition(handoff.conversation_id, "resolve")
    after = await backend.store.add_customer_message(
        handoff.conversation_id, "ありがとう", payload=None, client_id=None
    )
    assert (after.state, after.agent) == ("resolved", None)


async def test_an_agent_writes_only_in_a_chat_assigned_to_them(backend: Backend) -> None:
    handoff = await _queued_chat(backend, language="ko")
    store = backend.store
    assert await store.add_agent_message(handoff.conversation_id, "kim", "안녕하세요") is None
    assert await backend.handoffs.assign(handoff.id, "kim")
    assert await store.add_agent_message(handoff.conversation_id, "lee", "제가 볼게요") is None
    stored = await store.add_agent_message(handoff.conversation_id, "kim", "안녕하세요")
    assert stored is not None
    message, handoff_id = stored
    assert (message.role, message.text, handoff_id) == ("agent", "안녕하세요", handoff.id)
    assert [m.text for m in await store.messages(handoff.conversation_id)] == ["안녕하세요"]
    assert await backend.handoffs.reassign(handoff.id, "kim", "lee")
    assert await store.add_agent_message(handoff.conversation_id, "kim", "아직 있어요") is None
    moved = await store.add_agent_message(handoff.conversation_id, "lee", "이어서 도와드릴게요")
    assert moved is not None and moved[0].seq == message.seq + 1
    await backend.handoffs.close(handoff.id, "resolved")
    assert await store.add_agent_message(handoff.conversation_id, "lee", "끝") is None
    assert len(await store.messages(handoff.conversation_id)) == 2


async def test_an_agent_message_by_session_token_checks_the_session_with_the_write(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoffs, store = backend.handoffs, backend.store
    await handoffs.upsert_agent("kim", "pw-kim", ["ko"], [], 2)
    await handoffs.upsert_agent("lee", "pw-lee", ["ko"], [], 2)
    kim, lee = await handoffs.login("kim", "pw-kim"), await handoffs.login("lee", "pw-lee")
    assert kim is not None and lee is not None
    handoff = await _queued_chat(backend, language="ko")
    chat = handoff.conversation_id
    # queued, nobody's yet: kim's session is known, the chat is not hers
    assert await store.add_agent_message_as(kim[1], chat, "안녕하세요") == AgentWrite(kim[0])
    assert await handoffs.assign(handoff.id, "kim")

    assert await store.add_agent_message_as("not-a-session", chat, "안녕") == AgentWrite(None)
    assert await store.add_agent_message_as(lee[1], chat, "제가 볼게요") == AgentWrite(lee[0])
    written = await store.add_agent_message_as(kim[1], chat, "안녕하세요, 김입니다")
    assert written.agent == kim[0] and written.stored is not None
    message, handoff_id = written.stored
    assert (message.role, message.text, handoff_id) == ("agent", "안녕하세요, 김입니다", handoff.id)
    assert await store.messages(chat) == [message]

    await handoffs.logout(kim[1])
    assert await store.add_agent_message_as(kim[1], chat, "아직 있어요") == AgentWrite(None)
    again = await handoffs.login("kim", "pw-kim")
    assert again is not None
    later = time.time() + SESSION_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert await store.add_agent_message_as(again[1], chat, "끝") == AgentWrite(None)  # expired
    assert await store.messages(chat) == [message]


async def test_the_live_view_lists_assigned_chats_longest_held_first(backend: Backend) -> None:
    first = await _queued_chat(backend)
    second = await _queued_chat(backend)
    waiting = await _queued_chat(backend)
    assert await backend.handoffs.assign(second.id, "lee")
    await asyncio.sleep(0.01)
    assert await backend.handoffs.assign(first.id, "kim")
    held = await backend.handoffs.assigned()
    assert [(h.id, h.agent, h.context) for h in held] == [
        (second.id, "lee", {}),
        (first.id, "kim", {}),
    ]
    assert waiting.id not in [h.id for h in held]
    await backend.handoffs.close(second.id, "resolved")
    assert [h.id for h in await backend.handoffs.assigned()] == [first.id]


# -- agents, sessions and sign-in lockouts -----------------------------------------------------


async def test_agents_are_created_updated_and_listed(backend: Backend) -> None:
    agents = backend.handoffs
    kim = await agents.upsert_agent("kim", "pw-1", ["ko", "en"], ["billing"], 3, "Kim")
    assert (kim.username, kim.display_name, kim.languages, kim.skills, kim.capacity, kim.role) == (
        "kim",
        "Kim",
        ("ko", "en"),
        ("billing",),
        3,
        "agent",
    )
    await agents.upsert_agent("abe", "pw-2", ["ja"], [], 1, role="supervisor")
    kim = await agents.upsert_agent("kim", "pw-3", ["ko"], [], 5)
    assert (kim.display_name, kim.languages, kim.capacity) == ("kim", ("ko",), 5)
    assert [a.username for a in await agents.agents()] == ["abe", "kim"]
    abe = await agents.agent("abe")
    assert abe is not None and abe.is_supervisor
    assert await agents.agent("nobody") is None
    with pytest.raises(ValueError):
        await agents.upsert_agent("eve", "pw", ["en"], [], 1, role="admin")
    assert await agents.agent("eve") is None


async def test_sign_in_sessions_and_sign_out(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    agents = backend.handoffs
    await agents.upsert_agent("kim", "old", ["en"], [], 2)
    await agents.upsert_agent("kim", "right", ["en"], [], 2)  # a new password replaces the old
    assert await agents.login("kim", "old") is None
    assert await agents.login("kim", "wrong") is None
    assert await agents.login("nobody", "right") is None
    signed_in = await agents.login("kim", "right")
    assert signed_in is not None
    agent, token, expires_at = signed_in
    assert agent.username == "kim"
    assert expires_at == pytest.approx(time.time() + SESSION_SECONDS, abs=60)
    found = await agents.agent_for_token(token)
    assert found is not None and found.username == "kim"
    assert await agents.agent_for_token("not-a-token") is None

    other = await agents.login("kim", "right")
    assert other is not None
    await agents.logout(token)
    assert await agents.agent_for_token(token) is None
    assert await agents.agent_for_token(other[1]) is not None  # the other session stays

    later = time.time() + SESSION_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert await agents.agent_for_token(other[1]) is None  # expired


async def test_sign_in_lockouts_are_kept_and_lifted(backend: Backend) -> None:
    agents = backend.handoffs
    assert not await agents.login_locked("kim")
    await agents.lock_login("kim", 5)
    await agents.lock_login("ghost", 7)  # a username that does not exist locks the same
    locked = await agents.login_lockouts()
    assert list(locked) == ["ghost", "kim"]
    await asyncio.sleep(0.002)
    await agents.lock_login("kim", 9)  # again: still locked since the first time
    assert (await agents.login_lockouts())["kim"] == locked["kim"]
    assert await agents.login_locked("kim")
    assert await agents.unlock_login("kim")
    assert not await agents.unlock_login("kim")
    assert not await agents.login_locked("kim")
    assert list(await agents.login_lockouts()) == ["ghost"]


async def test_availability_is_kept_per_agent_and_read_by_every_gateway(
    backend: Backend,
) -> None:
    agents = backend.handoffs
    kim = await agents.upsert_agent("kim", "pw-1", ["en"], [], 2)
    assert kim.availability == "online"  # a new agent takes chats, as before availability
    away = await agents.set_availability("kim", "away")
    assert away is not None and (away.username, away.availability) == ("kim", "away")

    # another gateway reads it with the agent, whichever way it reads agents
    _, peer = await backend.peer()
    signed_in = await peer.login("kim", "pw-1")
    assert signed_in is not None and signed_in[0].availability == "away"
    by_token = await peer.agent_for_token(signed_in[1])
    assert by_token is not None and by_token.availability == "away"
    assert [(a.username, a.availability) for a in await peer.agents()] == [("kim", "away")]
    assert signed_in[0].public()["availability"] == "away"  # the sign-in answer carries it

    # adding the agent again (new password, languages) leaves their choice alone
    kim = await agents.upsert_agent("kim", "pw-2", ["en", "ko"], [], 3)
    assert (kim.languages, kim.availability) == (("en", "ko"), "away")
    for availability in ("busy", "online"):
        changed = await peer.set_availability("kim", availability)
        assert changed is not None and changed.availability == availability
        found = await agents.agent("kim")
        assert found is not None and found.availability == availability

    assert await agents.set_availability("nobody", "busy") is None
    for wrong in ("lunch", "", "ONLINE", "offline"):  # offline is shown, never set
        with pytest.raises(ValueError):
            await agents.set_availability("kim", wrong)
    found = await agents.agent("kim")
    assert found is not None and found.availability == "online"


async def test_signed_in_agents_have_a_session_that_has_not_ended(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    agents = backend.handoffs
    assert await agents.signed_in_agents() == set()
    for name in ("kim", "abe", "joe"):
        await agents.upsert_agent(name, "pw-1", ["en"], [], 1)
    first, second, abe = [await agents.login(n, "pw-1") for n in ("kim", "kim", "abe")]
    assert first is not None and second is not None and abe is not None
    assert await agents.signed_in_agents() == {"kim", "abe"}  # joe never signed in
    await agents.logout(abe[1])
    await agents.logout(first[1])
    assert await agents.signed_in_agents() == {"kim"}  # kim's second session is still open
    _, peer = await backend.peer()
    assert await peer.signed_in_agents() == {"kim"}
    later = time.time() + SESSION_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert await agents.signed_in_agents() == set()  # expired


# -- tickets and ratings --------------------------------------------------------------------


async def test_offline_tickets_newest_first(backend: Backend) -> None:
    handoffs = backend.handoffs
    first = await handoffs.create_ticket("c1", "ko", {"email": "a@example.com"}, "연락 주세요")
    second = await handoffs.create_ticket("c2", "en", {"phone": "+1 555"}, "call me")
    assert second > first > 0
    tickets = await handoffs.tickets()
    assert [t["ticket_id"] for t in tickets] == [second, first]
    assert {k: v for k, v in tickets[1].items() if k != "created_at"} == {
        "ticket_id": first,
        "conversation_id": "c1",
        "language": "ko",
        "contact": {"email": "a@example.com"},
        "message": "연락 주세요",
        "state": "open",
        "claimed_by": None,
        "claimed_at": None,
        "answered_at": None,
        "closed_at": None,
        "resolution": None,
    }
    assert tickets[1]["created_at"].endswith("Z")


async def _ticket(backend: Backend, language: str = "ja") -> tuple[str, int]:
    conversation, _ = await backend.store.create_conversation(language, {})
    ticket = await backend.handoffs.create_ticket(
        conversation.id, language, {"email": "aiko@example.com"}, "返金について連絡ください"
    )
    return conversation.id, ticket


async def test_a_ticket_is_claimed_answered_and_closed_each_an_event(backend: Backend) -> None:
    store, handoffs = backend.store, backend.handoffs
    cid, ticket = await _ticket(backend)
    claimed = await handoffs.change_ticket(ticket, "claim", "kim")
    assert (claimed["state"], claimed["claimed_by"]) == ("claimed", "kim")
    assert claimed["claimed_at"].endswith("Z")
    assert [t["ticket_id"] for t in await handoffs.tickets("open")] == []
    assert [t["ticket_id"] for t in await handoffs.tickets("mine", "kim")] == [ticket]
    assert await handoffs.tickets("mine", "lee") == []
    with pytest.raises(TicketRefused) as refused:
        await store.add_ticket_reply(ticket, "lee", [Reply("横取り", role="agent")])
    assert refused.value.code == "not_yours"
    with pytest.raises(TicketRefused) as refused:
        await handoffs.change_ticket(ticket, "claim", "lee")
    assert refused.value.code == "ticket_claimed"
    answered, stored = await store.add_ticket_reply(
        ticket,
        "kim",
        [Reply("担当者から回答がありました:", role="system"), Reply("返金しました", role="agent")],
    )
    assert answered["state"] == "answered" and answered["answered_at"]
    assert [(m.role, m.text) for m in stored] == [
        ("system", "担当者から回答がありました:"),
        ("agent", "返金しました"),
    ]
    assert [(m.seq, m.role) for m in await store.messages(cid)] == [(1, "system"), (2, "agent")]
    again, _ = await store.add_ticket_reply(ticket, "kim", [Reply("追伸", role="agent")])
    assert again["state"] == "answered"
    with pytest.raises(TicketRefused) as refused:
        await handoffs.change_ticket(ticket, "release", "kim")  # answered: close it instead
    assert refused.value.code == "wrong_state"
    closed = await handoffs.change_ticket(ticket, "close", "kim", "refunded")
    assert (closed["state"], closed["resolution"]) == ("closed", "refunded")
    assert closed["closed_at"] and closed["claimed_by"] == "kim"
    with pytest.raises(TicketRefused) as refused:
        await store.add_ticket_reply(ticket, "kim", [Reply("もう一度", role="agent")])
    assert refused.value.code == "ticket_closed"
    assert len(await store.messages(cid)) == 3  # the refused reply wrote nothing
    events = [e for e in await store.events(cid) if e.name.startswith("ticket_")]
    assert [(e.name, e.data["from"], e.data["to"], e.data["by"]) for e in events] == [
        ("ticket_claim", "open", "claimed", "kim"),
        ("ticket_reply", "claimed", "answered", "kim"),
        ("ticket_reply", "answered", "answered", "kim"),
        ("ticket_close", "answered", "closed", "kim"),
    ]
    assert all(e.data["ticket"] == ticket and e.from_state == e.to_state == "bot" for e in events)
    assert events[-1].data["resolution"] == "refunded"
    assert "返金しました" not in str([e.data for e in events])  # the reply is a message only
    _, peer = await backend.peer()
    assert await peer.ticket(ticket) == closed


async def test_a_released_ticket_is_open_again_and_unknown_ones_are_key_errors(
    backend: Backend,
) -> None:
    handoffs = backend.handoffs
    cid, ticket = await _ticket(backend, "ko")
    with pytest.raises(TicketRefused) as refused:
        await backend.store.add_ticket_reply(ticket, "kim", [Reply("먼저", role="agent")])
    assert refused.value.code == "ticket_not_claimed"
    await handoffs.change_ticket(ticket, "claim", "kim")
    with pytest.raises(TicketRefused) as refused:
        await handoffs.change_ticket(ticket, "release", "lee")
    assert refused.value.code == "not_yours"
    released = await handoffs.change_ticket(ticket, "release", "kim")
    assert (released["state"], released["claimed_by"], released["claimed_at"]) == (
        "open",
        None,
        None,
    )
    assert [t["ticket_id"] for t in await handoffs.tickets("open")] == [ticket]
    assert (await handoffs.change_ticket(ticket, "claim", "lee"))["claimed_by"] == "lee"
    names = [e.name for e in await backend.store.events(cid)]
    assert names == ["ticket_claim", "ticket_release", "ticket_claim"]
    for call in (
        handoffs.change_ticket(ticket + 1000, "claim", "kim"),
        backend.store.add_ticket_reply(ticket + 1000, "kim", [Reply("?", role="agent")]),
    ):
        with pytest.raises(KeyError):
            await call
    with pytest.raises(ValueError):
        await handoffs.tickets("everything")


async def test_of_concurrent_claims_from_two_gateways_exactly_one_wins(backend: Backend) -> None:
    _, peer = await backend.peer()
    for _ in range(5):
        cid, ticket = await _ticket(backend, "en")
        results = await asyncio.gather(
            backend.handoffs.change_ticket(ticket, "claim", "kim"),
            peer.change_ticket(ticket, "claim", "lee"),
            backend.handoffs.change_ticket(ticket, "claim", "park"),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, dict)]
        lost = [r for r in results if isinstance(r, TicketRefused)]
        assert len(won) == 1 and len(lost) == 2, results
        assert {r.code for r in lost} <= {"ticket_claimed", "ticket_changed"}
        final = await backend.handoffs.ticket(ticket)
        assert final is not None and final["claimed_by"] == won[0]["claimed_by"]
        assert [e.name for e in await backend.store.events(cid)] == ["ticket_claim"]


async def test_one_rating_per_handoff_the_latest_wins(backend: Backend) -> None:
    handoffs = backend.handoffs
    handoff = await _queued_chat(backend)
    assert await handoffs.assign(handoff.id, "kim")
    assigned = await handoffs.handoff(handoff.id)
    cid = handoff.conversation_id
    await handoffs.add_rating(cid, 2, None)  # before any handoff (or without one)
    await asyncio.sleep(0.002)
    await handoffs.add_rating(cid, 3, None)  # replaces it
    await asyncio.sleep(0.002)
    await handoffs.add_rating(cid, 4, assigned)
    await asyncio.sleep(0.002)
    await handoffs.add_rating(cid, 5, assigned)  # replaces the handoff's
    assert await handoffs.ratings(cid) == [3, 5]
    assert await handoffs.ratings("other") == []
    assert (
        await backend.scalar(
            "SELECT agent FROM ratings WHERE conversation_id = ? AND rating = 5", cid
        )
        == "kim"
    )


# -- private notes ---------------------------------------------------------------------------


async def test_notes_are_kept_in_order_masked_and_apart_from_the_transcript(
    backend: Backend,
) -> None:
    handoffs = backend.handoffs
    handoff = await _queued_chat(backend, language="ko")
    cid = handoff.conversation_id
    other = (await _queued_chat(backend)).conversation_id
    assert await handoffs.notes(cid) == []
    await backend.store.add_message(cid, "customer", "환불해 주세요")

    first = await handoffs.add_note(cid, "kim", "VIP 고객, 재무팀 환불 승인 완료")
    second = await handoffs.add_note(cid, "lead", "カード 4111 1111 1111 1111 で支払い済み")
    third = await handoffs.add_note(cid, "kim", "id 900101-1234567 checked\x00")
    await handoffs.add_note(other, "kim", "a note on another chat")

    notes = await handoffs.notes(cid)
    assert notes == [first, second, third]  # what add_note returned is what is kept
    assert [n.id for n in notes] == sorted(n.id for n in notes)
    assert [(n.author, n.conversation_id) for n in notes] == [
        ("kim", cid),
        ("lead", cid),
        ("kim", cid),
    ]
    assert notes[0].text == "VIP 고객, 재무팀 환불 승인 완료"
    # card numbers and national ids masked as in agent messages; NUL made storable
    assert notes[1].text == "カード ****-****-****-1111 で支払い済み"
    assert notes[2].text == "id ******-******* checked\ufffd"
    assert all(n.created_at.endswith("Z") for n in notes)
    assert [n.text for n in await handoffs.notes(other)] == ["a note on another chat"]
    # notes are no messages: the transcript (what the customer reads) has none of them
    assert [m.text for m in await backend.store.messages(cid)] == ["환불해 주세요"]
    # another gateway reads the same notes
    _, peer = await backend.peer()
    assert await peer.notes(cid) == notes

    with pytest.raises(KeyError):
        await handoffs.add_note("no-such-conversation", "kim", "lost")
    assert await handoffs.notes("no-such-conversation") == []
    # the failed add left the store as it was: the next note is stored and committed
    fourth = await handoffs.add_note(cid, "kim", "after a refusal")
    assert (await peer.notes(cid))[-1] == fourth


# -- labels ----------------------------------------------------------------------------------


async def test_labels_replace_the_set_and_each_change_is_an_event(backend: Backend) -> None:
    handoffs = backend.handoffs
    handoff = await _queued_chat(backend, language="ja")
    cid = handoff.conversation_id
    other = (await _queued_chat(backend)).conversation_id
    assert await handoffs.labels(cid) == []
    assert await handoffs.labels_of([cid, other]) == {}
    events_before = len(await backend.store.events(cid))

    assert await handoffs.set_labels(cid, ["vip", "refund"], "kim") == (["refund", "vip"], [])
    assert await handoffs.labels(cid) == ["refund", "vip"]
    # replacing: one added, one removed, one kept
    assert await handoffs.set_labels(cid, ["urgent", "vip"], "lead") == (["urgent"], ["refund"])
    assert await handoffs.labels(cid) == ["urgent", "vip"]
    # the same set again: nothing changes, and no event
    assert await handoffs.set_labels(cid, ["vip", "urgent"], "kim") == ([], [])
    await handoffs.set_labels(other, ["bug"], "kim")
    assert await handoffs.labels_of([cid, other, "no-such-conversation"]) == {
        cid: ["urgent", "vip"],
        other: ["bug"],
    }

    # the history: one 'labels' event per change, the state as it was, who and what
    events = (await backend.store.events(cid))[events_before:]
    assert [(e.name, e.from_state, e.to_state) for e in events] == [
        ("labels", "queued", "queued"),
        ("labels", "queued", "queued"),
    ]
    assert [e.data for e in events] == [
        {"added": ["refund", "vip"], "removed": [], "by": "kim"},
        {"added": ["urgent"], "removed": ["refund"], "by": "lead"},
    ]
    # labels are no transition: the conversation is still queued and can be assigned
    assert (await backend.store.get_conversation(cid)).state == "queued"  # type: ignore[union-attr]
    await backend.store.transition(cid, "assign", {"agent": "kim"})

    # another gateway reads the same labels, and clears them
    _, peer = await backend.peer()
    assert await peer.labels(cid) == ["urgent", "vip"]
    assert await peer.set_labels(cid, [], "kim") == ([], ["urgent", "vip"])
    assert await handoffs.labels(cid) == []
    last = (await backend.store.events(cid))[-1]
    assert (last.name, last.from_state, last.data["removed"]) == (
        "labels",
        "assigned",
        ["urgent", "vip"],
    )

    with pytest.raises(KeyError):
        await handoffs.set_labels("no-such-conversation", ["vip"], "kim")
    assert await handoffs.labels("no-such-conversation") == []
    # the refusal left the store as it was: the next change is stored and committed
    await handoffs.set_labels(cid, ["feedback"], "kim")
    assert await peer.labels(cid) == ["feedback"]


async def test_many_conversations_labels_in_one_read(backend: Backend) -> None:
    """labels_of serves the queue and an agent's list: more ids than SQLite takes in one
    statement's parameters are read in slices, with none lost."""
    ids = []
    for i in range(3):
        conversation, _ = await backend.store.create_conversation("en", {})
        await backend.handoffs.set_labels(conversation.id, ["vip"] if i else ["bug"], "kim")
        ids.append(conversation.id)
    wanted = [f"missing-{i}" for i in range(1200)] + ids
    assert await backend.handoffs.labels_of(wanted) == {
        ids[0]: ["bug"],
        ids[1]: ["vip"],
        ids[2]: ["vip"],
    }


# -- help-centre article feedback -------------------------------------------------------------


async def test_help_centre_verdicts_count_apart_from_the_bots_once_per_page(
    backend: Backend,
) -> None:
    """handoff/helpcentre/feedback.py: a verdict is a bot_events row the article figures read
    (in columns of their own); one per page token (its key), the first kept."""
    from datetime import UTC, datetime, timedelta

    from handoff.agent import analytics

    store = backend.store
    assert await store.add_article_feedback("helpcentre:n1", "shipping_time", "helpful", "ko")
    # the same form sent again, or the other button of the same page: the first one stays
    assert not await store.add_article_feedback("helpcentre:n1", "shipping_time", "helpful", "ko")
    assert not await store.add_article_feedback(
        "helpcentre:n1", "shipping_time", "not_helpful", "ko"
    )
    assert await store.add_article_feedback("helpcentre:n2", "shipping_time", "not_helpful", "ja")
    with pytest.raises(ValueError, match="helpful"):
        await store.add_article_feedback("helpcentre:n3", "shipping_time", "none_of_these", "en")

    fetch = (
        postgres_fetch(store.pool)
        if isinstance(store, PostgresStore)
        else analytics.sqlite_fetch(store.connection)
    )
    today = datetime.now(UTC).date()
    rows = await analytics.articles(
        fetch, analytics.Filters(today - timedelta(days=1), today + timedelta(days=1))
    )
    counted = {
        r["language"]: (r["help_centre_helpful"], r["help_centre_not_helpful"])
        for r in rows
        if r["article_id"] == "shipping_time"
    }
    assert counted == {"ko": (1, 0), "ja": (0, 1), "all": (1, 1)}
    # apart from the bot's verdicts, and out of the rates (a page view is no "shown")
    assert {(r["helpful"], r["not_helpful"], r["helpful_rate"]) for r in rows} == {(0, 0, None)}
    # marked as the help centre's, and visible to another gateway
    assert (
        await backend.scalar(
            "SELECT COUNT(*) FROM bot_events WHERE conversation_id LIKE 'helpcentre:%'"
        )
        == 2
    )
    peer, _ = await backend.peer()
    assert not await peer.add_article_feedback("helpcentre:n2", "shipping_time", "helpful", "ja")


# -- conversation search (handoff/store/search.py) ------------------------------------------


async def _said(backend: Backend, language: str, customer: dict[str, Any], *lines: str) -> str:
    """A conversation whose customer said `lines`; a moment apart, so the most recently
    active is always the last made."""
    conversation, _ = await backend.store.create_conversation(language, customer)
    for line in lines:
        await backend.store.add_message(conversation.id, "customer", line)
    await asyncio.sleep(0.005)
    return conversation.id


async def _found(backend: Backend, text: str = "", **filters: Any) -> list[str]:
    return [
        hit.conversation_id for hit in await backend.store.search(SearchFilters(text, **filters))
    ]


async def test_search_finds_japanese_korean_and_english_inside_sentences(
    backend: Backend,
) -> None:
    ja = await _said(
        backend, "ja", {"name": "山田 花子"}, "こんにちは", "昨日買った靴を返品したいです"
    )
    ko = await _said(backend, "ko", {"name": "김민수"}, "환불은 언제 되나요")
    en = await _said(backend, "en", {"email": "pat@example.org"}, "Where is my REFUND, please?")
    # Japanese without spaces, from the middle of the sentence (3+ characters: the index)
    [hit] = await backend.store.search(SearchFilters("返品したい"))
    assert (hit.conversation_id, hit.found_in, hit.seq) == (ja, "message", 2)
    assert hit.customer_name == "山田 花子" and hit.language == "ja" and hit.state == "bot"
    assert "返品したい" in hit.snippet
    # a Korean word with its particle attached, two syllables (the short-query scan)
    [hit] = await backend.store.search(SearchFilters("환불"))
    assert (hit.conversation_id, hit.snippet) == (ko, "환불은 언제 되나요")
    assert await _found(backend, "언제 되나") == [ko]
    # English, case folded; the customer's email; nothing for what nobody said
    assert await _found(backend, "refund") == [en]
    assert await _found(backend, "Refund, PLEASE") == [en]
    [hit] = await backend.store.search(SearchFilters("pat@example"))
    assert (hit.conversation_id, hit.found_in, hit.seq) == (en, "customer", None)
    assert await _found(backend, "김민수") == [ko]
    assert await _found(backend, "返金") == []
    # no text: every conversation, the most recently active first
    assert await _found(backend) == [en, ko, ja]
    assert await _found(backend, limit=2) == [en, ko]


async def test_korean_and_japanese_searches_can_use_the_trigram_index(backend: Backend) -> None:
    """pg_trgm takes no trigram from Hangul or kana under the C locale: the search would
    still be right, but a scan. The test servers are made as operators are told to make
    theirs (a UTF-8 character type), and the plan shows the index taken."""
    if backend.name == "sqlite":
        pytest.skip("SQLite's FTS5 trigram tokenizer takes any character")
    assert isinstance(backend.store, PostgresStore)
    assert await postgres_search.letters_are_indexed(backend.store.pool)
    async with backend.store.pool.acquire() as connection, connection.transaction():
        await connection.execute("SET LOCAL enable_seqscan = off")
        for text in ("返品したい", "환불은 언제"):
            plan = await connection.fetch(
                "EXPLAIN SELECT seq FROM messages WHERE text ILIKE $1", f"%{text}%"
            )
            assert "messages_text_trgm" in " ".join(row[0] for row in plan), text


async def test_search_takes_like_wildcards_and_quotes_literally(backend: Backend) -> None:
    percent = await _said(backend, "en", {}, "I am 100% sure")
    underscore = await _said(backend, "en", {}, "order my_order_7 is lost")
    quoted = await _said(backend, "en", {}, 'he said "no" \\ twice')
    await _said(backend, "ja", {}, "注文番号は1007です", "x-order mylorder")
    assert await _found(backend, "%") == [percent]
    assert await _found(backend, "0%") == [percent]
    assert await _found(backend, "100% sure") == [percent]
    assert await _found(backend, "_") == [underscore]
    assert await _found(backend, "y_o") == [underscore]
    assert await _found(backend, "my_order") == [underscore]
    assert await _found(backend, '"no"') == [quoted]
    assert await _found(backend, "\\") == [quoted]
    assert await _found(backend, '" \\ t') == [quoted]


async def test_search_finds_offline_tickets_and_the_newest_matching_line(
    backend: Backend,
) -> None:
    first = await _said(backend, "ko", {}, "배송 문의합니다", "배송이 늦어요")
    ticket_id = await backend.handoffs.create_ticket(
        first, "ko", {"name": "이영희", "email": "young@example.kr"}, "전화 부탁드립니다"
    )
    [hit] = await backend.store.search(SearchFilters("전화 부탁"))
    assert (hit.found_in, hit.ticket_id, hit.seq) == ("ticket", ticket_id, None)
    assert await _found(backend, "young@example") == [first]
    # one result per conversation, showing its newest matching line
    [hit] = await backend.store.search(SearchFilters("배송"))
    assert (hit.conversation_id, hit.seq) == (first, 2)
    assert hit.snippet == "배송이 늦어요"


async def test_search_filters_by_state_and_days(backend: Backend) -> None:
    waiting = await _said(backend, "en", {}, "parcel never came")
    chatting = await _said(backend, "en", {}, "parcel is broken")
    await backend.store.transition(waiting, "escalate")
    await asyncio.sleep(0.01)  # SQLite's times are in milliseconds: no tie for "newest"
    await backend.store.add_message(chatting, "customer", "still the parcel")
    assert await _found(backend, "parcel") == [chatting, waiting]
    assert await _found(backend, "parcel", states=("queued",)) == [waiting]
    assert await _found(backend, "parcel", states=("queued", "bot")) == [chatting, waiting]
    assert await _found(backend, "parcel", states=("resolved",)) == []
    today = datetime.now(UTC).date()
    day = timedelta(days=1)
    assert await _found(backend, "parcel", since=today, until=today) == [chatting, waiting]
    assert await _found(backend, since=today - day, until=today) == [chatting, waiting]
    assert await _found(backend, "parcel", since=today + day) == []
    assert await _found(backend, "parcel", until=today - day) == []
    assert await _found(backend, "pa", since=today + day) == []
    assert await _found(backend, "pa", states=("queued",)) == [waiting]


async def test_search_indexes_what_the_store_had_before_it(tmp_path: Path) -> None:
    """SQLite: migration 0006 fills the search table with the rows already there
    (PostgreSQL's indexes are built over the existing rows by CREATE INDEX)."""
    earlier = tmp_path / "steps"
    earlier.mkdir()
    for step in sorted((MIGRATIONS_DIR / "sqlite").iterdir()):
        if step.is_file() and step.name < "0006":
            (earlier / step.name).write_bytes(step.read_bytes())
    path = tmp_path / "db.sqlite3"
    await migrate(sqlite_database(path), folder=earlier)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO conversations (id, token_hash, language, state, customer_json,"
            " created_at, updated_at) VALUES ('c1', 'h', 'ja', 'bot', ?, ?, ?)",
            ('{"name": "佐藤"}', "2026-01-02T03:04:05.000Z", "2026-01-02T03:04:05.000Z"),
        )
        db.execute(
            "INSERT INTO messages (conversation_id, seq, role, text, ts)"
            " VALUES ('c1', 1, 'customer', 'サイズを交換したいです', '2026-01-02T03:04:05.000Z')"
        )
    store = await SQLiteStore.open(path)
    try:
        [hit] = await store.search(SearchFilters("交換したい"))
        assert (hit.conversation_id, hit.seq, hit.customer_name) == ("c1", 1, "佐藤")
        assert [h.conversation_id for h in await store.search(SearchFilters("佐藤"))] == ["c1"]
        # and from now on every message is indexed as it is stored
        await store.add_message("c1", "agent", "交換の手続きをご案内します")
        [hit] = await store.search(SearchFilters("手続き"))
        assert (hit.found_in, hit.seq) == ("message", 2)
    finally:
        await store.close()


async def test_sqlite_indexes_new_lines_in_batches_and_finds_them_before(
    tmp_path: Path,
) -> None:
    """SQLite adds new lines to its search index about once a second, in one transaction
    (migration 0011); a search finds a line before that, and once after."""
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")

    async def indexed_lines() -> int:
        rows = await store.connection.execute(
            "SELECT COUNT(*) FROM search_text WHERE kind = 'message'"
        )
        return int(rows.rows[0][0])

    try:
        conversation, _ = await store.create_conversation("ja", {})
        for text in ("返品したいです", "サイズ交換の手続き", "refund please"):
            await store.add_message(conversation.id, "customer", text)
        assert await indexed_lines() == 0
        [hit] = await store.search(SearchFilters("交換の手続"))  # from `messages` itself
        assert (hit.conversation_id, hit.found_in, hit.seq) == (conversation.id, "message", 2)
        assert await store.index_search_text() == 3
        assert await store.index_search_text() == 0
        assert await indexed_lines() == 3
        [hit] = await store.search(SearchFilters("交換の手続"))  # from the index, once
        assert hit.seq == 2
        # a newer matching line not indexed yet is the one shown
        await store.add_message(conversation.id, "agent", "交換の手続きは明日です")
        [hit] = await store.search(SearchFilters("交換の手続"))
        assert (hit.seq, hit.snippet) == (4, "交換の手続きは明日です")
        assert await store.index_search_text() == 1
        [hit] = await store.search(SearchFilters("REFUND"))
        assert hit.seq == 3
    finally:
        await store.close()


# -- schema ---------------------------------------------------------------------------------


async def test_postgres_has_the_tables_columns_and_indexes_sqlite_has(
    postgres_url: str, pg_schema: str, tmp_path: Path
) -> None:
    """Column for column (handoff/agent/analytics.py's portable SQL reads either backend by these
    names); PostgreSQL's ratings add an explicit id where SQLite has its rowid."""
    sqlite_store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    try:
        async with sqlite_store.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ) as cursor:
            # (search_text and its shadow tables: SQLite's search index, search.py; and how
            # far it has got, search_watermark, migration 0011)
            tables = sorted(
                row[0]
                for row in await cursor.fetchall()
                if row[0] not in BOOKKEEPING_TABLES
                and not row[0].startswith(("search_text", "search_watermark"))
            )
        sqlite_columns = {}
        for table in tables:
            async with sqlite_store.connection.execute(f"PRAGMA table_info({table})") as cursor:
                sqlite_columns[table] = [row[1] for row in await cursor.fetchall()]
        async with sqlite_store.connection.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"
            " AND name NOT LIKE 'sqlite_autoindex_%'"
        ) as cursor:
            sqlite_indexes = {
                row[0] for row in await cursor.fetchall() if row[1] not in BOOKKEEPING_TABLES
            }
    finally:
        await sqlite_store.close()
    pg_store = await PostgresStore.open(postgres_url, schema=pg_schema)
    try:
        rows = await pg_store.pool.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> ALL($1::text[])"
            " ORDER BY table_name, ordinal_position",
            sorted(BOOKKEEPING_TABLES),
        )
        pg_indexes = {
            row["indexname"]
            for row in await pg_store.pool.fetch(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname NOT LIKE '%_pkey' AND tablename <> ALL($1::text[])",
                sorted(BOOKKEEPING_TABLES),
            )
        }
    finally:
        await pg_store.close()
    # The same indexes by name (analytics' covering ones above all), and a few of
    # PostgreSQL's own: what SQLite's rowid order or a scan of a small file gives for free.
    postgres_only = {
        "conversations_verified_customer",
        "agent_sessions_expiry",
        "events_conversation",
        # search (0006): pg_trgm indexes where SQLite has its search_text table
        "messages_text_trgm",
        "conversations_customer_trgm",
        "tickets_text_trgm",
    }
    assert pg_indexes - postgres_only == sqlite_indexes
    pg_columns: dict[str, list[str]] = {}
    for row in rows:
        pg_columns.setdefault(row["table_name"], []).append(row["column_name"])
    assert pg_columns.pop("ratings")[0] == "id"
    sqlite_columns.pop("ratings")  # its columns are checked just below
    assert pg_columns == sqlite_columns
    assert "conversations" in pg_columns and "bot_outbox" in pg_columns


def _sqlite_schema(path: Path) -> list[tuple[str, str, str]]:
    """The store's own objects (not the migration tool's), their SQL in one spacing."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    return [
        (kind, name, " ".join((sql or "").split()))
        for kind, name, table, sql in rows
        if table not in BOOKKEEPING_TABLES
    ]


async def test_the_sqlite_steps_from_the_baseline_on_are_the_schema_the_store_creates(
    tmp_path: Path,
) -> None:
    """On a new file the step before the baseline (for files of an early release) adds
    nothing of its own: the schema is the baseline's and the SQL steps after it."""
    store = await SQLiteStore.open(tmp_path / "store.sqlite3")
    await store.close()
    steps = sorted((MIGRATIONS_DIR / "sqlite").glob("*.sql"))
    assert steps[0].name == "0001.baseline.sql"
    with sqlite3.connect(tmp_path / "migrated.sqlite3") as db:
        for step in steps:
            db.executescript(step.read_text("utf-8"))
    assert _sqlite_schema(tmp_path / "migrated.sqlite3") == _sqlite_schema(
        tmp_path / "store.sqlite3"
    )


async def test_postgres_migrations_run_once_even_when_gateways_start_together(
    postgres_url: str, pg_schema: str
) -> None:
    """yoyo's lock row queues the gateways: one applies each step, the others find it
    recorded. Its bookkeeping stays in the store's schema."""
    stores = await asyncio.gather(
        *(PostgresStore.open(postgres_url, schema=pg_schema) for _ in range(3))
    )
    try:
        async with stores[0].pool.acquire() as connection:
            applied = await connection.fetch(
                "SELECT migration_id FROM _yoyo_migration ORDER BY migration_id"
            )
            steps = sorted(
                path.stem
                for path in (MIGRATIONS_DIR / "postgres").iterdir()
                if path.suffix in {".sql", ".py"} and not path.name.endswith(".rollback.sql")
            )
            assert [row["migration_id"] for row in applied] == steps
            log = await connection.fetch(
                "SELECT migration_id FROM _yoyo_log WHERE operation = 'apply'"
            )
            assert sorted(row["migration_id"] for row in log) == steps  # each once
            assert await connection.fetchval("SELECT count(*) FROM yoyo_lock") == 0
            own = await connection.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = $1 AND table_name = ANY($2::text[])",
                pg_schema,
                sorted(BOOKKEEPING_TABLES),
            )
            assert {row["table_name"] for row in own} == BOOKKEEPING_TABLES
    finally:
        for store in stores:
            await store.close()


def _surface(cls: type, leave_out: set[str]) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in leave_out
    }


@pytest.mark.parametrize(
    ("sqlite_class", "postgres_class"),
    [(SQLiteStore, PostgresStore), (HandoffStore, PostgresHandoffStore)],
)
def test_postgres_classes_have_every_method_of_the_sqlite_ones(
    sqlite_class: type, postgres_class: type
) -> None:
    """A method added to a SQLite class fails here until PostgreSQL has it too, with the
    same parameters. (How each is opened differs: a file path, a URL.)"""
    assert _surface(postgres_class, {"open"}) == _surface(sqlite_class, {"open"})


async def test_the_database_url_setting_picks_the_backend(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    hasher = PasswordHasher()
    try:
        store, handoffs = await open_stores(Settings(db_path=tmp_path / "db.sqlite3"), hasher)
        assert isinstance(store, SQLiteStore) and isinstance(handoffs, HandoffStore)
        assert (tmp_path / "db.sqlite3").exists()
        await store.close()

        settings = Settings(db_path=tmp_path / "unused.sqlite3", database_url=postgres_url)
        store, handoffs = await open_stores(settings, hasher, schema=pg_schema)
        assert isinstance(store, PostgresStore) and isinstance(handoffs, PostgresHandoffStore)
        assert handoffs.hasher is hasher
        assert not (tmp_path / "unused.sqlite3").exists()
        await store.close()
    finally:
        hasher.close()


async def test_named_parameters_reach_postgres_in_order(postgres_url: str, pg_schema: str) -> None:
    store = await PostgresStore.open(postgres_url, schema=pg_schema)
    try:
        fetch = postgres_fetch(store.pool)
        rows = await fetch("SELECT :b::text AS b, :a AS a, :b AS again", {"a": "1", "b": "2"})
        assert rows == [{"b": "2", "a": "1", "again": "2"}]
    finally:
        await store.close()


async def test_analytics_reads_the_same_figures_from_both_backends(
    tmp_path: Path, postgres_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """test_analytics.py's conversations (written through the gateway's services: relay,
    handoff service, a scripted Rasa), once per backend; every figure must come out the
    same, for a whole-hour time zone and for one at a :30 offset."""
    from handoff.agent import analytics
    from handoff.conversation.bot_relay import BotRelay
    from handoff.conversation.handoff_service import HandoffService
    from handoff.conversation.service import ConversationService
    from handoff.customer.texts import load_texts
    from handoff.realtime.hub import Hub
    from tests.handoff import test_analytics as scene

    filters = [
        scene.NOVEMBER,
        analytics.Filters(scene.NOVEMBER.start, scene.NOVEMBER.end, "ja"),
        analytics.Filters(scene.NOVEMBER.start, scene.NOVEMBER.end, tz="Asia/Kolkata"),
    ]

    async def reports(settings: Settings) -> list[dict[str, Any]]:
        clock = scene.Clock()
        fake_time = SimpleNamespace(time=clock.time)
        for module in ("store.sqlite_handoffs", "conversation.handoff_service", "store.postgres"):
            monkeypatch.setattr(f"handoff.{module}.time", fake_time)
        for module in ("store.sqlite", "store.sqlite_handoffs", "store.postgres"):
            monkeypatch.setattr(f"handoff.{module}.utc_now", clock.iso)
        store, handoffs = await open_stores(settings, schema=pg_schema)
        rasa, hub = scene.ScriptedRasa(), Hub()
        texts = load_texts(Settings().gateway_texts_path)
        relay = BotRelay(store, rasa, hub, texts, 3)  # type: ignore[arg-type]
        people = HandoffService(store, handoffs, rasa, relay, hub, texts, {})  # type: ignore[arg-type]
        relay.on_handoff = people.escalate
        for name, languages in (("mina", ["ko", "ja", "en"]), ("kenji", ["ja"])):
            await handoffs.upsert_agent(name, "password-1", languages, [], 3)
        service = ConversationService(store, relay, hub, texts, 2000, people)
        await scene.build(scene.World(store, service, people, clock))  # type: ignore[arg-type]
        fetch = (
            postgres_fetch(store.pool)
            if isinstance(store, PostgresStore)
            else analytics.sqlite_fetch(store.connection)
        )
        found = [await analytics.report(fetch, f) for f in filters]
        await people.aclose()
        await store.close()
        handoffs.hasher.close()
        return found

    on_sqlite = await reports(Settings(db_path=tmp_path / "db.sqlite3"))
    on_postgres = await reports(
        Settings(db_path=tmp_path / "no.sqlite3", database_url=postgres_url)
    )
    assert on_sqlite[0]["figures"]["outcomes"], "the scene counted nothing"
    for sqlite_report, postgres_report in zip(on_sqlite, on_postgres):
        assert postgres_report == sqlite_report


async def test_a_pooled_connection_goes_back_without_a_reset_round_trip(backend: Backend) -> None:
    """The store keeps no session state on its connections, so releasing one to the pool
    sends nothing (asyncpg's default reset would be one more round trip per call)."""
    if backend.name == "sqlite":
        pytest.skip("a file has no connection pool")
    pool = backend.store.pool  # type: ignore[attr-defined]
    async with pool.acquire() as connection:
        pid = connection.get_server_pid()
        await connection.fetchval("SELECT 41 + 1")
    peer, _ = await backend.peer()
    try:
        last = await peer.pool.fetchval(  # type: ignore[attr-defined]
            "SELECT query FROM pg_stat_activity WHERE pid = $1", pid
        )
    finally:
        await peer.close()
    assert last == "SELECT 41 + 1"


async def test_notices_are_kept_for_every_gateway_and_ended_once(backend: Backend) -> None:
    """Supervisors' notices (handoff/notices/): what one gateway posts, another reads; the
    read leaves out what had ended by then; ending is kept once (who and when)."""
    texts = {"ko": "배송 지연 안내", "ja": "配送遅延のお知らせ", "en": "Deliveries are late"}
    late = Notice(
        id="n-late",
        texts=texts,
        starts_at="2026-12-05T12:00:00.000Z",
        ends_at=None,
        topics=("shipping", "tracking"),
        severity="outage",
        created_by="sue",
    )
    stored = await backend.handoffs.add_notice(late)
    assert stored == late and stored.created_at  # as posted, with when
    window = Notice(
        id="n-window",
        texts=texts,
        starts_at="2026-12-06T01:00:00.000Z",
        ends_at="2026-12-06T03:00:00.000Z",
        created_by="sue",
    )
    await backend.handoffs.add_notice(window)
    with pytest.raises(ValueError, match="severity"):
        await backend.handoffs.add_notice(
            Notice("n-bad", texts, "2026-12-05T12:00:00.000Z", None, severity="urgent")
        )

    _, peer = await backend.peer()
    assert [n.id for n in await peer.notices("2026-12-05T13:00:00.000Z")] == ["n-late", "n-window"]
    assert [n.id for n in await peer.notices("2026-12-06T03:00:00.000Z")] == ["n-late"]
    assert (await peer.notices("2026-12-05T13:00:00.000Z"))[0].texts == texts

    ended = await peer.end_notice("n-late", "lee", "2026-12-05T14:00:00.000Z")
    assert ended is not None
    assert (ended.ends_at, ended.ended_by) == ("2026-12-05T14:00:00.000Z", "lee")
    # ending it again changes nothing: it ended at 14:00, by lee
    again = await backend.handoffs.end_notice("n-late", "sue", "2026-12-05T15:00:00.000Z")
    assert again == ended
    assert [n.id for n in await backend.handoffs.notices("2026-12-05T14:00:00.000Z")] == [
        "n-window"
    ]
    assert await backend.handoffs.end_notice("n-nobody", "sue", "2026-12-05T15:00:00.000Z") is None


async def test_said_notices_are_the_conversations_notice_lines_alone(backend: Backend) -> None:
    """The notices already said in a conversation (handoff/notices/lines.py): the ids in
    its system lines' meta `notice`, each once, the same for every gateway; a bot reply,
    a customer's text, a `notice` that is no object and another conversation's lines are
    not notices said here."""
    store = backend.store
    conversation, _ = await store.create_conversation("ko", {})
    other, _ = await store.create_conversation("ko", {})
    assert await store.said_notices(conversation.id) == set()

    def line(notice_id: str) -> Reply:
        return Reply(
            "배송 지연", role="system", meta={"notice": {"id": notice_id, "severity": "info"}}
        )

    await store.add_message(conversation.id, "customer", '{"notice": {"id": "typed"}}')
    # What PostgreSQL's jsonb refuses (\u0000), in a meta that is no notice line's.
    await store.add_message(conversation.id, "customer", "hi", meta={"notice": {"id": "nul\x00"}})
    await store.add_replies(
        conversation.id,
        [
            Reply("hi", meta={"notice": {"id": "from-the-bot"}}),
            line("n-late"),
            Reply("note", role="system", meta={"notice": "no-object"}),
            Reply('"notice"', role="system", meta={"detail": "nul \x00 inside"}),
        ],
    )
    await store.add_replies(conversation.id, [line("n-late"), line("n-window")])
    await store.add_replies(other.id, [line("n-other")])

    assert await store.said_notices(conversation.id) == {"n-late", "n-window"}
    peer, _ = await backend.peer()
    assert await peer.said_notices(conversation.id) == {"n-late", "n-window"}
    assert await peer.said_notices(other.id) == {"n-other"}
    assert await peer.said_notices("no-such-conversation") == set()


async def test_attachments_are_kept_for_every_gateway_and_read_only_by_their_conversation(
    backend: Backend,
) -> None:
    """A file (handoff/attachments/): what one gateway keeps, another reads, bytes for
    bytes; a read names the conversation, and another conversation's id finds nothing;
    an agent's message carries the attachment's description in its meta."""
    handoff = await _queued_chat(backend, language="ja")
    cid = handoff.conversation_id
    other, _ = await backend.store.create_conversation("en", {})
    data = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\x00 trailing NUL"
    attachment = Attachment(
        id="att-" + secrets.token_hex(8),
        conversation_id=cid,
        uploader_role="customer",
        uploader="",
        name="請求書 2026-12.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256="ab" * 32,
    )
    stored = await backend.store.add_attachment(attachment, data)
    assert stored.created_at.endswith("Z")
    assert dataclasses.replace(stored, created_at="") == attachment

    peer, _ = await backend.peer()
    found = await peer.attachment(cid, attachment.id)
    assert found == (stored, data)
    assert await peer.attachment(other.id, attachment.id) is None  # another conversation's
    assert await peer.attachment(cid, "att-nobody") is None
    with pytest.raises(KeyError):
        await backend.store.add_attachment(
            dataclasses.replace(attachment, id="att-x", conversation_id="no-such-chat"), data
        )
    assert await peer.attachment("no-such-chat", "att-x") is None

    assert await backend.handoffs.assign(handoff.id, "kim")
    sent = await backend.store.add_agent_message(
        cid, "kim", "receipt.png", meta={"attachment": stored.public()}
    )
    assert sent is not None
    [message] = await peer.messages(cid)
    assert message.public()["attachment"] == {
        "id": attachment.id,
        "name": "請求書 2026-12.pdf",
        "content_type": "application/pdf",
        "size": len(data),
    }


# -- the email outbox (handoff/email/outbox.py) -------------------------------------------


def _at(seconds: float) -> str:
    """A store timestamp `seconds` from now (store.interface.utc_now's format)."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_outgoing_emails_thread_are_claimed_once_retried_and_blanked(
    backend: Backend,
) -> None:
    store = backend.store
    cid, ticket = await _ticket(backend)
    first = await store.add_email(cid, "aiko@example.com", "件名", "本文 1", "<m1@reply.example>")
    second = await store.add_email(cid, "aiko@example.com", "件名", "本文 2", "<m2@reply.example>")
    assert first.thread == () and second.thread == ("<m1@reply.example>",)
    assert (first.attempts, first.sent_at, first.failed_at) == (0, None, None)
    # Claimed: one more attempt, and not due again before the lease ends.
    claimed = await store.claim_due_emails(_at(1), _at(60), 10)
    assert [e.id for e in claimed] == [first.id, second.id]
    assert [e.attempts for e in claimed] == [1, 1]
    assert await store.claim_due_emails(_at(1), _at(60), 10) == []
    # A failed send comes back when it is due again, with its error.
    await store.retry_email(first.id, "SMTPConnectError", _at(-1))
    [again] = await store.claim_due_emails(_at(1), _at(60), 10)
    assert (again.id, again.attempts, again.last_error) == (first.id, 2, "SMTPConnectError")
    # Sent, or given up on: never claimed again, and the address is gone.
    await store.finish_email(first.id, None)
    await store.finish_email(second.id, "SMTPRecipientsRefused 550")
    sent, failed = await store.emails(cid)
    assert (sent.recipient, failed.recipient) == ("", "")
    assert sent.sent_at is not None and sent.failed_at is None
    assert failed.failed_at is not None and failed.last_error == "SMTPRecipientsRefused 550"
    assert sent.body == "本文 1" and failed.subject == "件名"
    assert await store.claim_due_emails(_at(3600), _at(3660), 10) == []
    assert (await store.latest_ticket(cid) or {}).get("ticket_id") == ticket
    other, _ = await store.create_conversation("en", {})
    assert await store.latest_ticket(other.id) is None


async def test_two_gateways_claiming_the_same_mails_never_share_one(backend: Backend) -> None:
    peer_store, _ = await backend.peer()
    cid, _ = await _ticket(backend)
    made = {
        (await backend.store.add_email(cid, "a@example.com", "s", "b", f"<{n}@x>")).id
        for n in range(12)
    }
    claims = await asyncio.gather(
        *(
            store.claim_due_emails(_at(1), _at(60), 3)
            for store in (backend.store, peer_store, backend.store, peer_store)
        )
    )
    claimed = [email.id for batch in claims for email in batch]
    assert len(claimed) == len(set(claimed)) == 12 and set(claimed) == made

"""Where conversations live. `Store` is the interface; SQLite is the default.

A message is committed before the caller acknowledges it to anyone, and a
customer message sent twice with the same client_id (a resend after a dropped
connection) is stored once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import secrets
import uuid
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from handoff.models import Conversation, Message, Reply, Role
from handoff.state_machine import InvalidTransition, TransitionEvent, target

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    language TEXT NOT NULL,
    state TEXT NOT NULL,
    customer_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    payload TEXT,
    client_id TEXT,
    buttons_json TEXT NOT NULL DEFAULT '[]',
    links_json TEXT NOT NULL DEFAULT '[]',
    meta_json TEXT NOT NULL DEFAULT '{}',
    ts TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id
    ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL;
-- handoff to people (handoff_store.py)
CREATE TABLE IF NOT EXISTS agents (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    languages_json TEXT NOT NULL,
    skills_json TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agent_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES agents(username),
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    priority INTEGER NOT NULL,
    language TEXT NOT NULL,
    skill TEXT,
    agent TEXT,
    summary TEXT NOT NULL,
    context_json TEXT NOT NULL,
    queued_at REAL NOT NULL,
    assigned_at REAL,
    closed_at REAL
);
CREATE INDEX IF NOT EXISTS handoffs_open ON handoffs(status, priority, queued_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    data_json TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    language TEXT NOT NULL,
    contact_json TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings (
    conversation_id TEXT NOT NULL,
    handoff_id INTEGER,
    agent TEXT,
    rating INTEGER NOT NULL,
    ts TEXT NOT NULL
);
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store(Protocol):
    async def create_conversation(
        self, language: str, customer: dict[str, Any]
    ) -> tuple[Conversation, str]: ...

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    async def check_token(self, conversation_id: str, token: str) -> bool: ...

    async def set_language(self, conversation_id: str, language: str) -> None: ...

    async def transition(
        self, conversation_id: str, name: str, data: dict[str, Any] | None = None
    ) -> TransitionEvent: ...

    async def events(self, conversation_id: str) -> list[TransitionEvent]: ...

    async def conversations_of_customer(
        self, customer: dict[str, Any], exclude: str
    ) -> list[Conversation]: ...

    async def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        payload: str | None = None,
        client_id: str | None = None,
        buttons: list[dict[str, str]] | None = None,
        links: list[dict[str, str]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, bool]:
        """Store a message; returns it and whether it is new (False: a resend)."""
        ...

    async def add_replies(self, conversation_id: str, replies: list[Reply]) -> list[Message]:
        """Store a turn's bot replies in one transaction, in order."""
        ...

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class SQLiteStore:
    """One connection, WAL journal; aiosqlite runs it off the event loop."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # One writer at a time per conversation for messages and transitions:
        # their read-then-write steps must not interleave within a conversation;
        # different conversations go ahead side by side.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    @property
    def connection(self) -> aiosqlite.Connection:
        """Shared with the handoff store: one connection, one writer, in order."""
        return self._db

    @classmethod
    async def open(cls, path: Path) -> SQLiteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(_SCHEMA)
        await db.commit()
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> None:
        await self._db.execute("SELECT 1")

    async def create_conversation(
        self, language: str, customer: dict[str, Any]
    ) -> tuple[Conversation, str]:
        token = secrets.token_urlsafe(32)
        now = utc_now()
        conversation = Conversation(str(uuid.uuid4()), language, "bot", customer, now, now)
        await self._db.execute(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                conversation.id,
                hash_token(token),
                language,
                conversation.state,
                json.dumps(customer, ensure_ascii=False),
                now,
                now,
            ),
        )
        await self._db.commit()
        return conversation, token

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async with self._db.execute(
            "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return Conversation(
            id=row["id"],
            language=row["language"],
            state=row["state"],
            customer=json.loads(row["customer_json"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    async def check_token(self, conversation_id: str, token: str) -> bool:
        async with self._db.execute(
            "SELECT token_hash FROM conversations WHERE id = ?", (conversation_id,)
        ) as cursor:
            row = await cursor.fetchone()
        # Compare even when the conversation is unknown, so timing does not
        # tell which ids exist.
        expected = row["token_hash"] if row else hash_token(secrets.token_hex(16))
        return hmac.compare_digest(expected, hash_token(token)) and row is not None

    async def set_language(self, conversation_id: str, language: str) -> None:
        await self._db.execute(
            "UPDATE conversations SET language = ?, updated_at = ? WHERE id = ?",
            (language, utc_now(), conversation_id),
        )
        await self._db.commit()

    async def transition(
        self, conversation_id: str, name: str, data: dict[str, Any] | None = None
    ) -> TransitionEvent:
        """Apply a named transition (state_machine.py) and record its event, atomically."""
        async with self._lock(conversation_id):
            return await self._transition(conversation_id, name, data)

    async def _transition(
        self, conversation_id: str, name: str, data: dict[str, Any] | None
    ) -> TransitionEvent:
        conversation = await self.get_conversation(conversation_id)
        if conversation is None:
            raise KeyError(conversation_id)
        to_state = target(name, conversation.state)
        now = utc_now()
        cursor = await self._db.execute(
            "UPDATE conversations SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
            (to_state, now, conversation_id, conversation.state),
        )
        if cursor.rowcount != 1:  # someone else moved it first; nothing was written
            current = await self.get_conversation(conversation_id)
            raise InvalidTransition(name, current.state if current else "gone")
        event = TransitionEvent(
            conversation_id, name, conversation.state, to_state, data or {}, now
        )
        await self._db.execute(
            "INSERT INTO events (conversation_id, name, from_state, to_state, data_json, ts)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (conversation_id, name, event.from_state, to_state, json.dumps(event.data), now),
        )
        await self._db.commit()
        return event

    async def events(self, conversation_id: str) -> list[TransitionEvent]:
        async with self._db.execute(
            "SELECT * FROM events WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            TransitionEvent(
                r["conversation_id"],
                r["name"],
                r["from_state"],
                r["to_state"],
                json.loads(r["data_json"]),
                r["ts"],
            )
            for r in rows
        ]

    async def conversations_of_customer(
        self, customer: dict[str, Any], exclude: str
    ) -> list[Conversation]:
        """Earlier conversations of the same customer (same id, else same email)."""
        keys = [(k, str(customer[k])) for k in ("id", "email") if customer.get(k)]
        if not keys:
            return []
        key, value = keys[0]
        async with self._db.execute(
            "SELECT id FROM conversations WHERE json_extract(customer_json, ?) = ? AND id != ?"
            " ORDER BY created_at DESC LIMIT 10",
            (f"$.{key}", value, exclude),
        ) as cursor:
            ids = [row["id"] for row in await cursor.fetchall()]
        found = [await self.get_conversation(i) for i in ids]
        return [c for c in found if c is not None]

    async def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        payload: str | None = None,
        client_id: str | None = None,
        buttons: list[dict[str, str]] | None = None,
        links: list[dict[str, str]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, bool]:
        message = Message(
            conversation_id=conversation_id,
            seq=0,  # chosen by _insert
            role=role,
            text=text,
            ts=utc_now(),
            payload=payload,
            client_id=client_id,
            buttons=buttons or [],
            links=links or [],
            meta=meta or {},
        )
        async with self._lock(conversation_id):
            if client_id is not None:
                existing = await self._by_client_id(conversation_id, client_id)
                if existing is not None:
                    return existing, False
            message = await self._insert(message)
            await self._touch(conversation_id, message.ts)
            await self._db.commit()
        return message, True

    async def add_replies(self, conversation_id: str, replies: list[Reply]) -> list[Message]:
        if not replies:
            return []
        ts = utc_now()
        async with self._lock(conversation_id):
            stored = [
                await self._insert(
                    Message(
                        conversation_id=conversation_id,
                        seq=0,
                        role=reply.role,
                        text=reply.text,
                        ts=ts,
                        buttons=reply.buttons,
                        links=reply.links,
                        meta=reply.meta,
                    )
                )
                for reply in replies
            ]
            await self._touch(conversation_id, ts)
            await self._db.commit()
        return stored

    async def _insert(self, message: Message) -> Message:
        """Insert with the next seq. Callers hold the conversation's lock: the customer, the
        bot and an agent may write to one conversation at the same moment, and
        choosing the seq and inserting must not interleave."""
        async with self._db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?",
            (message.conversation_id,),
        ) as cursor:
            row = await cursor.fetchone()
        stored = dataclasses.replace(message, seq=int(row[0]) if row else 1)
        await self._db.execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(stored)
        )
        return stored

    async def _touch(self, conversation_id: str, ts: str) -> None:
        await self._db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", (ts, conversation_id)
        )

    async def _by_client_id(self, conversation_id: str, client_id: str) -> Message | None:
        async with self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? AND client_id = ?",
            (conversation_id, client_id),
        ) as cursor:
            row = await cursor.fetchone()
        return _message_from_row(row) if row else None

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]:
        async with self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq",
            (conversation_id, after_seq),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_message_from_row(row) for row in rows]


def _row(message: Message) -> tuple[object, ...]:
    return (
        message.conversation_id,
        message.seq,
        message.role,
        message.text,
        message.payload,
        message.client_id,
        json.dumps(message.buttons, ensure_ascii=False),
        json.dumps(message.links, ensure_ascii=False),
        json.dumps(message.meta, ensure_ascii=False),
        message.ts,
    )


def _message_from_row(row: aiosqlite.Row) -> Message:
    return Message(
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        role=row["role"],
        text=row["text"],
        ts=row["ts"],
        payload=row["payload"],
        client_id=row["client_id"],
        buttons=json.loads(row["buttons_json"]),
        links=json.loads(row["links_json"]),
        meta=json.loads(row["meta_json"]),
    )

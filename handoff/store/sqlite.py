"""Where conversations live. `Store` is the interface; SQLite is the default.

A message is committed before the caller acknowledges it to anyone, and a
customer message sent twice with the same client_id (a resend after a dropped
connection) is stored once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import secrets
import sqlite3
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

from handoff.attachments.model import Attachment, attachment_from_row
from handoff.conversation.bot_events import record_bot_events
from handoff.conversation.models import (
    AgentWrite,
    Conversation,
    Message,
    OutboxItem,
    Reply,
    Role,
    StoredCustomerMessage,
    message_from_row,
)
from handoff.conversation.state_machine import (
    HUMAN_STATES,
    InvalidTransition,
    TicketRefused,
    TransitionEvent,
    target,
    ticket_event_name,
    ticket_target,
)
from handoff.email.model import OutgoingEmail
from handoff.store import sqlite_email, sqlite_messages, sqlite_search
from handoff.store.interface import (
    ARTICLE_VERDICTS,
    hash_token,
    ticket_dict,
    ticket_event,
    utc_now,
)
from handoff.store.migrations import migrate, sqlite_database
from handoff.store.search import SearchFilters, SearchHit
from handoff.store.sqlite_checkpoint import CHECKPOINT_SECONDS, WalCheckpointer
from handoff.store.sqlite_connection import OneTripConnection
from handoff.store.sqlite_handoffs import SQLITE_TICKET_EVENT

# The most lines index_search_text adds at once (a busy second is ~200).
SEARCH_INDEX_BATCH = 5000


class SQLiteStore:
    """One connection, WAL journal, on a thread of its own off the event loop: one trip
    per statement, one per message write (sqlite_connection.py, sqlite_messages.py)."""

    def __init__(self, db: OneTripConnection, checkpointer: WalCheckpointer | None = None) -> None:
        self._db = db
        self._checkpointer = checkpointer
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
    def connection(self) -> OneTripConnection:
        """Shared with the handoff store: one connection, one writer, in order."""
        return self._db

    @classmethod
    async def open(cls, path: Path, checkpoint_seconds: float = CHECKPOINT_SECONDS) -> SQLiteStore:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = await OneTripConnection.open(path)
        # Conversations are personal: the file for this user only, before SQLite creates
        # its journals (which take the database's mode); also a file made world-readable.
        for own in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            if own.exists():
                own.chmod(0o600)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        # The schema: handoff/store/migrations/sqlite/, applied by yoyo on a connection of its
        # own in a thread, while this one holds no transaction.
        try:
            await migrate(sqlite_database(path))
            # The log is copied back by a connection of its own (sqlite_checkpoint.py),
            # not inside this connection's commits.
            await db.execute("PRAGMA wal_autocheckpoint=0")
            checkpointer = await WalCheckpointer.start(path, checkpoint_seconds)
        except BaseException:
            await db.close()
            raise
        return cls(db, checkpointer)

    async def close(self) -> None:
        if self._checkpointer is not None:
            checkpointer, self._checkpointer = self._checkpointer, None
            await checkpointer.stop()
        await self._db.close()

    async def index_search_text(self) -> int:
        # The lines after the watermark, at most a batch: the index and the watermark move
        # in one transaction, so a line is never indexed twice nor skipped.
        found = await self._db.execute(
            "SELECT w.message_rowid, (SELECT MAX(rowid) FROM (SELECT rowid FROM messages"
            " WHERE rowid > w.message_rowid ORDER BY rowid LIMIT ?)) FROM search_watermark w",
            (SEARCH_INDEX_BATCH,),
        )
        row = await found.fetchone()
        if row is None or row[1] is None:
            return 0
        low, high = int(row[0]), int(row[1])
        added = await self._db.execute(
            "INSERT INTO search_text (body, conversation_id, kind, ref)"
            " SELECT text, conversation_id, 'message', seq FROM messages"
            " WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
            (low, high),
        )
        await self._db.execute("UPDATE search_watermark SET message_rowid = ?", (high,))
        await self._db.commit()
        return added.rowcount

    async def search(self, filters: SearchFilters) -> list[SearchHit]:
        return await sqlite_search.search(self._db, filters)

    # The email outbox: the SQL is in sqlite_email.py.
    async def add_email(
        self, conversation_id: str, recipient: str, subject: str, body: str, message_id: str
    ) -> OutgoingEmail:
        return await sqlite_email.add_email(
            self._db, conversation_id, recipient, subject, body, message_id
        )

    async def claim_due_emails(self, now: str, lease_until: str, limit: int) -> list[OutgoingEmail]:
        return await sqlite_email.claim_due(self._db, now, lease_until, limit)

    async def retry_email(self, email_id: int, error: str, next_attempt_at: str) -> None:
        await sqlite_email.retry_later(self._db, email_id, error, next_attempt_at)

    async def finish_email(self, email_id: int, error: str | None) -> None:
        await sqlite_email.finish(self._db, email_id, error)

    async def emails(self, conversation_id: str) -> list[OutgoingEmail]:
        return await sqlite_email.emails(self._db, conversation_id)

    async def latest_ticket(self, conversation_id: str) -> dict[str, Any] | None:
        return await sqlite_email.latest_ticket(self._db, conversation_id)

    async def ping(self) -> None:
        await self._db.execute("SELECT 1")

    async def forget_connections(self) -> None:
        """A file has no server to lose."""

    async def refresh_statistics(self) -> None:
        # Without statistics SQLite takes any equality on an indexed column as selective:
        # the report's handoff figures then walk `handoffs_open` (status = 'resolved', most
        # rows) and fetch every row, instead of the covering `handoffs_by_hour`. ANALYZE
        # samples at most `analysis_limit` rows per index, so it stays a few milliseconds
        # on any history (13 ms on 100 000 conversations); readers see it at their next query.
        await self._db.execute("PRAGMA analysis_limit = 1000")
        await self._db.execute("ANALYZE")
        await self._db.commit()

    async def create_conversation(
        self, language: str, customer: dict[str, Any]
    ) -> tuple[Conversation, str]:
        token = secrets.token_urlsafe(32)
        now = utc_now()
        conversation = Conversation(str(uuid.uuid4()), language, "bot", customer, now, now)
        await self._db.execute(
            "INSERT INTO conversations (id, token_hash, language, state, customer_json,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        """Apply a named transition (conversation/state_machine.py) and record its event, atomically."""
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
            # End the implicit transaction the UPDATE opened: left open, it would hold
            # the file's write lock until this connection's next commit.
            await self._db.rollback()
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
        if to_state in HUMAN_STATES:
            # People own the chat now: messages the bot never answered are theirs.
            await self._db.execute(
                "DELETE FROM bot_outbox WHERE conversation_id = ? AND kind = 'message'",
                (conversation_id,),
            )
        elif to_state == "bot":
            # Rasa paused itself when it handed over: it must be told to go on.
            await self._db.execute(
                "INSERT INTO bot_outbox (conversation_id, kind, ask_rating, created_at)"
                " VALUES (?, 'resume', ?, ?)",
                (conversation_id, int(bool(event.data.get("ask_rating"))), now),
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
        """Earlier conversations of the same customer: only for an identity the host site
        signed (handoff/customer/identity.py), and only other verified conversations with the same
        customer id. Anyone can type anyone's email, so self-typed fields link nothing."""
        if customer.get("verified") is not True or not customer.get("id"):
            return []
        async with self._db.execute(
            "SELECT id FROM conversations WHERE json_extract(customer_json, '$.verified') = 1"
            " AND json_extract(customer_json, '$.id') = ? AND id != ?"
            " ORDER BY created_at DESC LIMIT 10",
            (str(customer["id"]), exclude),
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
            seq=0,  # chosen by sqlite_messages.insert
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
            return await self._db.run(sqlite_messages.add_message, message)

    async def add_agent_message(
        self,
        conversation_id: str,
        agent: str,
        text: str,
        *,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, int] | None:
        message = Message(conversation_id, 0, "agent", text, utc_now(), meta=meta or {})
        async with self._lock(conversation_id):
            return await self._db.run(sqlite_messages.add_agent_message, message, agent)

    async def add_agent_message_as(self, token: str, conversation_id: str, text: str) -> AgentWrite:
        message = Message(conversation_id, 0, "agent", text, utc_now())
        token_hash, now = hash_token(token), time.time()
        async with self._lock(conversation_id):
            return await self._db.run(
                sqlite_messages.add_agent_message_as, message, token_hash, now
            )

    # -- attachments (handoff/attachments/) ------------------------------------------------

    async def add_attachment(self, attachment: Attachment, data: bytes) -> Attachment:
        stored = dataclasses.replace(attachment, created_at=utc_now())
        # One statement: kept only for a conversation that exists (SQLite does not check
        # the foreign key), as on PostgreSQL.
        cursor = await self._db.execute(
            "INSERT INTO attachments (id, conversation_id, uploader_role, uploader, name,"
            " content_type, size, sha256, created_at, data)"
            " SELECT ?, id, ?, ?, ?, ?, ?, ?, ?, ? FROM conversations WHERE id = ?",
            (
                stored.id,
                stored.uploader_role,
                stored.uploader,
                stored.name,
                stored.content_type,
                stored.size,
                stored.sha256,
                stored.created_at,
                data,
                stored.conversation_id,
            ),
        )
        # Committed either way: a rollback would end the shared connection's transaction.
        await self._db.commit()
        if cursor.rowcount != 1:
            raise KeyError(attachment.conversation_id)
        return stored

    async def attachment(
        self, conversation_id: str, attachment_id: str
    ) -> tuple[Attachment, bytes] | None:
        async with self._db.execute(
            "SELECT * FROM attachments WHERE id = ? AND conversation_id = ?",
            (attachment_id, conversation_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return attachment_from_row(row), bytes(row["data"])

    async def add_customer_message(
        self, conversation_id: str, text: str, *, payload: str | None, client_id: str | None
    ) -> StoredCustomerMessage:
        message = Message(
            conversation_id=conversation_id,
            seq=0,  # chosen by sqlite_messages.insert
            role="customer",
            text=text,
            ts=utc_now(),
            payload=payload,
            client_id=client_id,
        )
        async with self._lock(conversation_id):
            return await self._db.run(sqlite_messages.add_customer_message, message)

    async def add_replies(
        self, conversation_id: str, replies: list[Reply], *, completes: OutboxItem | None = None
    ) -> list[Message]:
        if not replies and completes is None:
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
            await record_bot_events(self._db, stored)
            if completes is not None:
                await self._db.execute("DELETE FROM bot_outbox WHERE id = ?", (completes.id,))
            await self._touch(conversation_id, ts)
            await self._db.commit()
        return stored

    async def add_ticket_reply(
        self, ticket_id: int, agent: str, replies: list[Reply]
    ) -> tuple[dict[str, Any], list[Message]]:
        before = await self._ticket(ticket_id)
        if before is None:
            raise KeyError(ticket_id)
        to_state = ticket_target("reply", before["state"], before["claimed_by"], agent)
        conversation_id = before["conversation_id"]
        now = utc_now()
        async with self._lock(conversation_id):
            cursor = await self._db.execute(
                "UPDATE tickets SET status = ?, answered_at = ?"
                " WHERE id = ? AND status = ? AND claimed_by = ?",
                (to_state, now, ticket_id, before["state"], agent),
            )
            stored: list[Message] = []
            won = cursor.rowcount == 1
            if won:
                for reply in replies:
                    message = Message(conversation_id, 0, reply.role, reply.text, now)
                    stored.append(await self._insert(message))
                data = ticket_event(ticket_id, "reply", before["state"], to_state, agent)
                await self._db.execute(
                    SQLITE_TICKET_EVENT, (ticket_event_name("reply"), data, now, ticket_id)
                )
                await self._touch(conversation_id, now)
            # Either way (see HandoffStore.change_ticket): nothing was written without it.
            await self._db.commit()
        after = await self._ticket(ticket_id)
        assert after is not None
        if not won:  # released or closed meanwhile: say what it is now
            ticket_target("reply", after["state"], after["claimed_by"], agent)
            raise TicketRefused("ticket_changed", "this ticket changed meanwhile; reload it")
        return after, stored

    async def _ticket(self, ticket_id: int) -> dict[str, Any] | None:
        async with self._db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)) as c:
            row = await c.fetchone()
        return ticket_dict(row) if row is not None else None

    async def add_article_feedback(
        self, key: str, article_id: str, kind: str, language: str
    ) -> bool:
        if kind not in ARTICLE_VERDICTS:
            raise ValueError(f"an article verdict is one of {ARTICLE_VERDICTS}, not {kind!r}")
        now = utc_now()
        async with self._db.execute(
            "INSERT INTO bot_events (conversation_id, seq, kind, article_id, language, ts, day,"
            " started_at) SELECT ?, 0, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS"
            " (SELECT 1 FROM bot_events WHERE conversation_id = ?) ON CONFLICT DO NOTHING",
            (key, kind, article_id, language, now, now[:10], now, key),
        ) as cursor:
            recorded = cursor.rowcount == 1
        await self._db.commit()
        return recorded

    async def _insert(self, message: Message) -> Message:
        """Insert with the next seq, in one trip (not committed). Callers hold the
        conversation's lock: the customer, the bot and an agent may write to one
        conversation at the same moment, and choosing the seq and inserting must not
        interleave."""
        return await self._db.run(sqlite_messages.insert, message)

    async def _touch(self, conversation_id: str, ts: str) -> None:
        await self._db.run(sqlite_messages.touch, conversation_id, ts)

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]:
        async with self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq",
            (conversation_id, after_seq),
        ) as cursor:
            rows = await cursor.fetchall()
        return [message_from_row(row) for row in rows]

    async def message(self, conversation_id: str, seq: int) -> Message | None:
        async with self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? AND seq = ?",
            (conversation_id, seq),
        ) as cursor:
            row = await cursor.fetchone()
        return message_from_row(row) if row else None

    async def said_notices(self, conversation_id: str) -> set[str]:
        # The cheap text test first: json_type parses only the lines that can be notices.
        async with self._db.execute(
            "SELECT DISTINCT json_extract(meta_json, '$.notice.id') FROM messages"
            " WHERE conversation_id = ? AND role = 'system'"
            " AND instr(meta_json, '\"notice\"') > 0"
            " AND json_type(meta_json, '$.notice') = 'object'",
            (conversation_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return {str(row[0]) for row in rows if row[0] is not None}

    async def outbox(self, conversation_id: str) -> list[OutboxItem]:
        async with self._db.execute(
            "SELECT * FROM bot_outbox WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [_outbox_item(row) for row in rows]

    async def outbox_conversations(self) -> list[str]:
        async with self._db.execute(
            "SELECT conversation_id FROM bot_outbox GROUP BY conversation_id ORDER BY MIN(id)"
        ) as cursor:
            rows = await cursor.fetchall()
        return [row[0] for row in rows]

    async def note_delivery_attempt(self, item: OutboxItem, *, counted: bool) -> OutboxItem:
        updated = dataclasses.replace(item, attempts=item.attempts + int(counted), notified=True)
        await self._db.execute(
            "UPDATE bot_outbox SET attempts = ?, notified = 1 WHERE id = ?",
            (updated.attempts, item.id),
        )
        await self._db.commit()
        return updated


def _outbox_item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        conversation_id=row["conversation_id"],
        kind=row["kind"],
        seq=row["seq"],
        ask_rating=bool(row["ask_rating"]),
        attempts=row["attempts"],
        notified=bool(row["notified"]),
    )

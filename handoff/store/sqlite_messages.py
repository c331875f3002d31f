"""SQLiteStore's message writes, each a function for one trip to the connection's thread
(`OneTripConnection.run`): every statement of a message and its commit, back to back.

Why: written statement by statement, a customer message took eight trips (resend check,
next seq, insert, count, touch, outbox item, state, commit), each a hand-over to the
thread and a later turn of the event loop, queued behind every other chat's trips. With
1000 chats at a steady rate (bench/soak.py) the store's part of a relay then grew from 1.2
to 2.2 ms (p50) within four minutes, and the relay's p95 with it.

Callers still hold the conversation's lock (SQLiteStore._lock): other writers of the
conversation (bot replies, transitions) go statement by statement, and a message must not
land between their reading the next seq and their insert.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from handoff.conversation.models import (
    AgentWrite,
    Message,
    OutboxItem,
    StoredCustomerMessage,
    agent_from_row,
    message_columns,
    message_from_row,
)
from handoff.store.sqlite_handoffs import AGENT_OF_SESSION


def add_message(db: sqlite3.Connection, message: Message) -> tuple[Message, bool]:
    """Store `message` (committed); returns it and whether it is new (False: its client_id
    was stored already, and that message is returned)."""
    if message.client_id is not None:
        existing = by_client_id(db, message.conversation_id, message.client_id)
        if existing is not None:
            return existing, False
    stored = insert(db, message)
    touch(db, message.conversation_id, stored.ts)
    db.commit()
    return stored, True


def add_customer_message(db: sqlite3.Connection, message: Message) -> StoredCustomerMessage:
    """A customer message (committed) and, while the bot owns the conversation, its outbox
    item; with the state, language and (while assigned) agent the message found."""
    if message.client_id is not None:
        existing = by_client_id(db, message.conversation_id, message.client_id)
        if existing is not None:
            return StoredCustomerMessage(existing, False, None)
    stored = insert(db, message)
    conversation_id = stored.conversation_id
    touch(db, conversation_id, stored.ts)
    # One statement decides the outbox item; in this trip nothing else runs on the
    # connection, so no transition can slip in between it and the state read below.
    cursor = db.execute(
        "INSERT INTO bot_outbox (conversation_id, kind, seq, created_at)"
        " SELECT ?, 'message', ?, ? WHERE EXISTS"
        " (SELECT 1 FROM conversations WHERE id = ? AND state = 'bot')",
        (conversation_id, stored.seq, stored.ts, conversation_id),
    )
    item = None
    if cursor.rowcount == 1 and cursor.lastrowid is not None:
        item = OutboxItem(cursor.lastrowid, conversation_id, "message", stored.seq, False, 0, False)
    cursor.close()
    state, language, agent = _one(
        db,
        "SELECT c.state, c.language, (SELECT h.agent FROM handoffs h"
        "  WHERE h.conversation_id = c.id AND h.status = 'assigned'"
        "  ORDER BY h.id DESC LIMIT 1)"
        " FROM conversations c WHERE c.id = ?",
        (conversation_id,),
    ) or (None, None, None)
    db.commit()
    return StoredCustomerMessage(
        stored, True, item, state, language, agent if state == "assigned" else None
    )


def add_agent_message(
    db: sqlite3.Connection, message: Message, agent: str
) -> tuple[Message, int] | None:
    """`agent`'s message (committed) and the id of the handoff it belongs to; None (nothing
    written) unless the conversation's open handoff is assigned to `agent`."""
    found = _one(
        db,
        "SELECT id FROM handoffs WHERE conversation_id = ? AND status = 'assigned'"
        " AND agent = ? ORDER BY id DESC LIMIT 1",
        (message.conversation_id, agent),
    )
    if found is None:
        return None
    stored = insert(db, message)
    touch(db, stored.conversation_id, stored.ts)
    db.commit()
    return stored, int(found[0])


def add_agent_message_as(
    db: sqlite3.Connection, message: Message, token_hash: str, now: float
) -> AgentWrite:
    """`add_agent_message` for the agent whose unexpired session `token_hash` is, in the
    same trip as the write."""
    session = _one(db, AGENT_OF_SESSION, (token_hash, now))
    if session is None:
        return AgentWrite(None)
    agent = agent_from_row(session)
    return AgentWrite(agent, add_agent_message(db, message, agent.username))


def insert(db: sqlite3.Connection, message: Message) -> Message:
    """Insert with the next seq (not committed); returns the message with it."""
    last = _one(
        db,
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?",
        (message.conversation_id,),
    )
    stored = dataclasses.replace(message, seq=int(last[0]) if last else 1)
    columns = tuple(message_columns(stored).values())
    db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", columns).close()
    # The message count (PostgreSQL stores by it; here it is kept alongside), and for a
    # customer message the mark analytics count used conversations by.
    db.execute(
        "UPDATE conversations SET last_seq = ?,"
        " engaged = CASE WHEN ? = 'customer' THEN 1 ELSE engaged END WHERE id = ?",
        (stored.seq, stored.role, stored.conversation_id),
    ).close()
    return stored


def touch(db: sqlite3.Connection, conversation_id: str, ts: str) -> None:
    db.execute(
        "UPDATE conversations SET updated_at = ? WHERE id = ?", (ts, conversation_id)
    ).close()


def by_client_id(db: sqlite3.Connection, conversation_id: str, client_id: str) -> Message | None:
    row = _one(
        db,
        "SELECT * FROM messages WHERE conversation_id = ? AND client_id = ?",
        (conversation_id, client_id),
    )
    return message_from_row(row) if row is not None else None


def _one(db: sqlite3.Connection, sql: str, parameters: tuple[object, ...]) -> sqlite3.Row | None:
    """The first row, with the statement closed (no read left open: sqlite_connection.py)."""
    cursor = db.execute(sql, parameters)
    try:
        row: sqlite3.Row | None = cursor.fetchone()
        return row
    finally:
        cursor.close()

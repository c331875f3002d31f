"""The email outbox on SQLite (handoff/email/outbox.py; schema: migrations/sqlite/0010).

One gateway process owns a SQLite file, so claiming a row is one UPDATE ... RETURNING:
it moves `next_attempt_at` past the sender's lease in the same statement that picks it."""

from __future__ import annotations

from typing import Any

from handoff.email.model import OutgoingEmail, email_from_row
from handoff.store.interface import ticket_dict, utc_now
from handoff.store.sqlite_connection import OneTripConnection


async def add_email(
    db: OneTripConnection,
    conversation_id: str,
    recipient: str,
    subject: str,
    body: str,
    message_id: str,
) -> OutgoingEmail:
    now = utc_now()
    async with db.execute(
        "SELECT message_id FROM email_outbox WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    ) as cursor:
        thread = " ".join(row[0] for row in await cursor.fetchall())
    async with db.execute(
        "INSERT INTO email_outbox (conversation_id, recipient, subject, body, message_id,"
        " thread, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (conversation_id, recipient, subject, body, message_id, thread, now, now),
    ) as cursor:
        row = await cursor.fetchone()
    await db.commit()
    assert row is not None
    return email_from_row(row)


async def claim_due(
    db: OneTripConnection, now: str, lease_until: str, limit: int
) -> list[OutgoingEmail]:
    async with db.execute(
        "UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = ?"
        " WHERE id IN (SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?) RETURNING *",
        (lease_until, now, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    await db.commit()
    return sorted((email_from_row(row) for row in rows), key=lambda e: e.id)


async def retry_later(
    db: OneTripConnection, email_id: int, error: str, next_attempt_at: str
) -> None:
    await db.execute(
        "UPDATE email_outbox SET last_error = ?, next_attempt_at = ? WHERE id = ?",
        (error, next_attempt_at, email_id),
    )
    await db.commit()


async def finish(db: OneTripConnection, email_id: int, error: str | None) -> None:
    column = "sent_at" if error is None else "failed_at"
    await db.execute(
        f"UPDATE email_outbox SET {column} = ?, last_error = COALESCE(?, last_error),"
        " recipient = '' WHERE id = ?",
        (utc_now(), error, email_id),
    )
    await db.commit()


async def emails(db: OneTripConnection, conversation_id: str) -> list[OutgoingEmail]:
    async with db.execute(
        "SELECT * FROM email_outbox WHERE conversation_id = ? ORDER BY id", (conversation_id,)
    ) as cursor:
        return [email_from_row(row) for row in await cursor.fetchall()]


async def latest_ticket(db: OneTripConnection, conversation_id: str) -> dict[str, Any] | None:
    async with db.execute(
        "SELECT * FROM tickets WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
        (conversation_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return ticket_dict(row) if row is not None else None

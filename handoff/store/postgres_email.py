"""The email outbox on PostgreSQL (handoff/email/outbox.py; schema: migrations/postgres/0010).

Several gateway replicas run a sender each: a row is claimed with FOR UPDATE SKIP LOCKED
and its `next_attempt_at` moved past the claimer's lease in the same statement, so two
replicas never take the same mail (and a sender that dies mid-send frees it at the lease's
end)."""

from __future__ import annotations

from typing import Any

import asyncpg

from handoff.email.model import OutgoingEmail, email_from_row
from handoff.store.interface import ticket_dict, utc_now


async def add_email(
    pool: asyncpg.Pool,
    conversation_id: str,
    recipient: str,
    subject: str,
    body: str,
    message_id: str,
) -> OutgoingEmail:
    now = utc_now()
    row = await pool.fetchrow(
        "INSERT INTO email_outbox (conversation_id, recipient, subject, body, message_id,"
        " thread, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5,"
        " COALESCE((SELECT string_agg(message_id, ' ' ORDER BY id) FROM email_outbox"
        " WHERE conversation_id = $1), ''), $6, $6) RETURNING *",
        conversation_id,
        recipient,
        subject,
        body,
        message_id,
        now,
    )
    return email_from_row(row)


async def claim_due(
    pool: asyncpg.Pool, now: str, lease_until: str, limit: int
) -> list[OutgoingEmail]:
    rows = await pool.fetch(
        "UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $1"
        " WHERE id IN (SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        " AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3"
        " FOR UPDATE SKIP LOCKED) RETURNING *",
        lease_until,
        now,
        limit,
    )
    return sorted((email_from_row(row) for row in rows), key=lambda e: e.id)


async def retry_later(pool: asyncpg.Pool, email_id: int, error: str, next_attempt_at: str) -> None:
    await pool.execute(
        "UPDATE email_outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3",
        error,
        next_attempt_at,
        email_id,
    )


async def finish(pool: asyncpg.Pool, email_id: int, error: str | None) -> None:
    column = "sent_at" if error is None else "failed_at"
    await pool.execute(
        f"UPDATE email_outbox SET {column} = $1, last_error = COALESCE($2, last_error),"
        " recipient = '' WHERE id = $3",
        utc_now(),
        error,
        email_id,
    )


async def emails(pool: asyncpg.Pool, conversation_id: str) -> list[OutgoingEmail]:
    rows = await pool.fetch(
        "SELECT * FROM email_outbox WHERE conversation_id = $1 ORDER BY id", conversation_id
    )
    return [email_from_row(row) for row in rows]


async def latest_ticket(pool: asyncpg.Pool, conversation_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT * FROM tickets WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1",
        conversation_id,
    )
    return ticket_dict(row) if row is not None else None

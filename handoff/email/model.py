"""An outgoing email as the outbox keeps it (schema: store/migrations/*/0010.email-outbox.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutgoingEmail:
    """One ticket reply to mail. `recipient` is '' once the row is sent or given up on."""

    id: int
    conversation_id: str
    recipient: str
    subject: str
    body: str
    message_id: str  # "<...@domain>", ours, so the customer's reply can thread under it
    thread: tuple[str, ...]  # earlier Message-IDs of the conversation's mails, oldest first
    attempts: int
    next_attempt_at: str
    sent_at: str | None
    failed_at: str | None
    last_error: str | None
    created_at: str


def email_from_row(row: Any) -> OutgoingEmail:
    """A row of email_outbox (either backend's) as an OutgoingEmail."""
    return OutgoingEmail(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        message_id=row["message_id"],
        thread=tuple(row["thread"].split()),
        attempts=int(row["attempts"]),
        next_attempt_at=row["next_attempt_at"],
        sent_at=row["sent_at"],
        failed_at=row["failed_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
    )

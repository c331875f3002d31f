"""An attachment as the store keeps it.

Schema (both backends, migrations 0009):
  attachments(id, conversation_id, uploader_role, uploader, name, content_type, size,
              sha256, created_at, data)

The bytes live in the database, not on a disk beside one gateway: every replica reads the
same file (no shared volume to mount), the database's backups carry them with the
conversation they belong to, and there is one place to delete a customer's data from.
That is reasonable because a file is small: at most Settings.attachment_max_bytes (5 MB
by default) and a handful of them per conversation (a per-conversation upload rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

UploaderRole = Literal["customer", "agent"]


@dataclass(frozen=True)
class Attachment:
    id: str  # random and unguessable (secrets.token_urlsafe)
    conversation_id: str
    uploader_role: UploaderRole
    uploader: str  # the agent's username; "" for the customer
    name: str  # for display only: sanitised (sniffing.display_name), never a path
    content_type: str  # decided from the bytes (sniffing.sniff), never from the name
    size: int
    sha256: str  # hex
    created_at: str = ""  # set by the store

    def public(self) -> dict[str, Any]:
        """What a message carries about its attachment (customers and agents see it)."""
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
        }


class Row(Protocol):
    """A row of either backend (sqlite3.Row, asyncpg.Record): read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def attachment_from_row(row: Row) -> Attachment:
    """An attachment from a row of either backend (sqlite3.Row, asyncpg.Record)."""
    role = row["uploader_role"]
    if role not in ("customer", "agent"):
        raise ValueError(f"attachment {row['id']!r} has an unknown uploader role")
    return Attachment(
        id=row["id"],
        conversation_id=row["conversation_id"],
        uploader_role=role,
        uploader=row["uploader"],
        name=row["name"],
        content_type=row["content_type"],
        size=int(row["size"]),
        sha256=row["sha256"],
        created_at=row["created_at"],
    )

"""What a file from a release before these migrations lacks, before the baseline runs.

The baseline (0001) creates what is missing, but `CREATE TABLE IF NOT EXISTS` leaves an
existing table as it was, and SQLite has no `ADD COLUMN IF NOT EXISTS`: a table made by
an early release first gets the columns added since, with their facts filled in for the
rows already there, before the baseline's indexes (some of which cover them). Nothing
happens to a new file or a current one. yoyo records this step like any other, so it
runs once per file.
"""

from __future__ import annotations

import sqlite3

from yoyo import step

ADDED_COLUMNS: tuple[tuple[str, str, str, str | None], ...] = (
    # (table, column, declaration, backfill for the rows already there)
    ("agents", "role", "TEXT NOT NULL DEFAULT 'agent'", None),
    ("handoffs", "first_reply_at", "REAL", None),
    (
        "handoffs",
        "day",
        "TEXT",
        "UPDATE handoffs SET day = (SELECT SUBSTR(c.created_at, 1, 10)"
        " FROM conversations c WHERE c.id = handoffs.conversation_id)",
    ),
    (
        "conversations",
        "engaged",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE conversations SET engaged = 1 WHERE EXISTS (SELECT 1 FROM messages m"
        " WHERE m.conversation_id = conversations.id AND m.role = 'customer')",
    ),
    ("conversations", "kb_answered", "INTEGER NOT NULL DEFAULT 0", None),
    ("conversations", "kb_rejected", "INTEGER NOT NULL DEFAULT 0", None),
    (
        "conversations",
        "last_handoff",
        "TEXT",
        "UPDATE conversations SET last_handoff = (SELECT h.status FROM handoffs h"
        " WHERE h.conversation_id = conversations.id ORDER BY h.id DESC LIMIT 1)",
    ),
    (
        "bot_events",
        "day",
        "TEXT",
        "UPDATE bot_events SET day = (SELECT SUBSTR(c.created_at, 1, 10)"
        " FROM conversations c WHERE c.id = bot_events.conversation_id)",
    ),
    (
        "handoffs",
        "started_at",
        "TEXT",
        "UPDATE handoffs SET started_at = (SELECT c.created_at"
        " FROM conversations c WHERE c.id = handoffs.conversation_id)",
    ),
    (
        "bot_events",
        "started_at",
        "TEXT",
        "UPDATE bot_events SET started_at = (SELECT c.created_at"
        " FROM conversations c WHERE c.id = bot_events.conversation_id)",
    ),
)
# Indexes of early releases that the report indexes replaced.
DROPPED_INDEXES = ("conversations_by_day", "bot_events_by_day", "handoffs_for_reports")
# One rating per handoff (per conversation when it had none): the baseline's unique index
# would fail on a file from before it, which keeps the latest of each.
ONE_RATING_EACH = (
    "DELETE FROM ratings WHERE rowid NOT IN ("
    " SELECT MAX(rowid) FROM ratings GROUP BY conversation_id, IFNULL(handoff_id, 0))"
)


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def upgrade_early_file(connection: sqlite3.Connection) -> None:
    for table, column, declaration, backfill in ADDED_COLUMNS:
        present = _columns(connection, table)
        if present and column not in present:  # (a missing table comes whole, in 0001)
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            if backfill is not None:
                connection.execute(backfill)
    if _columns(connection, "ratings"):
        connection.execute(ONE_RATING_EACH)
    for index in DROPPED_INDEXES:
        connection.execute(f"DROP INDEX IF EXISTS {index}")


step(upgrade_early_file)

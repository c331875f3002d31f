"""What each agent set in the console's header: online (takes new chats), away or busy
(takes none; HandoffService.set_availability says how they differ). Kept with the agent,
so every gateway replica routes by the same choice, and a reload shows it again. Agents
already there are online, as they were: whether they are at a console is presence, not this.

A Python step, not SQL: SQLite checks the rows already there against the new column's
CHECK with a query of its own, whose (empty) result yoyo would print to standard output
for a plain SQL step.
"""

from __future__ import annotations

import sqlite3

from yoyo import step

ADD_AVAILABILITY = (
    "ALTER TABLE agents ADD COLUMN availability TEXT NOT NULL DEFAULT 'online'"
    " CHECK (availability IN ('online', 'away', 'busy'))"
)


def add_availability(connection: sqlite3.Connection) -> None:
    connection.execute(ADD_AVAILABILITY)


steps = [step(add_availability)]

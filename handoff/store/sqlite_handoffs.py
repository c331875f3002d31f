"""Agents, their sessions, the handoff queue, offline tickets, ratings and agents' private
notes on conversations (SQLite).

Passwords are stored as scrypt hashes (a memory-hard KDF from the standard
library), computed off the event loop (handoff/agent/passwords.py); session tokens are
stored only as SHA-256 hashes and expire. Sign-ins locked after too many failures
(handoff/agent/login_guard.py) are kept here too, so a restart keeps them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
from typing import Any

from handoff.agent.passwords import PasswordHasher
from handoff.agent.passwords import hash_password as hash_password
from handoff.agent.passwords import verify_password as verify_password
from handoff.conversation.models import (
    AVAILABILITIES,
    ROLES,
    Agent,
    Handoff,
    Note,
    agent_from_row,
    handoff_from_row,
)
from handoff.conversation.state_machine import TicketRefused, ticket_event_name, ticket_target
from handoff.notices.model import SEVERITIES, Notice, notice_from_row
from handoff.store.interface import (
    SESSION_SECONDS,
    hash_token,
    label_change,
    label_event,
    note_text,
    ticket_dict,
    ticket_event,
    ticket_view_filter,
    utc_now,
)
from handoff.store.sqlite_connection import OneTripConnection

# A ticket's event, with the state its conversation is in (unchanged); parameters: name,
# data, ts, ticket id. SQLiteStore.add_ticket_reply writes it too.
SQLITE_TICKET_EVENT = (
    "INSERT INTO events (conversation_id, name, from_state, to_state, data_json, ts)"
    " SELECT t.conversation_id, ?, COALESCE(c.state, ''), COALESCE(c.state, ''), ?, ?"
    " FROM tickets t LEFT JOIN conversations c ON c.id = t.conversation_id WHERE t.id = ?"
)


# The agent whose session a token hash is, while it has not expired.
AGENT_OF_SESSION = (
    "SELECT a.* FROM agent_sessions s JOIN agents a ON a.username = s.username"
    " WHERE s.token_hash = ? AND s.expires_at > ?"
)


class HandoffStore:
    def __init__(self, db: OneTripConnection, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        # Password hashes run off the event loop (handoff/agent/passwords.py).
        self.hasher = hasher or PasswordHasher()
        # One label change at a time: each reads the set it replaces before writing.
        self._labels_lock = asyncio.Lock()

    # -- agents ------------------------------------------------------------------

    async def upsert_agent(
        self,
        username: str,
        password: str,
        languages: list[str],
        skills: list[str],
        capacity: int,
        display_name: str = "",
        role: str = "agent",
    ) -> Agent:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        await self._db.execute(
            "INSERT INTO agents (username, display_name, password_hash, languages_json,"
            " skills_json, capacity, created_at, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(username) DO UPDATE SET"
            " display_name = excluded.display_name, password_hash = excluded.password_hash,"
            " languages_json = excluded.languages_json, skills_json = excluded.skills_json,"
            " capacity = excluded.capacity, role = excluded.role",
            (
                username,
                display_name or username,
                await self.hasher.hash(password),
                json.dumps(languages),
                json.dumps(skills),
                capacity,
                utc_now(),
                role,
            ),
        )
        await self._db.commit()
        agent = await self.agent(username)
        assert agent is not None
        return agent

    async def agent(self, username: str) -> Agent | None:
        async with self._db.execute("SELECT * FROM agents WHERE username = ?", (username,)) as c:
            row = await c.fetchone()
        return agent_from_row(row) if row else None

    async def agents(self) -> list[Agent]:
        async with self._db.execute("SELECT * FROM agents ORDER BY username") as c:
            return [agent_from_row(row) for row in await c.fetchall()]

    async def set_availability(self, username: str, availability: str) -> Agent | None:
        if availability not in AVAILABILITIES:
            raise ValueError(f"availability must be one of {', '.join(AVAILABILITIES)}")
        await self._db.execute(
            "UPDATE agents SET availability = ? WHERE username = ?", (availability, username)
        )
        await self._db.commit()
        return await self.agent(username)

    async def signed_in_agents(self) -> set[str]:
        async with self._db.execute(
            "SELECT DISTINCT username FROM agent_sessions WHERE expires_at > ?", (time.time(),)
        ) as cursor:
            return {row["username"] for row in await cursor.fetchall()}

    async def login(self, username: str, password: str) -> tuple[Agent, str, float] | None:
        async with self._db.execute(
            "SELECT * FROM agents WHERE username = ?", (username,)
        ) as cursor:
            row = await cursor.fetchone()
        # Unknown users are verified against the hasher's dummy hash: one scrypt either
        # way, so timing does not reveal which usernames exist. Raises HashingBusy.
        if not await self.hasher.verify(password, row["password_hash"] if row else None):
            return None
        assert row is not None
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + SESSION_SECONDS
        await self._db.execute(
            "INSERT INTO agent_sessions VALUES (?, ?, ?)", (hash_token(token), username, expires_at)
        )
        await self._db.execute("DELETE FROM agent_sessions WHERE expires_at < ?", (time.time(),))
        await self._db.commit()
        return agent_from_row(row), token, expires_at

    async def agent_for_token(self, token: str) -> Agent | None:
        async with self._db.execute(AGENT_OF_SESSION, (hash_token(token), time.time())) as cursor:
            row = await cursor.fetchone()
        return agent_from_row(row) if row else None

    async def logout(self, token: str) -> None:
        await self._db.execute(
            "DELETE FROM agent_sessions WHERE token_hash = ?", (hash_token(token),)
        )
        await self._db.commit()

    # -- sign-in lockouts (agent/login_guard.py) ---------------------------------------------

    async def login_locked(self, username: str) -> bool:
        async with self._db.execute(
            "SELECT 1 FROM login_lockouts WHERE username = ?", (username,)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def lock_login(self, username: str, failures: int) -> None:
        await self._db.execute(
            "INSERT INTO login_lockouts VALUES (?, ?, ?) ON CONFLICT(username) DO UPDATE SET"
            " failures = excluded.failures",
            (username, failures, utc_now()),
        )
        await self._db.commit()

    async def unlock_login(self, username: str) -> bool:
        """Lift a lock; False when the username was not locked."""
        cursor = await self._db.execute(
            "DELETE FROM login_lockouts WHERE username = ?", (username,)
        )
        await self._db.commit()
        return cursor.rowcount > 0

    async def login_lockouts(self) -> dict[str, str]:
        """Locked usernames (known or not) and when each was locked."""
        async with self._db.execute(
            "SELECT username, locked_at FROM login_lockouts ORDER BY username"
        ) as cursor:
            return {row["username"]: row["locked_at"] for row in await cursor.fetchall()}

    # -- the queue -----------------------------------------------------------------

    async def enqueue(
        self,
        conversation_id: str,
        reason: str,
        priority: int,
        language: str,
        skill: str | None,
        summary: str,
        context: dict[str, Any],
    ) -> Handoff:
        cursor = await self._db.execute(
            "INSERT INTO handoffs (conversation_id, status, reason, priority, language, skill,"
            " summary, context_json, queued_at, day, started_at)"
            " VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?,"
            " (SELECT SUBSTR(created_at, 1, 10) FROM conversations WHERE id = ?),"
            " (SELECT created_at FROM conversations WHERE id = ?))",
            (
                conversation_id,
                reason,
                priority,
                language,
                skill,
                summary,
                json.dumps(context, ensure_ascii=False),
                time.time(),
                conversation_id,
                conversation_id,
            ),
        )
        await self._note_last_handoff(int(cursor.lastrowid or 0))
        await self._db.commit()
        handoff = await self.handoff(int(cursor.lastrowid or 0))
        assert handoff is not None
        return handoff

    async def _note_last_handoff(self, handoff_id: int) -> None:
        """The conversation keeps its latest handoff's status (analytics.outcomes); in the
        same transaction as the change."""
        await self._db.execute(
            "UPDATE conversations SET last_handoff = (SELECT status FROM handoffs WHERE id = ?)"
            " WHERE id = (SELECT conversation_id FROM handoffs WHERE id = ?)",
            (handoff_id, handoff_id),
        )

    async def handoff(self, handoff_id: int) -> Handoff | None:
        async with self._db.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)) as c:
            row = await c.fetchone()
        return handoff_from_row(row) if row else None

    async def open_handoff(self, conversation_id: str) -> Handoff | None:
        """The conversation's handoff that is still queued or assigned, if any."""
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE conversation_id = ? AND status IN ('queued', 'assigned')"
            " ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return handoff_from_row(row) if row else None

    async def latest_handoff(self, conversation_id: str) -> Handoff | None:
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return handoff_from_row(row) if row else None

    async def queued(self) -> list[Handoff]:
        """Waiting handoffs in service order: priority first, then first come."""
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE status = 'queued' ORDER BY priority DESC, queued_at, id"
        ) as cursor:
            return [handoff_from_row(row) for row in await cursor.fetchall()]

    async def queue_entries(self) -> list[Handoff]:
        """The queue in service order without each chat's stored context (its transcript);
        `context` only keeps the `offline` flag. What queue frames and positions need."""
        async with self._db.execute(
            "SELECT id, conversation_id, status, reason, priority, language, skill, agent,"
            " summary, json_extract(context_json, '$.offline') AS offline, queued_at,"
            " assigned_at, closed_at FROM handoffs WHERE status = 'queued'"
            " ORDER BY priority DESC, queued_at, id"
        ) as cursor:
            return [
                handoff_from_row(row, context={"offline": True} if row["offline"] else {})
                for row in await cursor.fetchall()
            ]

    async def queue_position(self, handoff: Handoff) -> int:
        """1-based place of `handoff` among queued chats of its language and skill
        (priority, then first come: the order of `queued`); one indexed count."""
        async with self._db.execute(
            "SELECT COUNT(*) FROM handoffs WHERE status = 'queued' AND language = ?"
            " AND skill IS ? AND (priority > ? OR (priority = ? AND (queued_at < ?"
            " OR (queued_at = ? AND id <= ?))))",
            (
                handoff.language,
                handoff.skill,
                handoff.priority,
                handoff.priority,
                handoff.queued_at,
                handoff.queued_at,
                handoff.id,
            ),
        ) as cursor:
            row = await cursor.fetchone()
        return max(1, int(row[0])) if row else 1

    async def assigned_to(self, username: str) -> list[Handoff]:
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE status = 'assigned' AND agent = ? ORDER BY assigned_at",
            (username,),
        ) as cursor:
            return [handoff_from_row(row) for row in await cursor.fetchall()]

    async def assigned_counts(self) -> dict[str, int]:
        """How many chats each agent has open."""
        async with self._db.execute(
            "SELECT agent, COUNT(*) FROM handoffs WHERE status = 'assigned' GROUP BY agent"
        ) as cursor:
            return {str(row[0]): int(row[1]) for row in await cursor.fetchall()}

    async def assign(self, handoff_id: int, username: str) -> bool:
        """True if this agent got it; False if it was no longer waiting."""
        cursor = await self._db.execute(
            "UPDATE handoffs SET status = 'assigned', agent = ?, assigned_at = ?"
            " WHERE id = ? AND status = 'queued'",
            (username, time.time(), handoff_id),
        )
        await self._note_last_handoff(handoff_id)
        await self._db.commit()
        return cursor.rowcount == 1

    async def reassign(
        self, handoff_id: int, from_agent: str, to_agent: str, *, only_open: bool = True
    ) -> bool:
        """Give an assigned chat to `to_agent`; False if it was no longer `from_agent`'s
        (moved by someone else first, or, with `only_open`, closed). `assigned_at` stays:
        handle time counts from the first agent."""
        cursor = await self._db.execute(
            "UPDATE handoffs SET agent = ? WHERE id = ? AND agent = ?"
            + (" AND status = 'assigned'" if only_open else ""),
            (to_agent, handoff_id, from_agent),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def requeue(self, handoff_id: int, from_agent: str, skill: str | None) -> bool:
        """Back to the queue for `skill` (interface.Handoffs.requeue). `assigned_at`
        stays until the next accept sets it: analytics reads it of assigned and closed
        chats only."""
        cursor = await self._db.execute(
            "UPDATE handoffs SET status = 'queued', agent = NULL, skill = ?"
            " WHERE id = ? AND agent = ? AND status = 'assigned'",
            (skill, handoff_id, from_agent),
        )
        await self._note_last_handoff(handoff_id)
        await self._db.commit()
        return cursor.rowcount == 1

    async def assigned(self) -> list[Handoff]:
        """Every chat an agent has now, longest held first, without the stored contexts
        (the supervisors' live view)."""
        async with self._db.execute(
            "SELECT id, conversation_id, status, reason, priority, language, skill, agent,"
            " summary, queued_at, assigned_at, closed_at FROM handoffs"
            " WHERE status = 'assigned' ORDER BY assigned_at, id"
        ) as cursor:
            return [handoff_from_row(row, context={}) for row in await cursor.fetchall()]

    async def save_context(self, handoff: Handoff) -> None:
        await self._db.execute(
            "UPDATE handoffs SET context_json = ? WHERE id = ?",
            (json.dumps(handoff.context, ensure_ascii=False), handoff.id),
        )
        await self._db.commit()

    async def note_agent_reply(self, handoff_id: int) -> None:
        """Remember when the agent first wrote to the customer (analytics: the wait)."""
        await self._db.execute(
            "UPDATE handoffs SET first_reply_at = ? WHERE id = ? AND first_reply_at IS NULL",
            (time.time(), handoff_id),
        )
        await self._db.commit()

    async def resolve_handoff(self, handoff_id: int, agent: str) -> bool:
        """Close an assigned chat as resolved if it is still `agent`'s; False if it was
        moved or closed meanwhile (the row decides between a resolve and a reassign)."""
        cursor = await self._db.execute(
            "UPDATE handoffs SET status = 'resolved', closed_at = ?"
            " WHERE id = ? AND status = 'assigned' AND agent = ?",
            (time.time(), handoff_id, agent),
        )
        await self._note_last_handoff(handoff_id)
        await self._db.commit()
        return cursor.rowcount == 1

    async def close(self, handoff_id: int, status: str) -> None:
        await self._db.execute(
            "UPDATE handoffs SET status = ?, closed_at = ? WHERE id = ?",
            (status, time.time(), handoff_id),
        )
        await self._note_last_handoff(handoff_id)
        await self._db.commit()

    async def recent_handling_seconds(self, limit: int = 20) -> list[float]:
        async with self._db.execute(
            "SELECT closed_at - assigned_at FROM handoffs WHERE status = 'resolved'"
            " AND assigned_at IS NOT NULL ORDER BY closed_at DESC LIMIT ?",
            (limit,),
        ) as cursor:
            return [float(row[0]) for row in await cursor.fetchall() if row[0] is not None]

    # -- tickets and ratings -------------------------------------------------------------

    async def create_ticket(
        self, conversation_id: str, language: str, contact: dict[str, str], message: str
    ) -> int:
        cursor = await self._db.execute(
            "INSERT INTO tickets (conversation_id, language, contact_json, message, status,"
            " created_at) VALUES (?, ?, ?, ?, 'open', ?)",
            (
                conversation_id,
                language,
                json.dumps(contact, ensure_ascii=False),
                message,
                utc_now(),
            ),
        )
        await self._db.commit()
        return int(cursor.lastrowid or 0)

    async def tickets(self, view: str = "all", agent: str = "") -> list[dict[str, Any]]:
        where, args = ticket_view_filter(view, agent, "?")
        async with self._db.execute(
            f"SELECT * FROM tickets {where} ORDER BY id DESC LIMIT 200", args
        ) as c:
            return [ticket_dict(r) for r in await c.fetchall()]

    async def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        async with self._db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)) as c:
            row = await c.fetchone()
        return ticket_dict(row) if row is not None else None

    async def change_ticket(
        self, ticket_id: int, transition: str, agent: str, resolution: str | None = None
    ) -> dict[str, Any]:
        before = await self.ticket(ticket_id)
        if before is None:
            raise KeyError(ticket_id)
        to_state = ticket_target(transition, before["state"], before["claimed_by"], agent)
        now = utc_now()
        claimed_by = agent if transition == "claim" else before["claimed_by"]
        if transition == "release":
            claimed_by = None
        # Changed only if nobody changed it since it was read (`IS`: claimed_by may be
        # NULL): of two claims at once, the second finds the row claimed and writes nothing.
        cursor = await self._db.execute(
            "UPDATE tickets SET status = ?, claimed_by = ?,"
            " claimed_at = CASE WHEN ? = 'claim' THEN ? WHEN ? = 'release' THEN NULL"
            " ELSE claimed_at END,"
            " closed_at = CASE WHEN ? = 'close' THEN ? ELSE closed_at END,"
            " resolution = CASE WHEN ? = 'close' THEN ? ELSE resolution END"
            " WHERE id = ? AND status = ? AND claimed_by IS ?",
            (
                to_state,
                claimed_by,
                transition,
                now,
                transition,
                transition,
                now,
                transition,
                resolution,
                ticket_id,
                before["state"],
                before["claimed_by"],
            ),
        )
        if cursor.rowcount == 1:
            extra = {"resolution": resolution} if transition == "close" and resolution else {}
            await self._db.execute(
                SQLITE_TICKET_EVENT,
                (
                    ticket_event_name(transition),
                    ticket_event(ticket_id, transition, before["state"], to_state, agent, **extra),
                    now,
                    ticket_id,
                ),
            )
        # Committed either way: a rollback would end the implicit transaction of the
        # other writers sharing the connection too (an UPDATE of no row wrote nothing).
        await self._db.commit()
        after = await self.ticket(ticket_id)
        assert after is not None
        if cursor.rowcount != 1:  # someone else changed it first: say what it is now
            ticket_target(transition, after["state"], after["claimed_by"], agent)
            raise TicketRefused("ticket_changed", "this ticket changed meanwhile; reload it")
        return after

    async def add_rating(self, conversation_id: str, rating: int, handoff: Handoff | None) -> None:
        """One rating per handoff (per conversation without one): the customer's latest
        answer replaces an earlier one (the unique index ratings_one_per_handoff)."""
        await self._db.execute(
            "INSERT OR REPLACE INTO ratings (conversation_id, handoff_id, agent, rating, ts)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                conversation_id,
                handoff.id if handoff else None,
                handoff.agent if handoff else None,
                rating,
                utc_now(),
            ),
        )
        await self._db.commit()

    async def ratings(self, conversation_id: str) -> list[int]:
        async with self._db.execute(
            "SELECT rating FROM ratings WHERE conversation_id = ? ORDER BY ts", (conversation_id,)
        ) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    # -- private notes ------------------------------------------------------------------

    async def add_note(self, conversation_id: str, author: str, text: str) -> Note:
        # One statement: stored only for a conversation that exists (SQLite does not
        # check the foreign key), as PostgreSQL's does.
        cursor = await self._db.execute(
            "INSERT INTO conversation_notes (conversation_id, author, text, created_at)"
            " SELECT id, ?, ?, ? FROM conversations WHERE id = ?",
            (author, note_text(text), utc_now(), conversation_id),
        )
        # Committed either way: the INSERT opened the connection's implicit transaction,
        # which a rollback would end for the other writers sharing the connection too.
        await self._db.commit()
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            raise KeyError(conversation_id)
        async with self._db.execute(
            "SELECT * FROM conversation_notes WHERE id = ?", (cursor.lastrowid,)
        ) as c:
            row = await c.fetchone()
        assert row is not None
        return _note(row)

    async def notes(self, conversation_id: str) -> list[Note]:
        async with self._db.execute(
            "SELECT * FROM conversation_notes WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ) as cursor:
            return [_note(row) for row in await cursor.fetchall()]

    # -- labels -------------------------------------------------------------------------

    async def set_labels(
        self, conversation_id: str, labels: list[str], by: str
    ) -> tuple[list[str], list[str]]:
        async with self._labels_lock:
            async with self._db.execute(
                "SELECT state FROM conversations WHERE id = ?", (conversation_id,)
            ) as cursor:
                found = await cursor.fetchone()
            if found is None:
                raise KeyError(conversation_id)
            before = set(await self.labels(conversation_id))
            added, removed = label_change(before, labels)
            if not added and not removed:
                return [], []
            now = utc_now()
            await self._db.executemany(
                "DELETE FROM conversation_labels WHERE conversation_id = ? AND label = ?",
                [(conversation_id, label) for label in removed],
            )
            await self._db.executemany(
                "INSERT INTO conversation_labels (conversation_id, label, set_by, set_at)"
                " VALUES (?, ?, ?, ?)",
                [(conversation_id, label, by, now) for label in added],
            )
            # The conversation's history: an event that leaves the state as it is.
            await self._db.execute(
                "INSERT INTO events (conversation_id, name, from_state, to_state, data_json, ts)"
                " VALUES (?, 'labels', ?, ?, ?, ?)",
                (conversation_id, found[0], found[0], label_event(added, removed, by), now),
            )
            await self._db.commit()
            return added, removed

    async def labels(self, conversation_id: str) -> list[str]:
        return (await self.labels_of([conversation_id])).get(conversation_id, [])

    async def labels_of(self, conversation_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        # In slices: SQLite takes a bounded number of parameters per statement.
        for start in range(0, len(conversation_ids), 500):
            ids = conversation_ids[start : start + 500]
            async with self._db.execute(
                "SELECT conversation_id, label FROM conversation_labels"
                f" WHERE conversation_id IN ({', '.join('?' * len(ids))})"
                " ORDER BY conversation_id, label",
                ids,
            ) as cursor:
                for conversation_id, label in await cursor.fetchall():
                    found.setdefault(conversation_id, []).append(label)
        return found

    # -- notices ------------------------------------------------------------------------

    async def add_notice(self, notice: Notice) -> Notice:
        if notice.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        await self._db.execute(
            "INSERT INTO notices (id, texts_json, topics_json, severity, starts_at, ends_at,"
            " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                notice.id,
                json.dumps(notice.texts, ensure_ascii=False),
                json.dumps(list(notice.topics)),
                notice.severity,
                notice.starts_at,
                notice.ends_at,
                notice.created_by,
                utc_now(),
            ),
        )
        await self._db.commit()
        stored = await self._notice(notice.id)
        assert stored is not None
        return stored

    async def notices(self, after: str) -> list[Notice]:
        async with self._db.execute(
            "SELECT * FROM notices WHERE ends_at IS NULL OR ends_at > ? ORDER BY starts_at, id",
            (after,),
        ) as cursor:
            return [notice_from_row(row) for row in await cursor.fetchall()]

    async def end_notice(self, notice_id: str, by: str, at: str) -> Notice | None:
        await self._db.execute(
            "UPDATE notices SET ends_at = ?, ended_by = ?"
            " WHERE id = ? AND (ends_at IS NULL OR ends_at > ?)",
            (at, by, notice_id, at),
        )
        await self._db.commit()
        return await self._notice(notice_id)

    async def _notice(self, notice_id: str) -> Notice | None:
        async with self._db.execute("SELECT * FROM notices WHERE id = ?", (notice_id,)) as c:
            row = await c.fetchone()
        return notice_from_row(row) if row is not None else None


def _note(row: sqlite3.Row) -> Note:
    return Note(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        author=row["author"],
        text=row["text"],
        created_at=row["created_at"],
    )

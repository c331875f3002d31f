"""Agents, their sessions, the handoff queue, offline tickets and ratings (SQLite).

Passwords are stored as scrypt hashes (a memory-hard KDF from the standard
library); session tokens are stored only as SHA-256 hashes and expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from handoff.store import hash_token, utc_now

SESSION_SECONDS = 8 * 3600  # one working day
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        **_SCRYPT,
        salt=base64.b64encode(salt).decode(),
        digest=base64.b64encode(digest).decode(),
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            dklen=32,
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "languages": list(self.languages),
            "skills": list(self.skills),
            "capacity": self.capacity,
        }

    def can_take(self, language: str, skill: str | None) -> bool:
        return language in self.languages and (skill is None or skill in self.skills)


@dataclass
class Handoff:
    id: int
    conversation_id: str
    status: str  # queued, assigned, resolved, cancelled, offline_ticket, abandoned
    reason: str
    priority: int
    language: str
    skill: str | None
    agent: str | None
    summary: str
    context: dict[str, Any] = field(default_factory=dict)
    queued_at: float = 0.0
    assigned_at: float | None = None
    closed_at: float | None = None

    def queue_item(self, now: float) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "language": self.language,
            "reason": self.reason,
            "waiting_seconds": int(now - self.queued_at),
            "summary": self.summary,
            "priority": self.priority,
            "skill": self.skill,
        }


def _agent(row: aiosqlite.Row) -> Agent:
    return Agent(
        username=row["username"],
        display_name=row["display_name"],
        languages=tuple(json.loads(row["languages_json"])),
        skills=tuple(json.loads(row["skills_json"])),
        capacity=int(row["capacity"]),
    )


def _handoff(row: aiosqlite.Row) -> Handoff:
    return Handoff(
        id=row["id"],
        conversation_id=row["conversation_id"],
        status=row["status"],
        reason=row["reason"],
        priority=row["priority"],
        language=row["language"],
        skill=row["skill"],
        agent=row["agent"],
        summary=row["summary"],
        context=json.loads(row["context_json"]),
        queued_at=row["queued_at"],
        assigned_at=row["assigned_at"],
        closed_at=row["closed_at"],
    )


class HandoffStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    # -- agents ------------------------------------------------------------------

    async def upsert_agent(
        self,
        username: str,
        password: str,
        languages: list[str],
        skills: list[str],
        capacity: int,
        display_name: str = "",
    ) -> Agent:
        await self._db.execute(
            "INSERT INTO agents VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET"
            " display_name = excluded.display_name, password_hash = excluded.password_hash,"
            " languages_json = excluded.languages_json, skills_json = excluded.skills_json,"
            " capacity = excluded.capacity",
            (
                username,
                display_name or username,
                hash_password(password),
                json.dumps(languages),
                json.dumps(skills),
                capacity,
                utc_now(),
            ),
        )
        await self._db.commit()
        agent = await self.agent(username)
        assert agent is not None
        return agent

    async def agent(self, username: str) -> Agent | None:
        async with self._db.execute("SELECT * FROM agents WHERE username = ?", (username,)) as c:
            row = await c.fetchone()
        return _agent(row) if row else None

    async def agents(self) -> list[Agent]:
        async with self._db.execute("SELECT * FROM agents ORDER BY username") as c:
            return [_agent(row) for row in await c.fetchall()]

    async def login(self, username: str, password: str) -> tuple[Agent, str, float] | None:
        async with self._db.execute(
            "SELECT * FROM agents WHERE username = ?", (username,)
        ) as cursor:
            row = await cursor.fetchone()
        # Verify against a dummy hash for unknown users so timing does not
        # reveal which usernames exist.
        stored = row["password_hash"] if row else hash_password(secrets.token_hex(8))
        if not verify_password(password, stored) or row is None:
            return None
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + SESSION_SECONDS
        await self._db.execute(
            "INSERT INTO agent_sessions VALUES (?, ?, ?)", (hash_token(token), username, expires_at)
        )
        await self._db.execute("DELETE FROM agent_sessions WHERE expires_at < ?", (time.time(),))
        await self._db.commit()
        return _agent(row), token, expires_at

    async def agent_for_token(self, token: str) -> Agent | None:
        async with self._db.execute(
            "SELECT a.* FROM agent_sessions s JOIN agents a ON a.username = s.username"
            " WHERE s.token_hash = ? AND s.expires_at > ?",
            (hash_token(token), time.time()),
        ) as cursor:
            row = await cursor.fetchone()
        return _agent(row) if row else None

    async def logout(self, token: str) -> None:
        await self._db.execute(
            "DELETE FROM agent_sessions WHERE token_hash = ?", (hash_token(token),)
        )
        await self._db.commit()

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
            " summary, context_json, queued_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                reason,
                priority,
                language,
                skill,
                summary,
                json.dumps(context, ensure_ascii=False),
                time.time(),
            ),
        )
        await self._db.commit()
        handoff = await self.handoff(int(cursor.lastrowid or 0))
        assert handoff is not None
        return handoff

    async def handoff(self, handoff_id: int) -> Handoff | None:
        async with self._db.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)) as c:
            row = await c.fetchone()
        return _handoff(row) if row else None

    async def open_handoff(self, conversation_id: str) -> Handoff | None:
        """The conversation's handoff that is still queued or assigned, if any."""
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE conversation_id = ? AND status IN ('queued', 'assigned')"
            " ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return _handoff(row) if row else None

    async def latest_handoff(self, conversation_id: str) -> Handoff | None:
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return _handoff(row) if row else None

    async def queued(self) -> list[Handoff]:
        """Waiting handoffs in service order: priority first, then first come."""
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE status = 'queued' ORDER BY priority DESC, queued_at, id"
        ) as cursor:
            return [_handoff(row) for row in await cursor.fetchall()]

    async def assigned_to(self, username: str) -> list[Handoff]:
        async with self._db.execute(
            "SELECT * FROM handoffs WHERE status = 'assigned' AND agent = ? ORDER BY assigned_at",
            (username,),
        ) as cursor:
            return [_handoff(row) for row in await cursor.fetchall()]

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
        await self._db.commit()
        return cursor.rowcount == 1

    async def save_context(self, handoff: Handoff) -> None:
        await self._db.execute(
            "UPDATE handoffs SET context_json = ? WHERE id = ?",
            (json.dumps(handoff.context, ensure_ascii=False), handoff.id),
        )
        await self._db.commit()

    async def close(self, handoff_id: int, status: str) -> None:
        await self._db.execute(
            "UPDATE handoffs SET status = ?, closed_at = ? WHERE id = ?",
            (status, time.time(), handoff_id),
        )
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

    async def tickets(self) -> list[dict[str, Any]]:
        async with self._db.execute("SELECT * FROM tickets ORDER BY id DESC LIMIT 200") as c:
            rows = await c.fetchall()
        return [
            {
                "ticket_id": r["id"],
                "conversation_id": r["conversation_id"],
                "language": r["language"],
                "created_at": r["created_at"],
                "contact": json.loads(r["contact_json"]),
                "message": r["message"],
                "status": r["status"],
            }
            for r in rows
        ]

    async def add_rating(self, conversation_id: str, rating: int, handoff: Handoff | None) -> None:
        await self._db.execute(
            "INSERT INTO ratings VALUES (?, ?, ?, ?, ?)",
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

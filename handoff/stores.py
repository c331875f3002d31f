"""Which store the gateway persists to, chosen by one setting (stack/settings.py).

`ASSISTANT_DATABASE_URL` unset: SQLite in var/ (SQLiteStore, and HandoffStore on its
connection), the embedded default. `postgresql://...`: PostgreSQL (PostgresStore, and
PostgresHandoffStore on its pool), which several gateways can share. Both pairs pass
tests/handoff/test_store_contract.py.

`Store` (store.py) is the conversations side; `Handoffs` here is the people side, the
surface HandoffStore has. A method added to HandoffStore goes here too (mypy then checks
both implementations have it; the contract tests check it behaves the same on both).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from handoff.handoff_store import Agent, Handoff, HandoffStore
from handoff.passwords import PasswordHasher
from handoff.postgres_store import PostgresHandoffStore, PostgresStore
from handoff.store import SQLiteStore, Store
from handoff.store_errors import STORE_UNAVAILABLE
from stack.settings import Settings


class _PoolReconnectFilter(logging.Filter):
    """asyncpg's pool logs each failed reconnect while PostgreSQL is away as a WARNING
    with a traceback. The server being away is a wait, not a bug: one line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], STORE_UNAVAILABLE):
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_POOL_FILTER = _PoolReconnectFilter()


class Handoffs(Protocol):
    """Agents and their sessions, sign-in lockouts, the handoff queue, tickets, ratings."""

    hasher: PasswordHasher

    async def upsert_agent(
        self,
        username: str,
        password: str,
        languages: list[str],
        skills: list[str],
        capacity: int,
        display_name: str = "",
        role: str = "agent",
    ) -> Agent: ...

    async def agent(self, username: str) -> Agent | None: ...

    async def agents(self) -> list[Agent]: ...

    async def login(self, username: str, password: str) -> tuple[Agent, str, float] | None: ...

    async def agent_for_token(self, token: str) -> Agent | None: ...

    async def logout(self, token: str) -> None: ...

    async def login_locked(self, username: str) -> bool: ...

    async def lock_login(self, username: str, failures: int) -> None: ...

    async def unlock_login(self, username: str) -> bool: ...

    async def login_lockouts(self) -> dict[str, str]: ...

    async def enqueue(
        self,
        conversation_id: str,
        reason: str,
        priority: int,
        language: str,
        skill: str | None,
        summary: str,
        context: dict[str, Any],
    ) -> Handoff: ...

    async def handoff(self, handoff_id: int) -> Handoff | None: ...

    async def open_handoff(self, conversation_id: str) -> Handoff | None: ...

    async def latest_handoff(self, conversation_id: str) -> Handoff | None: ...

    async def queued(self) -> list[Handoff]: ...

    async def queue_entries(self) -> list[Handoff]: ...

    async def queue_position(self, handoff: Handoff) -> int: ...

    async def assigned_to(self, username: str) -> list[Handoff]: ...

    async def assigned_counts(self) -> dict[str, int]: ...

    async def assign(self, handoff_id: int, username: str) -> bool: ...

    async def reassign(
        self, handoff_id: int, from_agent: str, to_agent: str, *, only_open: bool = True
    ) -> bool: ...

    async def assigned(self) -> list[Handoff]: ...

    async def save_context(self, handoff: Handoff) -> None: ...

    async def note_agent_reply(self, handoff_id: int) -> None: ...

    async def resolve_handoff(self, handoff_id: int, agent: str) -> bool: ...

    async def close(self, handoff_id: int, status: str) -> None: ...

    async def recent_handling_seconds(self, limit: int = 20) -> list[float]: ...

    async def create_ticket(
        self, conversation_id: str, language: str, contact: dict[str, str], message: str
    ) -> int: ...

    async def tickets(self) -> list[dict[str, Any]]: ...

    async def add_rating(
        self, conversation_id: str, rating: int, handoff: Handoff | None
    ) -> None: ...

    async def ratings(self, conversation_id: str) -> list[int]: ...


async def open_stores(
    settings: Settings, hasher: PasswordHasher | None = None, *, schema: str | None = None
) -> tuple[Store, Handoffs]:
    """The gateway's two stores on one connection (SQLite) or one pool (PostgreSQL), schema
    up to date. `schema`: PostgreSQL only, an existing schema to keep the tables in (tests;
    several deployments in one database). The caller closes the first, and the hasher."""
    if not settings.database_url:
        sqlite = await SQLiteStore.open(settings.db_path)
        return sqlite, HandoffStore(sqlite.connection, hasher)
    pool_log = logging.getLogger("asyncpg.pool")
    if _POOL_FILTER not in pool_log.filters:
        pool_log.addFilter(_POOL_FILTER)
    postgres = await PostgresStore.open(settings.database_url, schema=schema)
    return postgres, PostgresHandoffStore(postgres.pool, hasher)

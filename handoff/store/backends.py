"""Which store the gateway persists to, chosen by one setting (stack/settings.py).

`ASSISTANT_DATABASE_URL` unset: SQLite in var/ (SQLiteStore, and HandoffStore on its
connection), the embedded default. `postgresql://...`: PostgreSQL (PostgresStore, and
PostgresHandoffStore on its pool), which several gateways can share. Both pairs pass
tests/handoff/test_store_contract.py.

`Store` (sqlite.py) is the conversations side; `Handoffs` here is the people side, the
surface HandoffStore has. A method added to HandoffStore goes here too (mypy then checks
both implementations have it; the contract tests check it behaves the same on both).
"""

from __future__ import annotations

import logging

from redis import asyncio as redis_asyncio

from handoff.agent.passwords import PasswordHasher
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.store.interface import Handoffs, Store
from handoff.store.postgres import PostgresHandoffStore, PostgresStore
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
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
    postgres = await PostgresStore.open(
        settings.database_url,
        schema=schema,
        min_size=settings.database_pool_size,
        max_size=settings.database_pool_size,
    )
    return postgres, PostgresHandoffStore(postgres.pool, hasher)


def shared_redis(settings: Settings, socket_timeout: float) -> redis_asyncio.Redis | None:
    """A client of the replicas' Redis (None without ASSISTANT_REDIS_URL). It holds at
    most `redis_pool_size` connections: in a burst, a call waits (up to `socket_timeout`)
    for a free one instead of opening a connection of its own."""
    if not settings.redis_url:
        return None
    pool = redis_asyncio.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_pool_size,
        timeout=socket_timeout,
        socket_connect_timeout=2,
        socket_timeout=socket_timeout,
    )
    return redis_asyncio.Redis.from_pool(pool)

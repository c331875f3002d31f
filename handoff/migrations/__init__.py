"""Schema migrations of the gateway's store: numbered SQL files per backend.

    handoff/migrations/postgres/0001.baseline.sql   applied by `migrate_postgres` at start
    handoff/migrations/sqlite/0001.baseline.sql     what SQLiteStore.open (store.py) creates

The files follow yoyo-migrations' layout (one `NNNN.name.sql` per step, applied in name
order, an optional `-- depends: NNNN.name` header), so that kept tool can take them over
with its own bookkeeping once it is a dependency; until then `migrate_postgres` applies
them and records each in `schema_migrations`. Baselines are idempotent (IF NOT EXISTS), so
the tool may apply 0001 again over a database this runner (or, for SQLite, store.py's
upgrade at open) already built. A later step is a new file, never an edit of an applied one.

SQLite still builds its schema in store.py (`_SCHEMA` and its column upgrades); the contract
tests check that the SQLite baseline here yields the same schema, until the store applies
these files itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import asyncpg

MIGRATIONS_DIR = Path(__file__).resolve().parent
Backend = Literal["sqlite", "postgres"]
# The table that remembers which steps a PostgreSQL database has had.
APPLIED_TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    id: str  # the file name without ".sql", e.g. "0001.baseline"
    sql: str


def migrations(backend: Backend) -> list[Migration]:
    """The backend's steps in the order they apply (rollback files excluded)."""
    folder = MIGRATIONS_DIR / backend
    files = sorted(path for path in folder.glob("*.sql") if not path.name.endswith(".rollback.sql"))
    return [Migration(path.name.removesuffix(".sql"), path.read_text("utf-8")) for path in files]


async def migrate_postgres(connection: asyncpg.Connection) -> list[str]:
    """Apply the steps this database (its current schema) lacks, in one transaction; returns
    the ids applied. Gateways starting together take turns on an advisory lock, so a step
    runs once; a step that fails leaves the database as it was (PostgreSQL's DDL is
    transactional)."""
    applied_now: list[str] = []
    # Keyed by schema: tests (and tenants) keep separate stores in separate schemas. A
    # session lock taken before the transaction begins: a transaction that began while
    # another gateway was migrating would look names up in a stale catalog cache.
    lock_key = "hashtext('assistant-migrations:' || current_schema())"
    await connection.execute(f"SELECT pg_advisory_lock({lock_key})")
    try:
        async with connection.transaction():
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {APPLIED_TABLE}"
                " (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            applied = {
                row["id"] for row in await connection.fetch(f"SELECT id FROM {APPLIED_TABLE}")
            }
            for step in migrations("postgres"):
                if step.id in applied:
                    continue
                await connection.execute(step.sql)
                await connection.execute(
                    f"INSERT INTO {APPLIED_TABLE} (id, applied_at) VALUES ($1, $2)",
                    step.id,
                    datetime.now(UTC).isoformat(timespec="milliseconds"),
                )
                applied_now.append(step.id)
    finally:
        await connection.execute(f"SELECT pg_advisory_unlock({lock_key})")
    return applied_now

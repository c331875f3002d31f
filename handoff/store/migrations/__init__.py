"""The store's schema, one numbered step at a time, applied by yoyo-migrations at start.

    handoff/store/migrations/sqlite/     SQLiteStore.open (sqlite.py) brings its file up to date
    handoff/store/migrations/postgres/   PostgresStore.open (postgres.py) its schema

Each folder holds steps named `NNNN.what-it-does.sql` (or `.py` where SQL alone cannot
say it), applied in name order; a step is a new file, never an edit of one a database
already has. How a store opens:

1. `migrate` hands the work to a thread (yoyo and its drivers are blocking: psycopg 3
   for PostgreSQL, the standard sqlite3 module for SQLite), so the event loop keeps
   serving while a long step runs.
2. yoyo connects, creates its own tables in the store's schema if they are missing
   (`BOOKKEEPING_TABLES`), and takes its lock: a row in `yoyo_lock`. Gateways starting
   together on one database queue on that row (each polls until it is free, up to
   `LOCK_WAIT_SECONDS`), so each step runs once, wherever it runs. The row is not tied
   to a connection: one left by a gateway killed while migrating stays until someone
   deletes it, and the error a later start gives says so and how. (Opens of one SQLite
   file within a process also take turns on a thread lock first: see `_turns`.)
3. Under the lock it compares the folder with `_yoyo_migration` and applies what is
   missing, each step in a transaction of its own (DDL is transactional on both
   backends): a step that fails leaves nothing behind, and the steps before it stay
   applied and recorded.

Databases from before this tool have no `_yoyo_migration`, so yoyo applies every step
to them. That is safe by construction: the baselines only create what is missing (IF NOT
EXISTS throughout), and SQLite's step 0000 first gives a file from an early release the
columns its tables lack. The old home-made runner's `schema_migrations` table on
PostgreSQL is left as it was; nothing reads it any more.

Failures are `MigrationError`s whose message says what went wrong and what to do, never
with the PostgreSQL password: yoyo needs it in its connection URL, which is built here,
kept out of every repr, and scrubbed from every message. yoyo itself logs migration ids
and SQL, never the URL; its logger is set to WARNING (at INFO it says a line per SQL
statement), and this module logs one line per step applied.

Steps do not use yoyo's `-- depends:` header: yoyo resolves it by id across every folder
a process has read, and both folders have the same ids. Name order is the order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import getpass
import glob
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

import yoyo
from yoyo.exceptions import LockTimeout
from yoyo.migrations import MigrationList

from stack.shared_stores import DATABASE_VARIABLE, PostgresTarget

MIGRATIONS_DIR = Path(__file__).resolve().parent
Backend = Literal["sqlite", "postgres"]
# yoyo's own tables, in the store's database (and schema) beside the store's tables.
BOOKKEEPING_TABLES = frozenset({"_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock"})
# How long a starting gateway waits for another one's migrations before it gives up.
LOCK_WAIT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 10

log = logging.getLogger(__name__)
# yoyo says a line per SQL statement at INFO; one line per step (below) is enough. An
# operator who configured yoyo's logger keeps their setting.
_yoyo_log = logging.getLogger("yoyo")
if _yoyo_log.level == logging.NOTSET:
    _yoyo_log.setLevel(logging.WARNING)


class MigrationError(RuntimeError):
    """The store's schema could not be brought up to date; the message says why and what
    to do, and holds no password."""


@dataclass(frozen=True)
class Database:
    """A database for yoyo: its connection URL (with the password, hence never shown),
    and how to name it in messages."""

    backend: Backend
    where: str
    url: str = field(repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The lock table as an operator would name it (schema-qualified when there is one).
    lock_table: str = "yoyo_lock"
    # SQLite: the file, for the quick look at what it already has (`_has_every_step`).
    path: Path | None = None


def sqlite_database(path: Path) -> Database:
    # yoyo opens "file:<path>?cache=shared" as an SQLite URI, which SQLite percent-decodes:
    # a path with spaces, '?' or '#' reaches it intact only quoted.
    return Database(
        "sqlite", str(path), "sqlite:///" + quote(str(path.absolute())), path=path.absolute()
    )


def postgres_database(target: PostgresTarget, schema: str | None = None) -> Database:
    """yoyo's psycopg 3 backend. `schema`: the store's tables (and yoyo's) live in that
    existing schema; yoyo makes it the search_path of its connections, as the store's
    pool does."""
    options = {
        # In the query rather than the URL's path, which yoyo does not percent-decode.
        "dbname": target.database,
        "application_name": "assistant-migrations",
        "connect_timeout": str(CONNECT_TIMEOUT_SECONDS),
    }
    if target.options.get("sslmode"):
        options["sslmode"] = target.options["sslmode"]
    if schema:
        options["schema"] = schema
    host = f"[{target.host}]" if ":" in target.host else target.host
    credentials = quote(target.user, safe="")
    if target.password:
        credentials += ":" + quote(target.password, safe="")
    where = f"PostgreSQL at {target.address}, database '{target.database}'"
    if schema:
        where += f", schema '{schema}'"
    return Database(
        "postgres",
        where,
        f"postgresql+psycopg://{credentials}@{host}:{target.port}/?{urlencode(options)}",
        secrets=(target.password, quote(target.password, safe="")) if target.password else (),
        lock_table=f"{schema}.yoyo_lock" if schema else "yoyo_lock",
    )


async def migrate(
    database: Database, *, folder: Path | None = None, lock_wait: float = LOCK_WAIT_SECONDS
) -> list[str]:
    """Bring `database` up to date from `folder` (default: the backend's own) in a worker
    thread; returns the ids of the steps applied now."""
    return await asyncio.to_thread(migrate_blocking, database, folder=folder, lock_wait=lock_wait)


def migrate_blocking(
    database: Database, *, folder: Path | None = None, lock_wait: float = LOCK_WAIT_SECONDS
) -> list[str]:
    """`migrate` on the calling thread: never call it from the event loop."""
    source = folder if folder is not None else MIGRATIONS_DIR / database.backend
    steps = _read(source)
    if _has_every_step(database, [step.id for step in steps]):
        return []
    turn = _turn_in_this_process(database)
    if not turn.acquire(timeout=lock_wait):
        raise MigrationError(_still_locked(database, lock_wait))
    try:
        return _migrate(database, steps, lock_wait)
    finally:
        turn.release()


# yoyo opens SQLite files in shared-cache mode, where a second connection of the same
# process that meets a lock fails at once ("database schema is locked") instead of
# waiting: migrations of one SQLite file take turns within a process here, and other
# processes queue on yoyo_lock as gateways do on PostgreSQL.
_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()


def _turn_in_this_process(database: Database) -> threading.Lock:
    if database.backend != "sqlite":
        return threading.Lock()  # yoyo_lock alone
    with _turns_guard:
        return _turns.setdefault(database.url, threading.Lock())


def _migrate(database: Database, steps: Any, lock_wait: float) -> list[str]:
    try:
        backend = yoyo.get_backend(database.url)
    except ImportError as exc:
        raise MigrationError(
            f"the migration tool lacks a driver ({exc.name}): install the app's requirements "
            "(pip install -c requirements/constraints.txt -r requirements/app.txt)"
        ) from None
    except Exception as exc:
        raise MigrationError(_cannot_open(database, exc)) from None
    if database.backend == "sqlite":
        # As the store's own connection (sqlite.py): in WAL mode a commit then waits for
        # no fsync, and a power cut can lose the last commits but never corrupts the file.
        # Eight commits at ~20 ms each were most of a new file's open.
        backend.connection.execute("PRAGMA synchronous = NORMAL")
    applied: list[str] = []
    with backend:  # closes its connection whatever happens
        try:
            with backend.lock(lock_wait):
                for step in backend.to_apply(steps):
                    _apply(backend, step, database)
                    applied.append(step.id)
        except LockTimeout:
            raise MigrationError(_still_locked(database, lock_wait)) from None
        except MigrationError:
            raise
        except Exception as exc:
            raise MigrationError(
                f"{database.where}: the migration tool could not read or record the schema's "
                f"version ({_reason(exc, database)}); the database user needs to create and "
                "write tables there"
            ) from None
    return applied


def _still_locked(database: Database, waited: float) -> str:
    return (
        f"{database.where}: another gateway has been applying the store's migrations for "
        f"over {waited:.0f} s, or one stopped while applying them and left its lock behind "
        f"(a row in {database.lock_table}). If no gateway is starting now, delete that row "
        f"(DELETE FROM {database.lock_table};) and start again."
    )


def _has_every_step(database: Database, ids: list[str]) -> bool:
    """Whether an SQLite file already records every step: then yoyo (a lock, a parse of
    each step, eight commits: ~100 ms) has nothing to do, and an open costs one query.
    Anything unexpected says no, and yoyo decides."""
    if database.path is None or not database.path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(database.path, timeout=5)) as connection:
            recorded = {
                row[0] for row in connection.execute("SELECT migration_id FROM _yoyo_migration")
            }
    except sqlite3.Error:
        return False
    return set(ids) <= recorded


def _read(source: Path) -> Any:
    """The steps in `source`, parsed once per process while the folder is unchanged (yoyo
    splits each SQL file with sqlparse: ~0.2 s for the baseline)."""
    try:
        signature = tuple(
            (entry.name, entry.stat().st_mtime_ns, entry.stat().st_size)
            for entry in sorted(source.iterdir())
        )
    except OSError as exc:
        raise MigrationError(f"cannot read the migrations in {source}: {exc}") from None
    return _read_folder(source, signature)


@functools.lru_cache(maxsize=32)
def _read_folder(source: Path, signature: tuple[tuple[str, int, int], ...]) -> Any:
    # read_migrations takes a glob pattern: a folder whose name holds '[' or '*' must be
    # escaped, or it would match nothing and every step would be silently skipped.
    try:
        steps = yoyo.read_migrations(glob.escape(str(source)))
    except Exception as exc:
        raise MigrationError(f"cannot read the migrations in {source}: {exc}") from None
    if not steps:
        raise MigrationError(f"no migrations in {source}: is the installation complete?")
    return steps


def _apply(backend: Any, step: Any, database: Database) -> None:
    # yoyo logs who applied each step; without a user name it would fail after the
    # step committed and before recording it, and apply it again at the next start.
    try:
        getpass.getuser()
    except Exception:
        raise MigrationError(
            "the migration tool records which user applied each step, and this process "
            "has none (no USER or LOGNAME, and its uid has no /etc/passwd entry): set USER "
            "in the gateway's environment"
        ) from None
    started = time.monotonic()
    try:
        backend.apply_migrations(MigrationList([step]))
    except Exception as exc:
        raise MigrationError(
            f"{database.where}: migration {step.id} failed and was rolled back "
            f"({_reason(exc, database)}). Fix {step.path} or the data it trips on, then "
            "start again: the steps before it are kept and will not run twice."
        ) from None
    log.info(
        "store schema: applied %s on %s (%.2f s)",
        step.id,
        database.where,
        time.monotonic() - started,
    )


def _cannot_open(database: Database, exc: Exception) -> str:
    reason = _reason(exc, database)
    if database.backend == "sqlite":
        return (
            f"cannot open {database.where} to bring its schema up to date ({reason}); "
            "the file and its folder must exist or be creatable, and be writable by the gateway"
        )
    return (
        f"cannot use {database.where} to bring the store's schema up to date ({reason}); "
        f"check {DATABASE_VARIABLE} (user, password, database) and that the server is running"
    )


def _reason(exc: BaseException, database: Database) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in database.secrets:
        text = text.replace(secret, "***")
    return text[:400]

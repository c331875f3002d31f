"""The store's migrations (handoff/store/migrations): yoyo at start, on both backends.

Older databases keep their rows and come out with the current schema; a step added later
applies once over a database with rows; a failing step is rolled back and named; a lock
left behind says how to lift it; the work runs off the event loop; the PostgreSQL password
reaches no message and no log line. PostgreSQL tests use the run's throwaway server, each
in a schema of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest

from handoff.store.migrations import (
    BOOKKEEPING_TABLES,
    MIGRATIONS_DIR,
    Database,
    MigrationError,
    migrate,
    postgres_database,
    sqlite_database,
)
from handoff.store.postgres import PostgresHandoffStore, PostgresStore
from handoff.store.sqlite import SQLiteStore
from stack.devservers import PostgresServer
from stack.shared_stores import parse_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
Store = SQLiteStore | PostgresStore


async def _admin(url: str, schema: str | None = None) -> asyncpg.Connection:
    target = parse_database_url(url)
    assert target is not None
    return await asyncpg.connect(
        host=target.host,
        port=target.port,
        user=target.user,
        password=target.password,
        database=target.database,
        server_settings={"search_path": schema} if schema else None,
    )


@pytest.fixture
async def pg_schema(postgres_url: str) -> AsyncIterator[str]:
    name = f"migrations_{secrets.token_hex(4)}"
    admin = await _admin(postgres_url)
    await admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        await admin.execute(f"DROP SCHEMA {name} CASCADE")
        await admin.close()


class Place:
    """One backend's database for a test: how to open the store on it, how yoyo reaches
    it, and a way to read it directly."""

    def __init__(self, kind: str, tmp_path: Path, url: str = "", schema: str = "") -> None:
        self.kind = kind
        self.path = tmp_path / "store.sqlite3"
        self.url = url
        self.schema = schema

    async def open(self) -> Store:
        if self.kind == "sqlite":
            return await SQLiteStore.open(self.path)
        return await PostgresStore.open(self.url, schema=self.schema)

    @property
    def database(self) -> Database:
        if self.kind == "sqlite":
            return sqlite_database(self.path)
        target = parse_database_url(self.url)
        assert target is not None
        return postgres_database(target, self.schema)

    async def query(self, sql: str) -> list[tuple[object, ...]]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as db:
                return [tuple(row) for row in db.execute(sql).fetchall()]
        admin = await _admin(self.url, self.schema)
        try:
            return [tuple(row) for row in await admin.fetch(sql)]
        finally:
            await admin.close()

    async def columns(self, table: str) -> set[str]:
        if self.kind == "sqlite":
            return {str(row[1]) for row in await self.query(f"PRAGMA table_info({table})")}
        rows = await self.query(
            "SELECT column_name FROM information_schema.columns"
            f" WHERE table_schema = current_schema() AND table_name = '{table}'"
        )
        return {str(row[0]) for row in rows}


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "postgres":
        return Place(
            "postgres",
            tmp_path,
            request.getfixturevalue("postgres_url"),
            request.getfixturevalue("pg_schema"),
        )
    return Place("sqlite", tmp_path)


def _steps_with(tmp_path: Path, backend: str, extra: dict[str, str]) -> Path:
    """The backend's shipped steps plus `extra` (file name: content): a later release."""
    folder = tmp_path / "steps"
    shutil.copytree(MIGRATIONS_DIR / backend, folder, ignore=shutil.ignore_patterns("__*"))
    for name, text in extra.items():
        (folder / name).write_text(text, "utf-8")
    return folder


async def _conversation_with_messages(store: Store) -> str:
    conversation, _ = await store.create_conversation("ko", {"name": "민지"})
    await store.add_message(conversation.id, "customer", "환불 문의", client_id="m1")
    await store.add_message(conversation.id, "bot", "도와드릴게요")
    return conversation.id


async def _transcript(store: Store, conversation_id: str) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in await store.messages(conversation_id)]


# -- older databases ------------------------------------------------------------------------


async def test_a_new_step_applies_once_over_a_database_with_rows(
    place: Place, tmp_path: Path
) -> None:
    store = await place.open()
    conversation_id = await _conversation_with_messages(store)
    await store.close()
    later = _steps_with(
        tmp_path,
        place.kind,
        {"0004.conversation-flag.sql": "ALTER TABLE conversations ADD COLUMN flag TEXT"},
    )

    # Two gateways of the next release start at once: the step (which would fail a
    # second time: the column exists) runs once, and is recorded.
    first, second = await asyncio.gather(
        migrate(place.database, folder=later), migrate(place.database, folder=later)
    )
    assert sorted([*first, *second]) == ["0004.conversation-flag"]
    assert await migrate(place.database, folder=later) == []
    assert "flag" in await place.columns("conversations")
    assert await place.query("SELECT flag FROM conversations") == [(None,)]

    # This release's gateway (without 0004) still opens it, and every row is there.
    store = await place.open()
    try:
        assert await _transcript(store, conversation_id) == [
            ("customer", "환불 문의"),
            ("bot", "도와드릴게요"),
        ]
    finally:
        await store.close()
    applied = await place.query("SELECT migration_id FROM _yoyo_migration")
    assert sorted(str(row[0]) for row in applied) == sorted(
        path.stem for path in later.iterdir() if path.suffix in {".sql", ".py"}
    )


async def test_a_postgres_database_of_the_old_runner_keeps_its_rows(
    postgres_url: str, pg_schema: str
) -> None:
    """Built as the home-made runner left it: the baseline, its own bookkeeping, rows.
    yoyo applies the (idempotent) baseline again, records it, and loses nothing."""
    admin = await _admin(postgres_url, pg_schema)
    try:
        await admin.execute((MIGRATIONS_DIR / "postgres" / "0001.baseline.sql").read_text("utf-8"))
        await admin.execute(
            "CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);"
            "INSERT INTO schema_migrations VALUES ('0001.baseline', '2026-11-20T00:00:00.000Z');"
            "INSERT INTO conversations (id, token_hash, language, state, customer_json,"
            " created_at, updated_at, engaged) VALUES ('c1', 'h', 'ja', 'bot', '{}',"
            " '2026-11-20T01:00:00.000Z', '2026-11-20T01:00:00.000Z', 1);"
            "INSERT INTO messages (conversation_id, seq, role, text, ts)"
            " VALUES ('c1', 1, 'customer', 'こんにちは', '2026-11-20T01:00:01.000Z');"
        )
    finally:
        await admin.close()

    store = await PostgresStore.open(postgres_url, schema=pg_schema)
    try:
        assert await _transcript(store, "c1") == [("customer", "こんにちは")]
        message, is_new = await store.add_message("c1", "bot", "はい")
        assert is_new and message.seq == 2
        # the later step's notes table, ready for the conversations already there
        handoffs = PostgresHandoffStore(store.pool)
        await handoffs.add_note("c1", "kenji", "社内メモ: 返金承認済み")
        assert [n.text for n in await handoffs.notes("c1")] == ["社内メモ: 返金承認済み"]
        handoffs.hasher.close()
    finally:
        await store.close()
    place = Place("postgres", Path(), postgres_url, pg_schema)
    applied = await place.query("SELECT migration_id FROM _yoyo_migration ORDER BY 1")
    assert applied == [
        ("0001.baseline",),
        ("0002.message-counter",),
        ("0003.conversation-notes",),
        ("0004.agent-availability",),
        ("0005.conversation-labels",),
        ("0006.conversation-search",),
        ("0007.notices",),
        ("0008.ticket-desk",),
        ("0009.attachments",),
        ("0010.email-outbox",),
    ]
    assert await place.query("SELECT id FROM schema_migrations") == [("0001.baseline",)]
    # the message count the later step added, filled in from the rows already there
    assert await place.query("SELECT last_seq FROM conversations WHERE id = 'c1'") == [(2,)]


EARLY_FILE = """
CREATE TABLE conversations (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL,
    language TEXT NOT NULL, state TEXT NOT NULL, customer_json TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE messages (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
    role TEXT NOT NULL, text TEXT NOT NULL, payload TEXT, client_id TEXT,
    buttons_json TEXT NOT NULL DEFAULT '[]', links_json TEXT NOT NULL DEFAULT '[]',
    meta_json TEXT NOT NULL DEFAULT '{}', ts TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq));
CREATE TABLE handoffs (id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    priority INTEGER NOT NULL, language TEXT NOT NULL, skill TEXT, agent TEXT,
    summary TEXT NOT NULL, context_json TEXT NOT NULL, queued_at REAL NOT NULL,
    assigned_at REAL, closed_at REAL);
CREATE INDEX conversations_by_day ON conversations(created_at);
INSERT INTO conversations VALUES ('c1', 'h', 'en', 'bot', '{}',
    '2026-11-02T01:00:00.000Z', '2026-11-02T01:00:00.000Z');
INSERT INTO messages (conversation_id, seq, role, text, ts)
    VALUES ('c1', 1, 'customer', 'hello', '2026-11-02T01:00:01.000Z');
INSERT INTO handoffs (conversation_id, status, reason, priority, language, summary,
    context_json, queued_at) VALUES ('c1', 'resolved', 'requested', 1, 'en', '', '{}', 1);
"""


def _shape(path: Path) -> tuple[dict[str, set[str]], set[str]]:
    """The store's tables with their columns, and its index names."""
    with sqlite3.connect(path) as db:
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] not in BOOKKEEPING_TABLES and not row[0].startswith("sqlite_")
        ]
        columns = {t: {row[1] for row in db.execute(f"PRAGMA table_info({t})")} for t in tables}
        indexes = {
            row[0]
            for row in db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")
            if row[1] not in BOOKKEEPING_TABLES and not row[0].startswith("sqlite_")
        }
    return columns, indexes


async def test_an_sqlite_file_of_an_early_release_gets_the_current_schema(
    tmp_path: Path,
) -> None:
    path = tmp_path / "early.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(EARLY_FILE)
    store = await SQLiteStore.open(path)
    try:
        assert await _transcript(store, "c1") == [("customer", "hello")]
    finally:
        await store.close()
    fresh = await SQLiteStore.open(tmp_path / "fresh.sqlite3")
    await fresh.close()
    assert _shape(path) == _shape(tmp_path / "fresh.sqlite3")
    with sqlite3.connect(path) as db:
        # the facts the added columns hold, filled in for the rows already there
        assert db.execute("SELECT engaged, last_handoff FROM conversations").fetchall() == [
            (1, "resolved")
        ]
        assert db.execute("SELECT day, started_at FROM handoffs").fetchall() == [
            ("2026-11-02", "2026-11-02T01:00:00.000Z")
        ]
        assert sorted(row[0] for row in db.execute("SELECT migration_id FROM _yoyo_migration")) == [
            "0000.early-files",
            "0001.baseline",
            "0002.message-counter",
            "0003.conversation-notes",
            "0004.agent-availability",
            "0005.conversation-labels",
            "0006.conversation-search",
            "0007.notices",
            "0008.ticket-desk",
            "0009.attachments",
            "0010.email-outbox",
            "0011.search-in-batches",
            "0012.search-merge-fanout",
        ]
        # each conversation's message count, filled in from its messages
        assert db.execute("SELECT id, last_seq FROM conversations").fetchall() == [("c1", 1)]
        assert db.execute("SELECT count(*) FROM conversation_notes").fetchall() == [(0,)]
    assert await migrate(sqlite_database(path)) == []


# -- failures -------------------------------------------------------------------------------


async def test_a_failing_step_is_rolled_back_and_named(place: Place, tmp_path: Path) -> None:
    store = await place.open()
    conversation_id = await _conversation_with_messages(store)
    await store.close()
    broken = _steps_with(
        tmp_path,
        place.kind,
        {
            "0004.half-done.sql": "ALTER TABLE conversations ADD COLUMN half TEXT;\n"
            "INSERT INTO no_such_table VALUES (1);\n"
        },
    )
    with pytest.raises(MigrationError) as failure:
        await migrate(place.database, folder=broken)
    message = str(failure.value)
    assert "0004.half-done" in message and "no_such_table" in message
    assert "rolled back" in message and "start again" in message
    assert "half" not in await place.columns("conversations")  # nothing of it kept
    assert await place.query("SELECT count(*) FROM yoyo_lock") == [(0,)]  # lock released
    store = await place.open()  # the shipped steps still open it, rows and all
    try:
        assert len(await _transcript(store, conversation_id)) == 2
    finally:
        await store.close()


async def test_a_lock_left_behind_says_how_to_lift_it(place: Place, tmp_path: Path) -> None:
    """A later release (one more step) meets the lock a killed gateway left."""
    store = await place.open()
    await store.close()
    insert_lock = (
        "INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, '2026-11-20 00:00:00', 4242)"
    )
    await place.query(insert_lock)
    later = _steps_with(
        tmp_path, place.kind, {"0004.more.sql": "CREATE TABLE later_step (id INTEGER)"}
    )
    with pytest.raises(MigrationError) as failure:
        await migrate(place.database, folder=later, lock_wait=0.5)
    table = f"{place.schema}.yoyo_lock" if place.schema else "yoyo_lock"
    assert f"DELETE FROM {table};" in str(failure.value)
    assert "another gateway" in str(failure.value)
    await place.query(f"DELETE FROM {table}")
    assert await migrate(place.database, folder=later) == ["0004.more"]  # lifted


async def test_an_up_to_date_sqlite_file_opens_without_the_tool(tmp_path: Path) -> None:
    """Every step recorded: the open does not take yoyo's lock (a lock left behind does
    not stop it) and applies nothing; one more step in the folder, and it does."""
    path = tmp_path / "db.sqlite3"
    await (await SQLiteStore.open(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, '2026-11-20', 1)")
    assert await migrate(sqlite_database(path), lock_wait=0.5) == []
    later = _steps_with(tmp_path, "sqlite", {"0004.more.sql": "CREATE TABLE later (id INTEGER)"})
    with pytest.raises(MigrationError):
        await migrate(sqlite_database(path), folder=later, lock_wait=0.5)


async def test_migrations_run_off_the_event_loop(place: Place, tmp_path: Path) -> None:
    store = await place.open()
    await store.close()
    slow = _steps_with(
        tmp_path,
        place.kind,
        {
            "0004.slow.py": "import time\n\nfrom yoyo import step\n\n"
            "step(lambda connection: time.sleep(0.6))\n"
        },
    )
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        assert await migrate(place.database, folder=slow) == ["0004.slow"]
    finally:
        ticker.cancel()
    assert ticks >= 6  # the loop went on turning while the step slept


# -- the password -----------------------------------------------------------------------------


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )


def _shown(error: BaseException) -> str:
    return str(error) + "".join(traceback.format_exception(error))


@pytest.fixture
async def special_role(
    postgres_server: PostgresServer, pg_schema: str
) -> AsyncIterator[tuple[str, str]]:
    """A role whose password needs quoting in a URL, allowed to build in the test schema
    (made by the superuser, over the server's own unix socket)."""
    name = f"migrator_{secrets.token_hex(4)}"
    password = f"p@ss:/?#% {secrets.token_hex(6)}"
    superuser = await asyncpg.connect(
        host=str(postgres_server.socket_dir),
        port=postgres_server.port,
        user="postgres",
        database=postgres_server.database,
    )
    try:
        await superuser.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        await superuser.execute(f"GRANT ALL ON SCHEMA {pg_schema} TO {name}")
        yield name, password
    finally:
        await superuser.execute(f"DROP OWNED BY {name}")
        await superuser.execute(f"DROP ROLE IF EXISTS {name}")
        await superuser.close()


async def test_the_password_reaches_no_log_line(
    postgres_url: str,
    pg_schema: str,
    special_role: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="yoyo")  # every line yoyo can say
    user, password = special_role
    target = parse_database_url(postgres_url)
    assert target is not None
    url = (
        f"postgresql://{user}:{quote(password, safe='')}@{target.host}:{target.port}"
        f"/{target.database}"
    )
    store = await PostgresStore.open(url, schema=pg_schema)
    await store.close()
    logged = _logged(caplog)
    assert "0001.baseline" in logged  # it did log, and applied the baseline
    assert password not in logged and quote(password, safe="") not in logged
    special = parse_database_url(url)
    assert special is not None
    database = postgres_database(special, pg_schema)
    assert password not in repr(database) and quote(password, safe="") not in repr(database)


async def test_a_refused_login_says_what_to_do_without_the_password(
    postgres_url: str, pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="yoyo")
    target = parse_database_url(postgres_url)
    assert target is not None
    wrong = "not-the-password-7Qx"
    url = f"postgresql://{target.user}:{wrong}@{target.host}:{target.port}/{target.database}"
    with pytest.raises(MigrationError) as failure:
        await PostgresStore.open(url, schema=pg_schema)
    message = str(failure.value)
    assert "password authentication failed" in message
    assert "ASSISTANT_DATABASE_URL" in message and target.address in message
    assert wrong not in _shown(failure.value) and wrong not in _logged(caplog)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_gateway_stops_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    password = "start-secret-91"
    env = {
        **os.environ,
        "ASSISTANT_DATABASE_URL": f"postgresql://assistant:{password}@127.0.0.1:"
        f"{_closed_port()}/assistant",
        "ASSISTANT_DB_PATH": str(tmp_path / "unused.sqlite3"),
    }
    env.pop("ASSISTANT_REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "handoff"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "error: the gateway cannot start: cannot use PostgreSQL at 127.0.0.1:" in output
    assert "check ASSISTANT_DATABASE_URL" in output and "server is running" in output
    assert "Traceback" not in output and password not in output


async def test_without_a_user_name_nothing_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """yoyo records who applied a step after it commits: without a name it would leave a
    step applied but unrecorded, to run again next time. Caught before the step."""

    def nobody() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr("getpass.getuser", nobody)
    with pytest.raises(MigrationError, match="set USER"):
        await SQLiteStore.open(tmp_path / "db.sqlite3")
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "conversations" not in tables

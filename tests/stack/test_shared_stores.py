"""Scale-out settings: URLs read, checked at start with a clear message (never the
password), and Rasa's endpoints on the shared stores without a password in clear."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
import yaml

from stack import shared_stores
from stack.devservers import PostgresServer, RedisServer, free_port
from stack.launcher import Stack, StackError, program_specs, rasa_endpoints, stack_files
from stack.settings import PROJECT_ROOT, Settings
from stack.shared_stores import SharedStoreError, check, redact_url

SECRET = "s3cret-pw"


def test_settings_default_to_the_embedded_stack() -> None:
    settings = Settings.from_env({})
    assert (settings.database_url, settings.redis_url, settings.gateway_replicas) == ("", "", 1)
    check(settings)  # nothing to reach
    endpoints = rasa_endpoints(settings)
    assert endpoints["tracker_store"]["dialect"] == "sqlite"
    assert "lock_store" not in endpoints


def test_settings_from_the_environment_keep_passwords_out_of_repr() -> None:
    settings = Settings.from_env(
        {
            "ASSISTANT_DATABASE_URL": f"postgresql://a:{SECRET}@db:5432/x",
            "ASSISTANT_REDIS_URL": f"redis://:{SECRET}@cache:6379/2",
            "ASSISTANT_GATEWAY_REPLICAS": "3",
        }
    )
    assert settings.gateway_replicas == 3
    assert SECRET not in repr(settings)
    assert SECRET not in shared_stores.describe(settings)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://user:{SECRET}@db.example:5432/app",
            "postgresql://user:***@db.example:5432/app",
        ),
        (f"redis://:{SECRET}@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        (f"rediss://default:{SECRET}@[::1]/1", "rediss://default:***@[::1]/1"),
        ("postgresql://user@db/app?sslmode=require", "postgresql://user@db/app?sslmode=require"),
        (f"postgresql://u:{SECRET}@db:notaport/app", "postgresql://(unreadable URL)"),
        ("", ""),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("variable", "url", "expected"),
    [
        ("ASSISTANT_DATABASE_URL", f"mysql://u:{SECRET}@db/app", "scheme 'mysql'"),
        ("ASSISTANT_DATABASE_URL", f"db.example:5432/{SECRET}", "expected postgresql://"),
        ("ASSISTANT_DATABASE_URL", f"postgresql://u:{SECRET}@db:99999/app", "not a valid URL"),
        ("ASSISTANT_DATABASE_URL", f"postgresql://u:{SECRET}@db:5432/", "user and a database"),
        ("ASSISTANT_REDIS_URL", f"http://:{SECRET}@cache:6379", "scheme 'http'"),
        ("ASSISTANT_REDIS_URL", f"redis://:{SECRET}@cache:6379/zero", "must be a number"),
    ],
)
def test_a_wrong_url_names_the_variable_not_the_password(
    variable: str, url: str, expected: str
) -> None:
    with pytest.raises(SharedStoreError) as caught:
        check(Settings.from_env({variable: url}))
    message = str(caught.value)
    assert message.startswith(variable) and expected in message
    assert SECRET not in message


def test_more_gateways_need_both_shared_stores() -> None:
    with pytest.raises(SharedStoreError, match="ASSISTANT_GATEWAY_REPLICAS=2 needs"):
        check(Settings(gateway_replicas=2))
    with pytest.raises(SharedStoreError, match="1 or more"):
        check(Settings(gateway_replicas=0))


def test_more_gateways_on_both_shared_stores_pass(postgres_url: str, redis_url: str) -> None:
    check(Settings(database_url=postgres_url, redis_url=redis_url, gateway_replicas=3))


def test_each_gateway_gets_its_own_port_and_program() -> None:
    settings = Settings(gateway_port=18080, gateway_replicas=3)
    specs = program_specs(settings, stack_files(settings))
    gateways = [spec for name, spec in specs.items() if name.startswith("gateway")]
    assert [(g.name, g.port) for g in gateways] == [
        ("gateway", 18080),
        ("gateway-2", 18081),
        ("gateway-3", 18082),
    ]
    assert gateways[1].env == {"ASSISTANT_GATEWAY_PORT": "18081"}
    assert gateways[2].health_url.endswith(":18082/healthz")


@pytest.mark.parametrize("variable", ["ASSISTANT_DATABASE_URL", "ASSISTANT_REDIS_URL"])
def test_an_unreachable_server_names_the_variable_and_address(variable: str) -> None:
    port = free_port()
    scheme = "postgresql" if variable == "ASSISTANT_DATABASE_URL" else "redis"
    url = f"{scheme}://user:{SECRET}@127.0.0.1:{port}/1"
    with pytest.raises(SharedStoreError) as caught:
        check(Settings.from_env({variable: url}), timeout=2)
    message = str(caught.value)
    assert message.startswith(variable)
    assert f"127.0.0.1:{port}" in message and "cannot reach" in message
    assert SECRET not in message


def _with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    credentials, address = rest.split("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{password}@{address}"


def test_postgres_refusals_are_explained(postgres_server: PostgresServer) -> None:
    wrong = _with_password(postgres_server.url, SECRET)
    with pytest.raises(SharedStoreError, match="refused user 'assistant'") as caught:
        check(Settings(database_url=wrong))
    assert f"127.0.0.1:{postgres_server.port}" in str(caught.value)
    assert SECRET not in str(caught.value)
    missing = postgres_server.url.rsplit("/", 1)[0] + "/nosuchdb"
    with pytest.raises(SharedStoreError, match="has no database 'nosuchdb'") as caught:
        check(Settings(database_url=missing))
    assert postgres_server.password not in str(caught.value)


def test_redis_refusals_are_explained(redis_server: RedisServer) -> None:
    wrong = _with_password(redis_server.url, SECRET)
    with pytest.raises(SharedStoreError, match="refused the password") as caught:
        check(Settings(redis_url=wrong))
    assert SECRET not in str(caught.value)
    anonymous = f"redis://{redis_server.host}:{redis_server.port}/0"
    with pytest.raises(SharedStoreError, match="wants a password"):
        check(Settings(redis_url=anonymous))


async def _schemas(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT nspname FROM pg_namespace")
        return {str(row["nspname"]) for row in rows}
    finally:
        await connection.close()


def test_reachable_servers_pass_and_rasa_gets_its_schema(postgres_url: str, redis_url: str) -> None:
    settings = Settings(database_url=postgres_url, redis_url=redis_url)
    check(settings)
    assert shared_stores.RASA_SCHEMA in asyncio.run(_schemas(postgres_url))
    check(settings)  # again: nothing to create, nothing fails


def test_concurrent_starts_create_the_schema_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replicas starting at once all find or create Rasa's schema; none fails (a bare
    CREATE SCHEMA IF NOT EXISTS races: the loser gets a unique violation)."""
    schema = f"rasa_race_{os.getpid()}"
    monkeypatch.setattr(shared_stores, "RASA_SCHEMA", schema)

    async def race() -> None:
        connections = [await asyncpg.connect(postgres_url) for _ in range(6)]
        try:
            for _ in range(5):
                await connections[0].execute(f"DROP SCHEMA IF EXISTS {schema}")
                await asyncio.gather(*(shared_stores.create_rasa_schema(c) for c in connections))
                names = {
                    row[0] for row in await connections[0].fetch("SELECT nspname FROM pg_namespace")
                }
                assert schema in names
        finally:
            await connections[0].execute(f"DROP SCHEMA IF EXISTS {schema}")
            for connection in connections:
                await connection.close()

    asyncio.run(race())


def test_rasa_endpoints_on_shared_stores_hold_no_password(tmp_path: Path) -> None:
    database_password, redis_password = "pg-pass-123", "redis-pass-456"
    settings = Settings(
        database_url=f"postgresql://assistant:{database_password}@10.0.0.5:6543/chats?sslmode=require",
        redis_url=f"redis://:{redis_password}@10.0.0.6:6380/3",
        run_dir=tmp_path,
    )
    endpoints = rasa_endpoints(settings)
    text = yaml.safe_dump(endpoints)
    assert database_password not in text and redis_password not in text
    tracker = endpoints["tracker_store"]
    assert tracker == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "10.0.0.5",
        "port": 6543,
        "db": "chats",
        "username": "assistant",
        "password": "${ASSISTANT_DATABASE_PASSWORD}",
        "query": {"sslmode": "require", "options": "-csearch_path=rasa"},
    }
    assert endpoints["lock_store"] == {
        "type": "redis",
        "url": "10.0.0.6",
        "port": 6380,
        "db": 3,
        "key_prefix": "rasa",
        "use_ssl": False,
        "password": "${ASSISTANT_REDIS_PASSWORD}",
    }
    # Rasa substitutes ${...} only in plain (unquoted) scalars.
    assert "password: ${ASSISTANT_DATABASE_PASSWORD}\n" in text
    assert "password: ${ASSISTANT_REDIS_PASSWORD}\n" in text
    assert shared_stores.secret_env(settings) == {
        "ASSISTANT_DATABASE_PASSWORD": database_password,
        "ASSISTANT_REDIS_PASSWORD": redis_password,
    }


def test_the_stack_refuses_to_start_on_a_wrong_url(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"postgresql://u:{SECRET}@127.0.0.1:{free_port()}/app",
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "log",
    )
    with pytest.raises(StackError, match="ASSISTANT_DATABASE_URL: cannot reach"):
        Stack(settings).start()
    assert not (tmp_path / "run").exists()  # nothing was started or written


def test_make_run_says_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ASSISTANT_DATABASE_URL": f"mysql://u:{SECRET}@127.0.0.1/app",
        "ASSISTANT_RUN_DIR": str(tmp_path / "run"),
        "ASSISTANT_LOG_DIR": str(tmp_path / "log"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "stack", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "error: ASSISTANT_DATABASE_URL has scheme 'mysql'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert SECRET not in result.stderr + result.stdout

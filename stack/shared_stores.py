"""PostgreSQL and Redis for scale-out: reading their URLs, checking them at start, and
what Rasa needs to use them.

Settings (stack/settings.py): `ASSISTANT_DATABASE_URL` (empty: SQLite in var/;
`postgresql://user:password@host:port/database`), `ASSISTANT_REDIS_URL` (empty: in-process;
`redis://[[user]:password@]host:port/db`, `rediss://` for TLS) and
`ASSISTANT_GATEWAY_REPLICAS`. `check(settings)` runs at start (the launcher calls it): a
wrong scheme, an unreachable server or a refused login is a `SharedStoreError` whose
message names the variable and the address (host:port), never the password.

Passwords never reach a command line, a log or a file in clear: `redact_url` is for
anything printed, and Rasa's endpoints name `${ASSISTANT_DATABASE_PASSWORD}` /
`${ASSISTANT_REDIS_PASSWORD}`, which the launcher puts in Rasa's environment
(`secret_env`) and Rasa fills in when it reads the file.

Rasa's tracker table is called `events`, as is a table of the gateway's store, so on
PostgreSQL Rasa keeps its trackers in a schema of their own (`RASA_SCHEMA`, created by
`check`) through the connection's search_path.
"""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from stack.settings import Settings

if TYPE_CHECKING:
    import asyncpg

DATABASE_VARIABLE = "ASSISTANT_DATABASE_URL"
REDIS_VARIABLE = "ASSISTANT_REDIS_URL"
REPLICAS_VARIABLE = "ASSISTANT_GATEWAY_REPLICAS"
# Filled in from Rasa's environment when it reads the endpoints file (secret_env).
DATABASE_PASSWORD_VARIABLE = "ASSISTANT_DATABASE_PASSWORD"
REDIS_PASSWORD_VARIABLE = "ASSISTANT_REDIS_PASSWORD"
RASA_SCHEMA = "rasa"
# Rasa's lock keys in a shared Redis: "rasa:lock:<conversation>" (must be alphanumeric).
RASA_LOCK_KEY_PREFIX = "rasa"

POSTGRES_SCHEMES = {"postgresql", "postgres"}
REDIS_SCHEMES = {"redis", "rediss"}
POSTGRES_DEFAULT_PORT = 5432
REDIS_DEFAULT_PORT = 6379


class SharedStoreError(ValueError):
    """A scale-out setting is wrong or its server cannot be used; the message says which
    variable, which address and what to do, and holds no password."""


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    # Connection options from the URL's query (sslmode, application_name, ...).
    options: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return _address(self.host, self.port)


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    db: int
    username: str
    password: str = field(repr=False)
    tls: bool

    @property
    def address(self) -> str:
        return _address(self.host, self.port)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***`, for printing and logging. A URL that
    cannot be parsed is shown as its scheme only."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://(unreadable URL)"
    if parts.password is None:
        return url
    user = quote(unquote(parts.username or ""), safe="")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _split(url: str, variable: str, schemes: set[str], example: str) -> Any:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise SharedStoreError(
            f"{variable} is not a valid URL ({redact_url(url)}): {exc}. Expected {example}."
        ) from None
    if parts.scheme not in schemes:
        shown = f"'{parts.scheme}'" if parts.scheme else "none"
        raise SharedStoreError(
            f"{variable} has scheme {shown}; expected {example}, or leave it unset for the "
            "embedded single-machine default."
        )
    if not parts.hostname:
        raise SharedStoreError(f"{variable} names no host ({redact_url(url)}); expected {example}.")
    return parts


def parse_database_url(url: str) -> PostgresTarget | None:
    """None for the embedded default (SQLite in var/)."""
    if not url:
        return None
    example = "postgresql://user:password@host:5432/database"
    parts = _split(url, DATABASE_VARIABLE, POSTGRES_SCHEMES, example)
    database = unquote(parts.path.lstrip("/"))
    user = unquote(parts.username or "")
    if not database or not user:
        raise SharedStoreError(
            f"{DATABASE_VARIABLE} must name a user and a database ({redact_url(url)}); "
            f"expected {example}."
        )
    return PostgresTarget(
        host=parts.hostname,
        port=parts.port or POSTGRES_DEFAULT_PORT,
        user=user,
        password=unquote(parts.password or ""),
        database=database,
        options=dict(parse_qsl(parts.query)),
    )


def parse_redis_url(url: str) -> RedisTarget | None:
    """None for the embedded default (the gateway's in-process hub, no Rasa lock store)."""
    if not url:
        return None
    example = "redis://:password@host:6379/0"
    parts = _split(url, REDIS_VARIABLE, REDIS_SCHEMES, example)
    path = parts.path.lstrip("/")
    try:
        db = int(path) if path else 0
    except ValueError:
        raise SharedStoreError(
            f"{REDIS_VARIABLE}: the database after the address must be a number "
            f"({redact_url(url)}); expected {example}."
        ) from None
    return RedisTarget(
        host=parts.hostname,
        port=parts.port or REDIS_DEFAULT_PORT,
        db=db,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        tls=parts.scheme == "rediss",
    )


def describe(settings: Settings) -> str:
    """Where the stack keeps its state, for the console (passwords redacted)."""
    database = redact_url(settings.database_url)
    redis = redact_url(settings.redis_url)
    trackers = database or f"SQLite ({settings.rasa_tracker_db})"
    gateway = database or f"SQLite ({settings.db_path})"
    return (
        f"Rasa trackers {trackers}; Rasa locks {redis or 'in its process'}; "
        f"gateway store {gateway}, realtime {redis or 'in its process'}"
    )


def secret_env(settings: Settings) -> dict[str, str]:
    """Passwords Rasa reads from its environment (the endpoints file names them)."""
    env: dict[str, str] = {}
    database = parse_database_url(settings.database_url)
    if database is not None and database.password:
        env[DATABASE_PASSWORD_VARIABLE] = database.password
    redis = parse_redis_url(settings.redis_url)
    if redis is not None and redis.password:
        env[REDIS_PASSWORD_VARIABLE] = redis.password
    return env


def rasa_tracker_store(settings: Settings) -> dict[str, Any]:
    """Rasa's SQL tracker store: PostgreSQL (schema `rasa`) when configured, else a file."""
    database = parse_database_url(settings.database_url)
    if database is None:
        return {"type": "SQL", "dialect": "sqlite", "db": str(settings.rasa_tracker_db)}
    query = {k: v for k, v in database.options.items() if k != "options"}
    query["options"] = f"-csearch_path={RASA_SCHEMA}"
    store: dict[str, Any] = {
        "type": "SQL",
        "dialect": "postgresql",
        # Rasa passes `url` as the host (an IPv6 address in brackets, as in a URL).
        "url": f"[{database.host}]" if ":" in database.host else database.host,
        "port": database.port,
        "db": database.database,
        "username": database.user,
        "query": query,
    }
    if database.password:
        store["password"] = "${" + DATABASE_PASSWORD_VARIABLE + "}"
    return store


def rasa_lock_store(settings: Settings) -> dict[str, Any] | None:
    """Rasa's Redis lock store when a Redis is configured (any Rasa server may then take
    any conversation's next message), else None (Rasa's in-memory lock store)."""
    redis = parse_redis_url(settings.redis_url)
    if redis is None:
        return None
    store: dict[str, Any] = {
        "type": "redis",
        "url": redis.host,
        "port": redis.port,
        "db": redis.db,
        "key_prefix": RASA_LOCK_KEY_PREFIX,
        "use_ssl": redis.tls,
    }
    if redis.username:
        store["username"] = redis.username
    if redis.password:
        store["password"] = "${" + REDIS_PASSWORD_VARIABLE + "}"
    return store


# -- the check at start ------------------------------------------------------------------


def check(settings: Settings, timeout: float = 5.0) -> None:
    """Raise SharedStoreError unless every configured server can be used; on PostgreSQL
    also create Rasa's schema. Does nothing for the embedded default."""
    database = parse_database_url(settings.database_url)
    redis = parse_redis_url(settings.redis_url)
    if settings.gateway_replicas < 1:
        raise SharedStoreError(f"{REPLICAS_VARIABLE} must be 1 or more")
    if settings.gateway_replicas > 1 and (database is None or redis is None):
        raise SharedStoreError(
            f"{REPLICAS_VARIABLE}={settings.gateway_replicas} needs {DATABASE_VARIABLE} and "
            f"{REDIS_VARIABLE}: replicas share their conversations through PostgreSQL and Redis."
        )
    if database is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: the launcher, a command line
            asyncio.run(_check_postgres(database, timeout))
        else:  # called from async code: its own loop in a thread
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _check_postgres(database, timeout)).result()
    if redis is not None:
        _check_redis(redis, timeout)


def _reachable(host: str, port: int, timeout: float, variable: str, what: str) -> None:
    """A plain TCP connection first, for a clear 'cannot reach' before any protocol."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError:
        raise SharedStoreError(
            f"{variable}: no answer from {what} at {_address(host, port)} within {timeout:.0f} s"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SharedStoreError(
            f"{variable}: cannot reach {what} at {_address(host, port)} ({reason})"
        ) from None


def _scrub(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


async def _check_postgres(target: PostgresTarget, timeout: float) -> None:
    import asyncpg

    where = f"PostgreSQL at {target.address}"
    _reachable(target.host, target.port, timeout, DATABASE_VARIABLE, "PostgreSQL")
    ssl_mode = target.options.get("sslmode")
    try:
        connection = await asyncpg.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password or None,
            database=target.database,
            timeout=timeout,
            ssl=ssl_mode if ssl_mode else None,
        )
    except asyncpg.InvalidPasswordError:
        raise SharedStoreError(
            f"{DATABASE_VARIABLE}: {where} refused user '{target.user}' (wrong password?)"
        ) from None
    except asyncpg.InvalidAuthorizationSpecificationError as exc:
        raise SharedStoreError(
            f"{DATABASE_VARIABLE}: {where} refused user '{target.user}' "
            f"({_scrub(str(exc), target.password)})"
        ) from None
    except asyncpg.InvalidCatalogNameError:
        raise SharedStoreError(
            f"{DATABASE_VARIABLE}: {where} has no database '{target.database}'; create it "
            f"(CREATE DATABASE {target.database} OWNER {target.user})"
        ) from None
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = _scrub(str(exc) or type(exc).__name__, target.password)
        raise SharedStoreError(f"{DATABASE_VARIABLE}: cannot use {where} ({reason})") from None
    try:
        await create_rasa_schema(connection)
    except asyncpg.PostgresError as exc:
        raise SharedStoreError(
            f"{DATABASE_VARIABLE}: user '{target.user}' may not create schema "
            f"'{RASA_SCHEMA}' (for Rasa's trackers) in database '{target.database}' at "
            f"{target.address} ({_scrub(str(exc), target.password)}); create it for that user"
        ) from None
    finally:
        await connection.close()


async def create_rasa_schema(connection: asyncpg.Connection) -> None:
    """CREATE SCHEMA IF NOT EXISTS is not atomic: two processes starting at once (two
    Rasa replicas) can both miss the schema, and one then fails on a unique violation.
    A session advisory lock lets one create it and the others find it. The lock is taken
    outside the CREATE's transaction on purpose: a transaction that began before the
    winner committed looks the schema up in a stale catalog cache and still collides."""
    key = f"assistant:schema:{RASA_SCHEMA}"
    await connection.execute("SELECT pg_advisory_lock(hashtext($1))", key)
    try:
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {RASA_SCHEMA}")
    finally:
        await connection.execute("SELECT pg_advisory_unlock(hashtext($1))", key)


def _check_redis(target: RedisTarget, timeout: float) -> None:
    import redis

    where = f"Redis at {target.address}"
    _reachable(target.host, target.port, timeout, REDIS_VARIABLE, "Redis")
    client = redis.Redis(
        host=target.host,
        port=target.port,
        db=target.db,
        username=target.username or None,
        password=target.password or None,
        ssl=target.tls,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    try:
        client.ping()
    except redis.AuthenticationError:
        if not target.password:
            raise SharedStoreError(
                f"{REDIS_VARIABLE}: {where} wants a password: put it in the URL "
                "(redis://:password@host:port/db)"
            ) from None
        raise SharedStoreError(
            f"{REDIS_VARIABLE}: {where} refused the password (or user) in the URL"
        ) from None
    except redis.ResponseError as exc:
        message = _scrub(str(exc), target.password)
        if "NOAUTH" in message or "AUTH" in message.upper():
            raise SharedStoreError(
                f"{REDIS_VARIABLE}: {where} wants a password: put it in the URL "
                "(redis://:password@host:port/db)"
            ) from None
        raise SharedStoreError(f"{REDIS_VARIABLE}: {where} answered: {message}") from None
    except redis.RedisError as exc:
        reason = _scrub(str(exc) or type(exc).__name__, target.password)
        raise SharedStoreError(f"{REDIS_VARIABLE}: cannot use {where} ({reason})") from None
    finally:
        client.close()

"""The throwaway PostgreSQL and Redis servers the scale-out tests start themselves."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis

from stack.devservers import PostgresServer, RedisServer


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _no_secret_in_command_lines(secret: str) -> None:
    for process in psutil.process_iter(["cmdline"]):
        assert secret not in " ".join(process.info["cmdline"] or [])


async def _count(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
        await connection.execute("INSERT INTO kept VALUES (1)")
        return int(await connection.fetchval("SELECT count(*) FROM kept"))
    finally:
        await connection.close()


async def test_postgres_keeps_its_rows_across_restart_and_crash() -> None:
    with PostgresServer() as server:
        pid, folder = server.pid, server.dir
        assert pid is not None and _listening(server.port)
        assert await _count(server.url) == 1
        server.restart()
        assert server.pid != pid
        assert await _count(server.url) == 2
        server.crash()
        assert not server.running and not _listening(server.port)
        server.start()
        assert await _count(server.url) == 3
        _no_secret_in_command_lines(server.password)
        if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as `postgres`
            assert psutil.Process(server.pid).username() == "postgres"
        last_pid = server.pid
    assert not folder.exists()
    assert last_pid is not None and not psutil.pid_exists(last_pid)


async def test_postgres_wants_the_password_over_tcp(postgres_server: PostgresServer) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(
            host=postgres_server.host,
            port=postgres_server.port,
            user=postgres_server.user,
            password="wrong",
            database=postgres_server.database,
        )
    with pytest.raises(asyncpg.InvalidPasswordError):  # nor is the superuser open over TCP
        await asyncpg.connect(
            host=postgres_server.host,
            port=postgres_server.port,
            user="postgres",
            password="",
            database="postgres",
        )


async def test_postgres_listens_on_loopback_only(postgres_server: PostgresServer) -> None:
    process = psutil.Process(postgres_server.pid)
    addresses = {c.laddr.ip for c in process.net_connections(kind="inet") if c.status == "LISTEN"}
    assert addresses == {"127.0.0.1"}


def test_redis_restarts_on_its_port_and_wants_its_password(tmp_path: Path) -> None:
    with RedisServer(base_dir=tmp_path / "redis") as server:
        assert server.config_path.stat().st_mode & 0o777 == 0o600
        _no_secret_in_command_lines(server.password)
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
        with (
            redis.Redis(host=server.host, port=server.port) as anonymous,
            pytest.raises(redis.AuthenticationError),
        ):
            anonymous.ping()
        pid = server.pid
        server.restart()
        assert server.pid != pid
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
        server.crash()
        assert not _listening(server.port)
        server.start()
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
        last_pid = server.pid
    assert last_pid is not None and not psutil.pid_exists(last_pid)
    assert not _listening(server.port)
    assert (tmp_path / "redis").exists()  # a folder it was given is left to its owner


def test_session_fixtures_give_urls(postgres_url: str, redis_url: str) -> None:
    assert postgres_url.startswith("postgresql://assistant:")
    assert redis_url.startswith("redis://:")
    with redis.Redis.from_url(redis_url) as client:
        assert client.ping()


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    with RedisServer() as first:
        # same port: the second exits at once, with its log in the message
        second = RedisServer(base_dir=tmp_path / "second", port=first.port)
        with pytest.raises(Exception, match="exited with code"):
            second.start()
        assert not second.running

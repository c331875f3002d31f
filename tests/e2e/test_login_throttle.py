"""Agent sign-in under attack, on the real stack: backoff, lockout and unlock, a gateway
that keeps answering while passwords are checked, and answers that do not tell which
usernames exist.

Each test signs in from its own loopback address (127.0.0.x, all on `lo`), so the
per-address counters it runs up are not those of the other tests (127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest

from stack.launcher import Stack
from stack.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

PASSWORD = "throttle-test-password"
LOCKED_AGENT = "lockme"
FLOOD_AGENTS = ("rush1", "rush2")


def cli(stack: Stack, *args: str) -> str:
    env = {**os.environ, **stack.settings.to_env(), "AGENT_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "agents", *args],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def throttle_agents(live_stack: Stack) -> Stack:
    for username in (LOCKED_AGENT, *FLOOD_AGENTS):
        cli(live_stack, "add", username, "--languages", "en")
    return live_stack


def from_address(address: str) -> aiohttp.ClientSession:
    """A client whose requests come from `address` (any 127.x.y.z works on loopback)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def login(
    session: aiohttp.ClientSession, url: str, username: str, password: str
) -> tuple[int, dict[str, str], bytes]:
    async with session.post(
        f"{url}/api/agent/login", json={"username": username, "password": password}
    ) as r:
        return r.status, dict(r.headers), await r.read()


def error_code(body: bytes) -> str:
    error: dict[str, Any] = json.loads(body)["error"]
    assert error["message"]
    return str(error["code"])


async def test_healthz_answers_while_fifty_logins_are_checked(throttle_agents: Stack) -> None:
    url = throttle_agents.settings.gateway_url
    logins = [(name, PASSWORD) for name in FLOOD_AGENTS for _ in range(5)]
    logins += [(f"ghost{n}", "not-the-password") for n in range(8) for _ in range(5)]
    health: list[tuple[int, float]] = []
    async with from_address("127.0.0.31") as flood, aiohttp.ClientSession() as probe:

        async def poll(done: asyncio.Event) -> None:
            while not done.is_set():
                started = time.perf_counter()
                async with probe.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(30)) as r:
                    health.append((r.status, time.perf_counter() - started))
                await asyncio.sleep(0.02)

        done = asyncio.Event()
        poller = asyncio.create_task(poll(done))
        await asyncio.sleep(0.05)
        answers = await asyncio.gather(*(login(flood, url, u, p) for u, p in logins))
        done.set()
        await poller
    statuses = Counter(status for status, _, _ in answers)
    assert set(statuses) <= {200, 401, 429}, statuses
    # At least as many were really checked as can run and wait at once; the rest were
    # refused quickly (429 busy).
    settings = throttle_agents.settings
    checked = min(len(logins), settings.login_hash_concurrency + settings.login_hash_queue)
    assert statuses[200] + statuses[401] >= checked, statuses
    assert statuses[200] >= 1, statuses
    assert len(health) >= 3 and all(status == 200 for status, _ in health), health


async def test_unknown_user_and_wrong_password_get_the_same_answer(
    throttle_agents: Stack,
) -> None:
    url = throttle_agents.settings.gateway_url
    async with from_address("127.0.0.32") as session:
        unknown = await login(session, url, "nobody-here", "wrong-password-1")
        wrong = await login(session, url, FLOOD_AGENTS[0], "wrong-password-1")
    for _, headers, _ in (unknown, wrong):
        headers.pop("Date", None)
    assert unknown == wrong
    assert unknown[0] == 401


async def test_a_burst_of_wrong_passwords_locks_until_unlocked(throttle_agents: Stack) -> None:
    url = throttle_agents.settings.gateway_url
    async with from_address("127.0.0.33") as session:
        answers = [await login(session, url, LOCKED_AGENT, f"guess-{n}") for n in range(30)]
    statuses = [status for status, _, _ in answers]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    refused = [(headers, body) for status, headers, body in answers if status == 429]
    assert len(refused) >= 20, statuses
    for headers, body in refused:
        assert int(headers["Retry-After"]) >= 1
        assert headers["Content-Type"].startswith("application/json")
        assert error_code(body) in {"too_many_attempts", "locked"}
    assert error_code(refused[-1][1]) == "locked"

    # Locked: the right password is refused too, from any address, across a restart.
    async with from_address("127.0.0.34") as session:
        status, headers, body = await login(session, url, LOCKED_AGENT, PASSWORD)
        assert (status, error_code(body)) == (429, "locked")
        assert int(headers["Retry-After"]) >= 1
    throttle_agents.restart_process("gateway")
    async with from_address("127.0.0.34") as session:
        status, _, body = await login(session, url, LOCKED_AGENT, PASSWORD)
        assert (status, error_code(body)) == (429, "locked")
        assert "sign-in locked since" in cli(throttle_agents, "list")

        assert "unlocked" in cli(throttle_agents, "unlock", LOCKED_AGENT)
        status, _, body = await login(session, url, LOCKED_AGENT, PASSWORD)
        assert status == 200, body

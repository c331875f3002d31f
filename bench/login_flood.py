"""Agent sign-in under a flood: does the gateway stay responsive, and do timings leak?

    .venv/app/bin/python bench/login_flood.py                 # 150 logins, then 150 spread out
    .venv/app/bin/python bench/login_flood.py --logins 300 --hash-slots 2
    .venv/app/bin/python bench/login_flood.py --full          # with Rasa and the action server

It starts its own gateway (the login path needs nothing else; --full starts the whole
stack) on free ports with a fresh database (tests/e2e/isolated.py), with the shipped
sign-in settings unless --hash-slots / --hash-queue say otherwise, and creates the
agents with `python -m handoff agents add`. Then:

1. quiet: /healthz latency with nothing else going on (the reference);
2. timing: known username + wrong password vs unknown username, one at a time,
   interleaved (--samples each), plus the right password: with one scrypt on both
   paths the two should match (a leak was 32 ms vs 60 ms);
3. flood: --logins sign-ins fired at once -- right and wrong passwords for known agents
   and wrong ones for unknown usernames -- from --addresses client addresses, while a
   separate thread polls /healthz every 10 ms; then
4. spread flood: the same number from one address each (127.0.0.x, all on `lo`)
   over twice as many usernames, so the per-address budget never applies and nearly
   every attempt gets as far as the password check.

For each flood: /healthz p50/p95/max while it ran (goal: p95 <= 100 ms), login
latency, and answers by kind (200, 401, 429 too_many_attempts / locked / busy).
Loopback only; every phase has a time limit. The client runs on the same 2 cores as
the gateway, so the numbers include its CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.launcher import Stack
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.isolated import isolated_settings

PASSWORD = "bench-login-password"
KNOWN = [f"agent{n}" for n in range(5)]
TIMING_AGENT = "timing"
PHASE_SECONDS = 120.0
HEALTH_GOAL_P95 = 0.100


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def spread(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: none"
    return (
        f"{label}: n={len(values)} p50 {ms(percentile(values, 50))}  "
        f"p95 {ms(percentile(values, 95))}  max {ms(max(values))}"
    )


# -- /healthz, polled from its own thread (blocking HTTP: the client's event loop is busy) --


class HealthPoller:
    def __init__(self, url: str, interval: float = 0.01) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._interval = interval
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=35)

    def _run(self) -> None:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    self.latencies.append(time.perf_counter() - started)
                else:
                    self.failures += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                connection.close()
                connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
            self._stop.wait(self._interval)
        connection.close()


# -- sign-ins ---------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # 200, 401, 429:<code>, error
    seconds: float


@dataclass
class Sessions:
    """One client session per source address (any 127.x.y.z reaches the gateway)."""

    by_address: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    def get(self, address: str) -> aiohttp.ClientSession:
        if address not in self.by_address:
            self.by_address[address] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0),
                timeout=aiohttp.ClientTimeout(total=PHASE_SECONDS),
            )
        return self.by_address[address]

    async def close(self) -> None:
        for session in self.by_address.values():
            await session.close()


async def login(session: aiohttp.ClientSession, url: str, username: str, password: str) -> Outcome:
    started = time.perf_counter()
    try:
        async with session.post(
            f"{url}/api/agent/login", json={"username": username, "password": password}
        ) as r:
            body = await r.read()
            kind = str(r.status)
            if r.status == 429:
                kind += ":" + str(json.loads(body)["error"]["code"])
    except (aiohttp.ClientError, TimeoutError):
        kind = "error"
    return Outcome(kind, time.perf_counter() - started)


def plan_flood(count: int, addresses: list[str], usernames: int) -> list[tuple[str, str, str]]:
    """(address, username, password): a third of the known agents' attempts have the
    right password; unknown usernames always have a wrong one."""
    unknown = [f"ghost{n}" for n in range(max(1, usernames - len(KNOWN)))]
    names = KNOWN + unknown
    plan = []
    for n in range(count):
        name = names[n % len(names)]
        right = name in KNOWN and n % 3 == 0
        plan.append((addresses[n % len(addresses)], name, PASSWORD if right else f"guess-{n}"))
    return plan


async def flood(
    url: str, plan: list[tuple[str, str, str]], label: str
) -> tuple[list[Outcome], list[float], float]:
    sessions = Sessions()
    try:
        with HealthPoller(url) as health:
            await asyncio.sleep(0.2)  # a few polls before it starts
            polled_before = len(health.latencies)
            started = time.perf_counter()
            outcomes = await asyncio.wait_for(
                asyncio.gather(
                    *(login(sessions.get(address), url, u, p) for address, u, p in plan)
                ),
                PHASE_SECONDS,
            )
            elapsed = time.perf_counter() - started
            during = health.latencies[polled_before:]
            if health.failures:
                print(f"   /healthz failed {health.failures} times during {label}")
    finally:
        await sessions.close()
    return outcomes, during, elapsed


def report_flood(label: str, outcomes: list[Outcome], health: list[float], elapsed: float) -> bool:
    kinds = Counter(o.kind for o in outcomes)
    print(f"\n{label}: {len(outcomes)} sign-ins at once, all answered in {elapsed:.2f} s")
    print("   answers: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
    print("   " + spread("/healthz during the flood", health))
    for kind in sorted(kinds):
        print("   " + spread(f"login {kind:22}", [o.seconds for o in outcomes if o.kind == kind]))
    ok = bool(health) and percentile(health, 95) <= HEALTH_GOAL_P95
    verdict = "OK" if ok else "MISSED"
    print(f"   /healthz p95 goal <= {HEALTH_GOAL_P95 * 1000:.0f} ms: {verdict}")
    return ok


async def timing(url: str, samples: int) -> None:
    """Known user + wrong password vs unknown user, interleaved, one at a time. The
    known user signs in right after every 4 failures (so it never reaches its backoff),
    and the source address changes every 40 failures (nor does the address)."""
    sessions = Sessions()
    known: list[float] = []
    unknown: list[float] = []
    right: list[float] = []
    failures = 0
    try:
        for n in range(samples):
            address = f"127.0.1.{10 + failures // 40}"
            session = sessions.get(address)
            if n % 2:  # alternate which goes first
                wrong = await login(session, url, TIMING_AGENT, f"wrong-{n}")
                ghost = await login(session, url, f"nobody-{n}", f"wrong-{n}")
            else:
                ghost = await login(session, url, f"nobody-{n}", f"wrong-{n}")
                wrong = await login(session, url, TIMING_AGENT, f"wrong-{n}")
            failures += 2
            assert wrong.kind == ghost.kind == "401", (wrong.kind, ghost.kind)
            known.append(wrong.seconds)
            unknown.append(ghost.seconds)
            if n % 4 == 3:
                ok = await login(session, url, TIMING_AGENT, PASSWORD)
                assert ok.kind == "200", ok.kind
                right.append(ok.seconds)
    finally:
        await sessions.close()
    print(f"\ntiming ({samples} each, one at a time):")
    for label, values in (
        ("known user, wrong password", known),
        ("unknown user", unknown),
        ("known user, right password", right),
    ):
        print(
            f"   {label:28} mean {ms(statistics.mean(values))}  "
            f"median {ms(statistics.median(values))}  p95 {ms(percentile(values, 95))}"
        )
    gap = statistics.median(unknown) - statistics.median(known)
    print(f"   median difference unknown - known: {gap * 1000:+.1f} ms")


async def quiet_health(url: str) -> None:
    with HealthPoller(url) as health:
        await asyncio.sleep(2.0)
    print("\n" + spread("/healthz, quiet", health.latencies))


async def bench(url: str, args: argparse.Namespace) -> bool:
    await quiet_health(url)
    await asyncio.wait_for(timing(url, args.samples), PHASE_SECONDS)
    addresses = [f"127.0.2.{n + 1}" for n in range(args.addresses)]
    plan = plan_flood(args.logins, addresses, args.usernames)
    outcomes, health, elapsed = await flood(url, plan, "flood")
    ok = report_flood(
        f"flood ({args.addresses} addresses, {args.usernames} usernames)", outcomes, health, elapsed
    )
    # Every attempt from its own address, over twice the usernames: what a botnet does.
    many = [f"127.1.{n // 250}.{n % 250 + 1}" for n in range(args.logins)]
    plan = plan_flood(args.logins, many, 2 * args.usernames)
    plan = [(a, f"spread-{u}" if u.startswith("ghost") else u, p) for a, u, p in plan]
    outcomes, health, elapsed = await flood(url, plan, "spread flood")
    ok &= report_flood(
        f"spread flood ({args.logins} addresses, {2 * args.usernames} usernames)",
        outcomes,
        health,
        elapsed,
    )
    return ok


def add_agents(settings: Settings) -> None:
    env = {**os.environ, **settings.to_env(), "AGENT_PASSWORD": PASSWORD}
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "handoff", "agents", "add", name, "--languages", "en"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for name in [*KNOWN, TIMING_AGENT]
    ]
    for process in running:
        if process.wait(timeout=120) != 0:
            raise SystemExit("could not create the bench's agents")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--logins", type=int, default=150, help="sign-ins per flood")
    parser.add_argument("--addresses", type=int, default=3, help="client addresses (flood 1)")
    parser.add_argument("--usernames", type=int, default=15, help="usernames (5 are real)")
    parser.add_argument("--samples", type=int, default=40, help="timing samples per kind")
    parser.add_argument("--hash-slots", type=int, help="login_hash_concurrency for the stack")
    parser.add_argument("--hash-queue", type=int, help="login_hash_queue for the stack")
    parser.add_argument("--full", action="store_true", help="start Rasa and the actions too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="login-flood-") as state:
        settings = isolated_settings(Path(state), PROJECT_ROOT / "var" / "log" / "bench-login")
        if args.hash_slots is not None:
            settings = settings.replace(login_hash_concurrency=args.hash_slots)
        if args.hash_queue is not None:
            settings = settings.replace(login_hash_queue=args.hash_queue)
        print(
            f"sign-in settings: hash slots {settings.login_hash_concurrency}, queue "
            f"{settings.login_hash_queue}, free failures {settings.login_free_failures} per "
            f"username / {settings.login_address_free_failures} per address, lockout at "
            f"{settings.login_lockout_failures}",
            flush=True,
        )
        with Stack(settings) as stack:
            print("starting the gateway for the benchmark ...", file=sys.stderr, flush=True)
            stack.start(None if args.full else ["gateway"])
            add_agents(stack.settings)
            ok = asyncio.run(bench(stack.settings.gateway_url, args))
    print("\nOK" if ok else "\nMISSED the /healthz goal")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Soak: many chats with people held open for minutes at a steady rate (issue 15).

    .venv/app/bin/python bench/soak.py                      # 1000 chats, 10 minutes
    .venv/app/bin/python bench/soak.py --chats 200 --minutes 3

Like bench/handoff.py (whose clients and stack set-up it uses) it starts its own stack
on free ports with a fresh database, creates agents (--agents, default chats / 20, at
least 20; capacity enough for every chat), opens --chats customer conversations with
their websockets, asks for a person in each and lets the agents accept them all. Then,
for --minutes, every chat's customer sends one message over the websocket and its agent
one over HTTP every --period seconds (10), each chat at its own offset, without waiting
for the deliveries: a steady load, not a burst.

Per minute it prints the relay latency p50/p95/p99 of the messages sent in that minute
(both directions, and the worse direction's p95), the gateway's RSS, the CPU of the
gateway and of this client, and the client's garbage-collection pauses (off during the
steady phase unless --client-gc: the growing ledger made them grow, and a pause here
delays every frame behind it, which is not the gateway's latency); at the end the
RSS at the start and the end of the steady phase and its growth, and lost, duplicated
and misrouted messages (on the websockets and in the stored transcripts). Exits 1 if
anything was lost or duplicated. Loopback only; every phase has a time limit.
Issue 15's goal: 1000 chats for 10 minutes, relay p95 <= 50 ms, RSS growth <= 10 %, 0 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.handoff import (
    A2C,
    AGENT_SAYS,
    C2A,
    CUSTOMER_SAYS,
    Agent,
    Customer,
    Ledger,
    Sent,
    assign_all,
    bench_settings,
    check_delivery,
    create_agents,
    escalate_all,
    percentile,
    resolve_all,
    say,
    sign_in_all,
    stored_counts,
)
from stack.launcher import Stack, StackError

LATE_SECONDS = 15.0  # after the steady phase: late arrivals and duplicates still count


@dataclass
class Options:
    chats: int
    agents: int
    minutes: float
    period: float
    escalation_concurrency: int
    client_gc: bool


class GcPauses:
    """Time this client spends in the cyclic garbage collector: a pause here delays the
    reading of every frame behind it, which would show up as relay latency."""

    def __init__(self) -> None:
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.total += pause
        self.longest = max(self.longest, pause)

    def take(self) -> str:
        """The pauses since the last call, as text; starts counting again."""
        text = f"client GC {self.total * 1000:6.0f} ms (longest {self.longest * 1000:5.1f})"
        self.total = self.longest = 0.0
        return text


class CpuMeter:
    """A process's CPU use between two calls, in percent of one core."""

    def __init__(self, pid: int, name: str) -> None:
        self._name = name
        self._process = psutil.Process(pid)
        self._last = (time.perf_counter(), self._cpu_seconds())

    def _cpu_seconds(self) -> float:
        try:
            times = self._process.cpu_times()
        except psutil.Error:
            return float("nan")
        return float(times.user + times.system)

    def take(self) -> str:
        now, cpu = time.perf_counter(), self._cpu_seconds()
        (then, before), self._last = self._last, (now, cpu)
        return f"{self._name} CPU {(cpu - before) / max(now - then, 1e-9) * 100:5.1f} %"


def rss_mb(pid: int) -> float:
    try:
        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except psutil.Error:
        return float("nan")


def minute_line(minute: int, sent: list[Sent], rss: float, meters: str) -> str:
    def ms(direction: str) -> list[float]:
        return [
            (s.received_at[0] - s.sent_at) * 1000
            for s in sent
            if s.direction == direction and s.received_at
        ]

    both = ms(C2A) + ms(A2C)
    worst = max(percentile(ms(C2A), 95), percentile(ms(A2C), 95))
    waiting = sum(1 for s in sent if not s.received_at)
    return (
        f"minute {minute:>3}  sent={len(sent):<6} p50={percentile(both, 50):7.1f} ms  "
        f"p95={percentile(both, 95):7.1f} ms  p99={percentile(both, 99):7.1f} ms  "
        f"worse-direction p95={worst:7.1f} ms  not yet arrived={waiting:<4} "
        f"gateway RSS={rss:7.1f} MB  {meters}"
    )


async def steady(
    pairs: list[tuple[Customer, Agent]],
    ledger: Ledger,
    options: Options,
    gateway_rss: Callable[[], float],
    cpus: list[CpuMeter],
) -> tuple[float, float]:
    """Every chat: one message each way per period, for the duration. RSS at start, end."""
    started = time.perf_counter()
    ends = started + options.minutes * 60
    tasks: set[asyncio.Task[Sent]] = set()
    pauses = GcPauses()

    async def chat(customer: Customer, agent: Agent) -> None:
        language, n = customer.language, 0
        await asyncio.sleep(random.uniform(0, options.period))  # spread the chats out
        while time.perf_counter() < ends:
            n += 1
            for send in (
                customer.say(f"{CUSTOMER_SAYS[language]} {n}"),
                agent.say(customer.conversation_id, f"{AGENT_SAYS[language]} {n}"),
            ):
                task = asyncio.create_task(send)
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.sleep(options.period)

    async def report() -> None:
        """Minute k: the messages sent in it, told 5 s after it ends (late ones arrive)."""
        for k in range(1, math.ceil(options.minutes) + 1):
            since, until = started + (k - 1) * 60, min(started + k * 60, ends)
            await asyncio.sleep(max(0.0, until + 5 - time.perf_counter()))
            sent = [s for s in ledger.sent.values() if since <= s.sent_at < until]
            meters = "  ".join([*(cpu.take() for cpu in cpus), pauses.take()])
            print(minute_line(k, sent, gateway_rss(), meters), flush=True)

    rss_start = gateway_rss()
    say(f"steady phase: {len(pairs)} chats, 1 message each way per {options.period:g} s ...")
    await asyncio.gather(report(), *(chat(c, a) for c, a in pairs))
    if tasks:
        await asyncio.gather(*tasks)
    await asyncio.sleep(LATE_SECONDS)
    return rss_start, gateway_rss()


async def soak(base_url: str, usernames: list[str], options: Options, pid: int) -> int:
    ledger = Ledger()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:
        agents = [Agent(u, session, base_url, ledger) for u in usernames]
        customers = [Customer(i, session, base_url, ledger) for i in range(options.chats)]
        try:
            await sign_in_all(agents)
            queued, outcomes, took = await escalate_all(
                customers, options.escalation_concurrency, 600.0
            )
            say(f"{len(queued)}/{len(customers)} customers queued in {took:.1f} s  {outcomes}")
            assigned, counts, took = await assign_all(agents, queued, 600.0)
            say(f"{len(assigned)}/{len(queued)} chats accepted in {took:.1f} s  {counts}")
            by_name = {a.username: a for a in agents}
            pairs = [
                (c, by_name[assigned[c.conversation_id]])
                for c in queued
                if c.conversation_id in assigned
            ]
            cpus = [CpuMeter(pid, "gateway"), CpuMeter(os.getpid(), "client")]
            if not options.client_gc:
                # The ledger grows by ~200 objects a second, so the client's full
                # collections grow too (85 -> 300 ms pauses over 6 minutes, measured):
                # time this client spends collecting is not the gateway's relay latency.
                gc.freeze()
                gc.disable()
            try:
                rss_start, rss_end = await steady(pairs, ledger, options, lambda: rss_mb(pid), cpus)
            finally:
                gc.enable()
            stored = await stored_counts([c for c, _ in pairs], 20)
            delivery = check_delivery(ledger, stored)
            all_ms = [
                (s.received_at[0] - s.sent_at) * 1000 for s in ledger.sent.values() if s.received_at
            ]
            print(
                f"whole steady phase: {delivery.sent} messages  p50={percentile(all_ms, 50):.1f} ms"
                f"  p95={percentile(all_ms, 95):.1f} ms  p99={percentile(all_ms, 99):.1f} ms"
            )
            growth = (rss_end - rss_start) / rss_start * 100 if rss_start else float("nan")
            print(
                f"gateway RSS: {rss_start:.1f} MB at start, {rss_end:.1f} MB at end "
                f"({growth:+.1f} %)"
            )
            print(
                f"chats held {len(pairs)} of {options.chats}; lost={delivery.lost} "
                f"duplicated={delivery.duplicated} misrouted={delivery.misrouted} "
                f"send_errors={delivery.send_errors} stored missing={delivery.stored_missing} "
                f"stored duplicated={delivery.stored_duplicated}; sockets the server closed: "
                f"{ledger.closed_sockets}"
            )
            ok = delivery.ok and len(pairs) == options.chats
            print("OK" if ok else "FAILED", flush=True)
            with contextlib.suppress(Exception):
                say(f"resolved: {await resolve_all(pairs, 10)}")
            return 0 if ok else 1
        finally:
            await asyncio.gather(*(c.close() for c in customers), *(a.close() for a in agents))


def parse_options() -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=0, help="default: chats / 20, >= 20")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--period", type=float, default=10.0, help="seconds between a chat's messages, each way"
    )
    parser.add_argument("--escalation-concurrency", type=int, default=20)
    parser.add_argument(
        "--client-gc",
        action="store_true",
        help="keep this client's garbage collector on during the steady phase (its pauses\n"
        "then show up as relay latency)",
    )
    args = parser.parse_args()
    if args.chats < 1 or args.agents < 0 or not 0 < args.minutes <= 120 or args.period <= 0:
        parser.error("--chats >= 1, 0 < --minutes <= 120, --period > 0")
    return Options(
        chats=args.chats,
        agents=args.agents or max(20, args.chats // 20),
        minutes=args.minutes,
        period=args.period,
        escalation_concurrency=args.escalation_concurrency,
        client_gc=args.client_gc,
    )


def main() -> int:
    options = parse_options()
    capacity = -(-options.chats // options.agents)
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as state_dir,
        Stack(bench_settings(Path(state_dir))) as stack,
    ):
        say(f"creating {options.agents} agents, starting a stack on {stack.settings.gateway_url}")
        try:
            usernames = create_agents(stack.settings, options.agents, capacity)
            stack.start()
            pid = stack.program_pid("gateway")
        except (StackError, OSError) as exc:
            say(f"error: {exc}")
            return 1
        print(
            f"soak: {options.chats} chats, {options.agents} agents x {capacity}, "
            f"{options.minutes:g} min, one message each way per chat every {options.period:g} s",
            flush=True,
        )
        return asyncio.run(soak(stack.settings.gateway_url, usernames, options, pid))


if __name__ == "__main__":
    sys.exit(main())

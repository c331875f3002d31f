"""Does a flood slow everyone else down? One quiet customer's reply time, alone and while
customers flood, and the ratio (issue 13's rule: at most 2x).

    .venv/app/bin/python bench/flood.py                       # starts its own stack
    .venv/app/bin/python bench/flood.py --flooders 20 --seconds 60 --flood-rate 10
    .venv/app/bin/python bench/flood.py --no-limits           # the same without message limits

It starts its own stack on free ports with its own files (tests/e2e/isolated.py: the
per-address limits are off, since every simulated customer is on 127.0.0.1; the
per-conversation message limit is as shipped, or off with --no-limits). Then, for
--seconds each:

1. alone: the quiet customer chats like a person: it sends a message, waits for the
   reply, "types" for 1.5-2.5 s, sends the next (about 25 a minute, within the limit);
2. flood: the same, while --flooders customers (in a process of their own, so their
   client work does not delay the quiet one's event loop) each send a message, wait for
   the answer and send the next at once, up to --flood-rate messages a second each
   (0 = no pause at all), ignoring 429 and Retry-After, from the first second of the
   phase on.

Prints p50/p95 of the quiet customer's reply time in both phases, the ratios, and what
the flooders got (answered, refused with 429); exits 1 if a ratio is above --max-ratio.
All traffic stays on 127.0.0.1 and every phase has a time limit; the clients run on the
same 2 cores as the stack, so the flood's numbers include their CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency import MESSAGES, percentile
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.isolated import isolated_settings

QUIET_THINK_SECONDS = (1.5, 2.5)
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


async def open_conversation(session: aiohttp.ClientSession, base_url: str) -> tuple[str, str]:
    async with session.post(f"{base_url}/api/conversations", json={}) as r:
        data = await r.json()
        if r.status != 201:
            raise RuntimeError(f"create conversation: HTTP {r.status} {data}")
    return f"{base_url}/api/conversations/{data['conversation_id']}/messages", data["token"]


async def quiet_customer(
    base_url: str, seconds: float, seed: int
) -> tuple[list[float], Counter[str]]:
    """Reply times (ms) of one customer chatting at a person's pace for `seconds`."""
    rng = random.Random(seed)
    latencies: list[float] = []
    problems: Counter[str] = Counter()
    async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
        url, token = await open_conversation(session, base_url)
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + seconds
        turn = seed
        while time.monotonic() < deadline:
            text = MESSAGES[turn % len(MESSAGES)]
            turn += 1
            started = time.perf_counter()
            try:
                async with session.post(url, json={"text": text}, headers=headers) as r:
                    body = await r.json()
                    replied = r.status == 200 and body["replies"]
                    if replied:
                        latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        problems[f"HTTP {r.status}" if r.status != 200 else "no reply"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                problems[type(exc).__name__] += 1
            await asyncio.sleep(rng.uniform(*QUIET_THINK_SECONDS))
    return latencies, problems


# -- the flooders' process -------------------------------------------------------------


async def flood(base_url: str, flooders: int, seconds: float, rate: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=flooders * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=REQUEST_TIMEOUT) as session:
        conversations = [await open_conversation(session, base_url) for _ in range(flooders)]
        print("ready", flush=True)
        deadline = time.monotonic() + seconds

        async def flooder(index: int, url: str, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            turn = index
            while time.monotonic() < deadline:
                started = time.monotonic()
                text = MESSAGES[turn % len(MESSAGES)]
                turn += 1
                try:
                    async with session.post(url, json={"text": text}, headers=headers) as r:
                        await r.read()
                        statuses[str(r.status)] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    statuses[type(exc).__name__] += 1
                if rate > 0:
                    await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))

        await asyncio.gather(*(flooder(i, *c) for i, c in enumerate(conversations)))
    return dict(statuses)


def flood_main(base_url: str, flooders: int, seconds: float, rate: float) -> int:
    print(json.dumps(asyncio.run(flood(base_url, flooders, seconds, rate))), flush=True)
    return 0


# -- the measurement -------------------------------------------------------------------


def start_flood(base_url: str, flooders: int, seconds: float, rate: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--flood-only",
            base_url,
            "--flooders",
            str(flooders),
            "--seconds",
            str(seconds),
            "--flood-rate",
            str(rate),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("the flooders could not start")
    return process


def line(label: str, latencies: list[float], problems: Counter[str]) -> str:
    extra = ", ".join(f"{k}: {v}" for k, v in problems.items()) or "none"
    return (
        f"{label:<8} n={len(latencies):<4} p50={percentile(latencies, 50):7.1f} ms  "
        f"p95={percentile(latencies, 95):7.1f} ms  max={max(latencies, default=0):7.1f} ms  "
        f"problems: {extra}"
    )


async def measure(base_url: str, args: argparse.Namespace) -> bool:
    await quiet_customer(base_url, 10, seed=99)  # warm-up: model caches, first requests
    alone, alone_problems = await quiet_customer(base_url, args.seconds, seed=1)
    print(line("alone", alone, alone_problems), flush=True)

    flooders = await asyncio.to_thread(
        start_flood, base_url, args.flooders, args.seconds + 5, args.flood_rate
    )
    try:
        flooded, flooded_problems = await quiet_customer(base_url, args.seconds, seed=1)
        out, _ = await asyncio.to_thread(flooders.communicate, timeout=args.seconds + 120)
    finally:
        if flooders.poll() is None:
            flooders.kill()
            flooders.wait()
    print(line("flooded", flooded, flooded_problems), flush=True)
    got = json.loads(out.strip().splitlines()[-1])
    total = sum(got.values()) or 1
    print(
        f"flooders: {args.flooders} x up to "
        f"{args.flood_rate or 'unlimited'} msg/s for {args.seconds + 5:.0f} s: "
        f"{got.get('200', 0)} answered, {got.get('429', 0)} refused with 429 "
        f"({got.get('429', 0) / total:.0%}), other: "
        f"{ {k: v for k, v in got.items() if k not in ('200', '429')} or 'none' }",
        flush=True,
    )
    if not alone or not flooded:
        print("FAILED: the quiet customer got no replies")
        return False
    p50 = percentile(flooded, 50) / percentile(alone, 50)
    p95 = percentile(flooded, 95) / percentile(alone, 95)
    ok = max(p50, p95) <= args.max_ratio and not flooded_problems
    print(
        f"ratio flooded/alone: p50 {p50:.2f}x  p95 {p95:.2f}x  "
        f"(rule: at most {args.max_ratio:g}x) -> {'OK' if ok else 'FAILED'}",
        flush=True,
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--flooders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument(
        "--flood-rate",
        type=float,
        default=10.0,
        help="most messages a second each flooder sends (0: no pause at all)",
    )
    parser.add_argument("--max-ratio", type=float, default=2.0)
    parser.add_argument(
        "--no-limits", action="store_true", help="turn the per-conversation message limit off"
    )
    parser.add_argument("--flood-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood_only:
        return flood_main(args.flood_only, args.flooders, args.seconds, args.flood_rate)

    with tempfile.TemporaryDirectory(prefix="bench-flood-") as state:
        settings = isolated_settings(Path(state), PROJECT_ROOT / "var" / "log" / "bench-flood")
        if args.no_limits:
            settings = settings.replace(messages_per_conversation_per_minute=0)
        print(
            f"starting a stack (messages per conversation per minute: "
            f"{settings.messages_per_conversation_per_minute or 'unlimited'}, burst "
            f"{settings.message_burst}) ...",
            file=sys.stderr,
            flush=True,
        )
        with Stack(settings) as stack:
            stack.start()
            ok = asyncio.run(measure(stack.settings.gateway_url, args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

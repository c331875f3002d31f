"""Suggestions while typing under load (issue 14: server p95 <= 30 ms at 20 concurrent
typists).

    .venv/app/bin/python bench/suggest.py                    # 20 typists, 30 s
    .venv/app/bin/python bench/suggest.py --typists 50 --seconds 60

Starts its own stack on free ports (as bench/handoff.py does; the per-address limits are
off, every typist being 127.0.0.1) and lets --typists customers type ko/ja/en questions
into GET /api/suggestions, one character every 80-160 ms, each keystroke from the 2nd on
asking (no debounce: the widget's 250 ms pause only makes it lighter). Prints requests
per second and the latency p50/p95/p99 as the client sees it (loopback: the gateway's
time plus the connection's), and any status other than 200. Bounded by --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.handoff import bench_settings, percentile, say
from stack.launcher import Stack, StackError

QUESTIONS = {
    "ko": ["배송비 얼마예요", "환불은 언제 되나요", "주문 취소하고 싶어요", "기프트카드 잔액 확인"],
    "ja": [
        "送料はいくらですか",
        "返金はいつですか",
        "注文をキャンセルしたい",
        "ギフトカードの残高",
    ],
    "en": [
        "how much is shipping",
        "when do i get my refund",
        "cancel my order",
        "gift card balance",
    ],
}


async def typist(
    session: aiohttp.ClientSession, url: str, ends: float, seed: int
) -> tuple[list[float], dict[int, int]]:
    rng = random.Random(seed)
    took: list[float] = []
    statuses: dict[int, int] = {}
    while time.perf_counter() < ends:
        language = rng.choice(list(QUESTIONS))
        question = rng.choice(QUESTIONS[language])
        for n in range(2, len(question) + 1):
            if time.perf_counter() >= ends:
                break
            await asyncio.sleep(rng.uniform(0.08, 0.16))
            started = time.perf_counter()
            params = {"q": question[:n], "language": language}
            async with session.get(f"{url}/api/suggestions", params=params) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            took.append((time.perf_counter() - started) * 1000)
    return took, statuses


async def run(url: str, typists: int, seconds: float) -> int:
    ends = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        # warm-up: the first request reads the KB
        async with session.get(f"{url}/api/suggestions", params={"q": "배송", "language": "ko"}):
            pass
        started = time.perf_counter()
        results = await asyncio.gather(*(typist(session, url, ends, i) for i in range(typists)))
        elapsed = time.perf_counter() - started
    took = [ms for latencies, _ in results for ms in latencies]
    statuses: dict[int, int] = {}
    for _, counts in results:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    print(
        f"{typists} typists, {elapsed:.0f} s: {len(took)} requests ({len(took) / elapsed:.0f}/s)"
        f"  p50={percentile(took, 50):.1f} ms  p95={percentile(took, 95):.1f} ms"
        f"  p99={percentile(took, 99):.1f} ms  max={max(took):.1f} ms  statuses={statuses}",
        flush=True,
    )
    return 0 if set(statuses) == {200} else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--typists", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    if not 1 <= args.typists <= 500 or not 0 < args.seconds <= 600:
        parser.error("1 <= --typists <= 500, 0 < --seconds <= 600")
    with (
        tempfile.TemporaryDirectory(prefix="bench-suggest-") as state_dir,
        Stack(bench_settings(Path(state_dir))) as stack,
    ):
        say(f"starting a stack on {stack.settings.gateway_url}")
        try:
            stack.start()
        except (StackError, OSError) as exc:
            say(f"error: {exc}")
            return 1
        return asyncio.run(run(stack.settings.gateway_url, args.typists, args.seconds))


if __name__ == "__main__":
    sys.exit(main())

"""Message -> reply latency through the gateway, and through Rasa's gateway channel alone.

    .venv/app/bin/python bench/latency.py                     # starts its own stack
    .venv/app/bin/python bench/latency.py --concurrency 1 20 --messages 15
    ASSISTANT_RASA_AUTH_TOKEN=... .venv/app/bin/python bench/latency.py \
        --gateway http://127.0.0.1:8080 --rasa http://127.0.0.1:5005   # a stack already running
        # (start that one with ASSISTANT_CONVERSATIONS_PER_ADDRESS_PER_MINUTE=0 and
        # ASSISTANT_MESSAGES_PER_CONVERSATION_PER_MINUTE=0: every customer here is on
        # 127.0.0.1; the stack this starts has them off)

Each simulated customer opens a conversation and sends its messages one after
another: it waits for each reply, then "types" for --think seconds (uniformly
between half and 1.5 times that) as a person does. `--think 0` measures
saturation instead: every customer fires its next message at once, so latency
is then mostly queueing behind the 2 cores. The same message mix --
greetings, FAQ questions and out-of-scope questions in ko, ja and en -- is sent
to Rasa's input channel directly as the reference (bot/gateway_channel.py, with
the stack's token), so the difference is what the gateway adds (persistence,
the outbox, language tracking, relaying).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.launcher import Stack
from stack.settings import Settings
from tests.e2e.isolated import LOOPBACK_CROWD

# Customers cycle through this list from different starting points. Two
# out-of-scope questions with no answered one between them hand the chat to a
# person (by design), so an answered FAQ always sits between them here.
MESSAGES = [
    "안녕하세요",
    "배송 얼마나 걸려요?",
    "환불 언제 돼요",
    "내일 날씨 어때요",
    "こんにちは",
    "配送に何日かかりますか",
    "パスワード忘れた",
    "hi there",
    "how long does shipping take",
    "i forgot my password",
    "what's the weather tomorrow",
    "ありがとう",
]

Send = Callable[[aiohttp.ClientSession, str, str], Awaitable[None]]


async def gateway_sender(base_url: str) -> Callable[[aiohttp.ClientSession], Awaitable[Send]]:
    async def open_conversation(session: aiohttp.ClientSession) -> Send:
        async with session.post(f"{base_url}/api/conversations", json={}) as r:
            data = await r.json()
        url = f"{base_url}/api/conversations/{data['conversation_id']}/messages"
        headers = {"Authorization": f"Bearer {data['token']}"}

        async def send(session: aiohttp.ClientSession, _sender: str, text: str) -> None:
            async with session.post(url, json={"text": text}, headers=headers) as r:
                body = await r.json()
                if r.status != 200 or not body["replies"] or body["replies"][0]["role"] != "bot":
                    raise RuntimeError(f"bad reply {r.status}: {body}")

        return send

    return open_conversation


async def rasa_sender(
    base_url: str, token: str
) -> Callable[[aiohttp.ClientSession], Awaitable[Send]]:
    async def open_conversation(session: aiohttp.ClientSession) -> Send:
        async def send(session: aiohttp.ClientSession, sender: str, text: str) -> None:
            async with session.post(
                f"{base_url}/webhooks/gateway/webhook",
                json={"sender": sender, "message": text},
                headers={"Authorization": f"Bearer {token}"},
            ) as r:
                body = await r.json()
                if r.status != 200 or not body:
                    raise RuntimeError(f"bad reply {r.status}: {body}")

        return send

    return open_conversation


async def run_load(
    opener: Callable[[aiohttp.ClientSession], Awaitable[Send]],
    concurrency: int,
    messages_per_customer: int,
    think_seconds: float,
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def customer(index: int) -> None:
            nonlocal errors
            rng = random.Random(index)
            send = await opener(session)
            sender = f"bench-{uuid.uuid4()}"
            for turn in range(messages_per_customer):
                if think_seconds > 0:
                    await asyncio.sleep(think_seconds * rng.uniform(0.5, 1.5))
                text = MESSAGES[(index + turn) % len(MESSAGES)]
                started = time.perf_counter()
                try:
                    await send(session, sender, text)
                except (RuntimeError, aiohttp.ClientError):
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(
    label: str, concurrency: int, think: float, latencies: list[float], elapsed: float, errors: int
) -> str:
    return (
        f"{label:<9} c={concurrency:<3} think={think:<3} n={len(latencies):<5} "
        f"p50={percentile(latencies, 50):7.1f} ms  p95={percentile(latencies, 95):7.1f} ms  "
        f"p99={percentile(latencies, 99):7.1f} ms  mean={statistics.fmean(latencies or [0]):7.1f} ms  "
        f"{len(latencies) / elapsed:6.1f} msg/s  errors={errors}"
    )


async def bench(
    gateway: str, rasa: str, token: str, levels: list[int], messages: int, thinks: list[float]
) -> None:
    # Warm up both paths (model caches, first-request costs) before measuring.
    await run_load(await gateway_sender(gateway), 2, len(MESSAGES), 0.0)
    for think in thinks:
        for concurrency in levels:
            for label, opener in (
                ("rasa-only", await rasa_sender(rasa, token)),
                ("gateway", await gateway_sender(gateway)),
            ):
                latencies, elapsed, errors = await run_load(opener, concurrency, messages, think)
                print(report(label, concurrency, think, latencies, elapsed, errors), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--messages", type=int, default=12, help="messages per customer")
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[2.0, 0.0],
        help="seconds a customer pauses between messages; 0 = saturation (default: 2 0)",
    )
    parser.add_argument("--gateway", help="URL of a running gateway (default: start a stack)")
    parser.add_argument("--rasa", help="URL of that stack's Rasa server")
    args = parser.parse_args()

    if args.gateway and args.rasa:
        token = Settings.from_env().rasa_auth_token
        if not token:
            parser.error("set ASSISTANT_RASA_AUTH_TOKEN to the running stack's Rasa token")
        asyncio.run(
            bench(args.gateway, args.rasa, token, args.concurrency, args.messages, args.think)
        )
        return 0
    settings = Settings.from_env().replace(
        gateway_port=18180,
        rasa_port=15105,
        action_port=15155,
        db_path=Path("/tmp") / f"bench-{uuid.uuid4().hex}.sqlite3",
        rasa_tracker_db=Path("/tmp") / f"bench-trackers-{uuid.uuid4().hex}.sqlite3",
        # every customer is on 127.0.0.1, and --think 0 sends without pausing
        **LOOPBACK_CROWD,
        messages_per_conversation_per_minute=0,
    )
    with Stack(settings) as stack:
        print("starting a stack for the benchmark ...", file=sys.stderr, flush=True)
        stack.start()
        asyncio.run(
            bench(
                stack.settings.gateway_url,
                stack.settings.rasa_url,
                stack.settings.rasa_auth_token,
                args.concurrency,
                args.messages,
                args.think,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

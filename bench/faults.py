"""Fault bench: `kill -9` each process of `make run` in turn under a steady load.

    .venv/app/bin/python bench/faults.py                       # 50 customers, every fault
    .venv/app/bin/python bench/faults.py --customers 20 --faults rasa,launcher

Starts the product with `make run` (its own ports and files under a temporary folder),
has --customers customers chat through the gateway's HTTP API (one message every
--interval seconds each, on average; a message the gateway did not acknowledge is sent
again with the same client_id, as the widget does), then for each fault in turn sends
SIGKILL to: the action server, Rasa, the gateway, the launcher itself (then `make run`
again). Per fault it prints:

  recovery   seconds from the kill until a message sent after it is answered at once
  outage     messages first sent between the kill and that moment
  lost       acknowledged messages never answered (goal 0)
  dup        messages stored twice, or handled by Rasa twice (goal 0)
  silent     customers who wrote during the outage and got neither answer nor notice (goal 0)
  left       processes of ours alive 5 s after the launcher was killed (goal 0)

Exit status 0 only when every goal holds (recovery <= 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.faults import FAULTS, CustomerLoad, FaultResult, ProductRun, inject, verify
from tests.e2e.isolated import isolated_settings

RECOVERY_GOAL_SECONDS = 60.0


def row(result: FaultResult, lost: int | str, duplicated: int | str) -> str:
    recovery = f"{result.recovery_seconds:.1f}" if result.recovery_seconds is not None else "never"
    left = str(result.leftover_processes) if result.fault == "launcher" else "-"
    return (
        f"{result.fault:<9} {recovery:>9} {result.sent_during_outage:>7} {lost!s:>5} "
        f"{duplicated!s:>4} {result.silent_customers:>7} {left:>5}  {'; '.join(result.notes)}"
    )


async def bench(
    settings: Settings, customers: int, interval: float, faults: list[str], steady: float
) -> bool:
    run = ProductRun(settings, settings.log_dir / "make-run.log")
    print(f"make run: ready in {await asyncio.to_thread(run.start):.0f} s", flush=True)
    ok = True
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            load = CustomerLoad(settings.gateway_url, customers, interval)
            await load.start(session)
            print(
                f"{customers} customers, one message each every ~{interval:g} s; "
                f"{steady:g} s of steady load before each fault\n"
                f"{'fault':<9} {'recovery':>9} {'outage':>7} {'lost':>5} {'dup':>4} "
                f"{'silent':>7} {'left':>5}",
                flush=True,
            )
            for fault in faults:
                await asyncio.sleep(steady)
                since = time.time()
                result = await inject(fault, run, load)
                await asyncio.sleep(steady)
                lost, duplicated = await verify(session, load, settings, since=since)
                print(row(result, lost, duplicated), flush=True)
                ok &= (
                    result.recovery_seconds is not None
                    and result.recovery_seconds <= RECOVERY_GOAL_SECONDS
                    and lost == 0
                    and duplicated == 0
                    and result.silent_customers == 0
                    and result.leftover_processes == 0
                )
            await load.stop()
            lost, duplicated = await verify(session, load, settings)
            total = len([s for s in load.sent if s.accepted])
            print(
                f"all faults: {total} messages acknowledged, {lost} lost, {duplicated} duplicated; "
                f"client-side errors while parts were down: {dict(load.errors)}",
                flush=True,
            )
            ok &= lost == 0 and duplicated == 0
    finally:
        await asyncio.to_thread(run.stop)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between a customer's messages"
    )
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help=f"comma-separated, of {','.join(FAULTS)}"
    )
    parser.add_argument(
        "--steady", type=float, default=10.0, help="seconds of load before/after each fault"
    )
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    if unknown := set(faults) - set(FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="faults-") as state:
        settings = isolated_settings(Path(state), PROJECT_ROOT / "var" / "log" / "bench-faults")
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        ok = asyncio.run(bench(settings, args.customers, args.interval, faults, args.steady))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

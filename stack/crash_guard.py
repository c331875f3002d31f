"""supervisord event listener: counts each program's crashes and gives up on one that
keeps crashing.

supervisord restarts a program that dies after it had started, every time, at once
(only a program that dies while *starting* gets its back-off and, after `startretries`,
FATAL). A program that starts fine and then crashes every minute would be restarted
forever, each time taking its conversations' turns with it. This listener logs each
crash with its count in the window, and after `--limit` crashes within `--window`
seconds it stops the program and says why; `python -m stack ctl start NAME` (or
`supervisorctl start NAME`) tries again.

It speaks supervisord's event-listener protocol on stdin/stdout, so everything it has
to say goes to stderr (supervisord keeps that as its log).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from supervisor import childutils

GAVE_UP_MARK = "giving up on"


class CrashWindow:
    """Crash times per program within a sliding window."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._crashes: dict[str, deque[float]] = defaultdict(deque)

    def record(self, name: str, now: float) -> int:
        """Count a crash of `name` at `now`; returns the crashes within the window."""
        crashes = self._crashes[name]
        crashes.append(now)
        while crashes and now - crashes[0] > self.window_seconds:
            crashes.popleft()
        return len(crashes)

    def exhausted(self, count: int) -> bool:
        return count >= self.limit

    def forget(self, name: str) -> None:
        self._crashes.pop(name, None)


def handle_exit(
    fields: dict[str, str], window: CrashWindow, rpc: Any, now: float, say: Callable[[str], None]
) -> None:
    """React to one PROCESS_STATE_EXITED event, logging through `say`."""
    if fields.get("expected") == "1":
        return  # an exit code listed as expected, not a crash
    name = fields.get("processname", "?")
    count = window.record(name, now)
    minutes = window.window_seconds / 60
    if not window.exhausted(count):
        say(
            f"{name} crashed (pid {fields.get('pid')}; its exit status is in supervisord's "
            f"log): crash {count} of "
            f"{window.limit} allowed within {minutes:g} min; supervisord restarts it"
        )
        return
    # Said before the stop, not after: the launcher reads this line from the log as soon
    # as it sees the program STOPPED, and would otherwise race the write.
    say(
        f"{GAVE_UP_MARK} {name}: it crashed {count} times within {minutes:g} min. "
        f"It stays stopped; read its log, fix the cause, then run "
        f"`python -m stack ctl start {name}`."
    )
    rpc.supervisor.stopProcess(name, False)
    window.forget(name)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.crash_guard")
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--window", type=float, default=600.0)
    args = parser.parse_args(argv)
    window = CrashWindow(args.limit, args.window)
    rpc = childutils.getRPCInterface(os.environ)
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers.get("eventname") == "PROCESS_STATE_EXITED":
            try:
                handle_exit(childutils.get_headers(payload), window, rpc, time.monotonic(), _say)
            except Exception as exc:  # never stall supervisord's event queue
                _say(f"could not handle a crash event: {exc!r}")
        childutils.listener.ok(sys.stdout)


def _say(line: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

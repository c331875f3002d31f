"""Settings for a product of its own beside any other on the machine: free ports, its own
database, Rasa trackers, supervisor files, and copies of the KB and its index (so tests
may edit the KB while the real one stays untouched). Used by the e2e tests and benches."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stack.settings import PROJECT_ROOT, Settings

ALWAYS_OPEN = Path(__file__).parent / "coverage_always_open.yml"
# A customer from elsewhere, as a reverse proxy on this machine forwards them: the
# per-address limits count them (under this address when the proxy is in trusted_proxies,
# else under the proxy's); a request without it comes from this machine, and is not counted.
STRANGER = {"X-Forwarded-For": "203.0.113.7"}
# Clients on the gateway's machine are not counted per address (handoff/web/guard.py),
# but the multi-host tests' customers come from one network namespace's address: the limits
# per client address would count them all as one (per-conversation limits stay as shipped).
LOOPBACK_CROWD: dict[str, object] = {
    "conversations_per_address_per_minute": 0,
    "searches_per_address_per_minute": 0,
    "websockets_per_address": 0,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def consecutive_free_ports(count: int) -> int:
    """The first of `count` free ports in a row (gateway replicas take consecutive ports)."""
    for _ in range(100):
        base = free_port()
        if all(_free(base + offset) for offset in range(1, count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def isolated_settings(state: Path, log_dir: Path) -> Settings:
    """Everything the product writes goes under `state` (logs to `log_dir`); agents are
    always reachable (coverage_always_open.yml); the Rasa token and the action server's
    secret are fixed, so a restarted product keeps them."""
    defaults = Settings.from_env()
    shutil.copytree(defaults.kb_dir, state / "kb")
    shutil.copytree(defaults.kb_index_dir, state / "kb-index")
    return defaults.replace(
        gateway_port=free_port(),
        rasa_port=free_port(),
        action_port=free_port(),
        rasa_auth_token=secrets.token_urlsafe(24),
        action_auth_token=secrets.token_urlsafe(24),
        # As a host site would share it: signed customer identities can be verified.
        identity_secret=secrets.token_urlsafe(24),
        db_path=state / "handoff.sqlite3",
        rasa_tracker_db=state / "trackers.sqlite3",
        run_dir=state / "run",
        kb_dir=state / "kb",
        kb_index_dir=state / "kb-index",
        unanswered_path=state / "unanswered.jsonl",
        coverage_path=ALWAYS_OPEN,
        **LOOPBACK_CROWD,
        log_dir=log_dir,
    )


AGENT_OPTIONS = ("--languages", "ko,ja,en", "--capacity", "4")


def add_agent(settings: Settings, username: str, password: str, *options: str) -> None:
    """Create (or update) the agent `username` in the product `settings` describe, the
    documented way: `python -m handoff agents add USERNAME OPTIONS…` (e.g. "--role",
    "supervisor"). The password goes through AGENT_PASSWORD in the environment, never in
    argv (where `ps` shows it to everyone on the machine)."""
    subprocess.run(
        [sys.executable, "-m", "handoff", "agents", "add", username, *options],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings.to_env(), "AGENT_PASSWORD": password},
        check=True,
        capture_output=True,
    )


@contextmanager
def gateway_beside(
    stack_settings: Settings,
    state: Path,
    name: str,
    agents: Iterable[tuple[str, str]] = (),
    **overrides: Any,
) -> Iterator[str]:
    """A second gateway process beside a running stack: its own port and SQLite database
    under `state` (so its own queue, whatever other tests left waiting), the stack's Rasa
    and action server, `overrides` applied to its settings; logs to `<name>.log` in the
    stack's log folder. `agents` are (username, password) pairs created first with every
    language and room for four chats. Yields the gateway's URL once /readyz answers."""
    settings = stack_settings.replace(
        gateway_port=free_port(),
        db_path=state / "handoff.sqlite3",
        unanswered_path=state / "unanswered.jsonl",
        **overrides,
    )
    env = {**os.environ, **settings.to_env()}
    for username, password in agents:
        add_agent(settings, username, password, *AGENT_OPTIONS)
    log = (stack_settings.log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "handoff"],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the gateway exited: see {name}.log"
            try:
                with urllib.request.urlopen(f"{settings.gateway_url}/readyz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"the gateway never became ready: {name}.log"
                time.sleep(0.2)
        yield settings.gateway_url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

"""supervisord under `make run`'s launcher: a crashed program is restarted and takes its
worker processes with it; a program that keeps crashing is given up on, and said so; a
port held by someone else is named with its process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from stack.launcher import Stack, StackError
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.isolated import free_port

pytestmark = pytest.mark.e2e


def test_a_crashed_action_server_is_restarted_without_leaving_its_workers(
    live_stack: Stack,
) -> None:
    main = psutil.Process(live_stack.program_pid("actions"))
    workers = main.children(recursive=True)  # Sanic's worker, multiprocessing helpers
    assert workers, "rasa-sdk runs its server in a worker process"

    seconds = live_stack.crash("actions")

    assert seconds < 60
    time.sleep(1)
    assert not main.is_running()
    assert [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE] == []
    restarted = psutil.Process(live_stack.program_pid("actions"))
    assert restarted.pid != main.pid


def _ctl(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack", "ctl", *args],
        env={**os.environ, **stack.settings.to_env()},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ctl_pid_is_the_number_this_machine_signals(live_stack: Stack) -> None:
    """supervisord counts inside the stack's PID namespace; an operator's `kill` of that
    number would reach some other process of this machine."""
    done = _ctl(live_stack, "pid", "gateway", "actions")
    assert done.returncode == 0, done.stderr
    gateway, actions = (int(line) for line in done.stdout.split())
    assert gateway == live_stack.program_pid("gateway")
    assert "handoff" in " ".join(psutil.Process(gateway).cmdline())
    assert actions == live_stack.program_pid("actions")
    unknown = _ctl(live_stack, "pid", "nonesuch")
    assert unknown.returncode == 1
    assert "nonesuch: no such program" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def _wait_running(stack: Stack, name: str, not_pid: int, said: list[str]) -> int:
    """Wait until `name` is RUNNING (not only STARTING: a crash before that counts as a
    failed start instead) under a new pid; collects what the launcher would print."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        said += stack.poll()
        info = stack.supervisor.process(name)
        if info["statename"] == "RUNNING" and int(info["pid"]) != not_pid:
            return int(info["pid"])
        time.sleep(0.2)
    raise AssertionError(f"{name} did not come back")


def test_a_program_that_keeps_crashing_is_given_up_on(live_stack: Stack) -> None:
    limit = live_stack.settings.crash_limit
    said: list[str] = []
    pid = 0
    try:
        for _ in range(limit):
            pid = _wait_running(live_stack, "kb-watch", not_pid=pid, said=said)
            os.kill(live_stack.program_pid("kb-watch"), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while live_stack.supervisor.process("kb-watch")["statename"] != "STOPPED":
            assert time.monotonic() < deadline, "the crash guard did not stop kb-watch"
            said += live_stack.poll()
            time.sleep(0.2)
        said += live_stack.poll()
        printed = "\n".join(said)
        assert "kb-watch stopped unexpectedly; supervisord is restarting it" in printed
        assert f"giving up on kb-watch: it crashed {limit} times" in printed
        assert "python -m stack ctl start kb-watch" in printed
        guard_log = live_stack.files.crash_guard_log.read_text()
        assert f"crash {limit - 1} of {limit}" in guard_log
    finally:
        live_stack.start_process("kb-watch")
    assert live_stack.supervisor.process("kb-watch")["statename"] in {"STARTING", "RUNNING"}


def test_a_port_taken_by_another_process_is_named() -> None:
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        stack = Stack(Settings.from_env().replace(gateway_port=port))
        with pytest.raises(StackError) as error:
            stack.start()
    message = str(error.value)
    assert f"port {port} for gateway is taken by pid {os.getpid()}" in message
    assert "ASSISTANT_GATEWAY_PORT" in message

"""The crash guard counts crashes in a sliding window and gives up at the limit."""

from __future__ import annotations

from typing import Any

from stack.crash_guard import GAVE_UP_MARK, CrashWindow, handle_exit


class FakeSupervisor:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.stopped: list[str] = []
        self.log_when_stopped: list[str] = []

    def stopProcess(self, name: str, wait: bool) -> bool:
        self.stopped.append(name)
        self.log_when_stopped = list(self.log)
        return True


class FakeRpc:
    def __init__(self, log: list[str]) -> None:
        self.supervisor = FakeSupervisor(log)


def crash(name: str = "actions") -> dict[str, str]:
    return {
        "processname": name,
        "groupname": name,
        "from_state": "RUNNING",
        "expected": "0",
        "pid": "7",
    }


def test_crashes_older_than_the_window_are_forgotten() -> None:
    window = CrashWindow(limit=3, window_seconds=60)
    assert [window.record("rasa", t) for t in (0, 10, 20)] == [1, 2, 3]
    assert window.record("rasa", 75) == 2  # the crashes at 0 and 10 are out of the window
    assert window.record("actions", 75) == 1  # programs are counted apart


def test_the_guard_logs_each_crash_and_gives_up_at_the_limit() -> None:
    log: list[str] = []
    window, rpc = CrashWindow(limit=3, window_seconds=600), FakeRpc(log)
    for now in (0.0, 1.0):
        handle_exit(crash(), window, rpc, now, log.append)
    assert len(log) == 2
    assert all("crash" in line and "supervisord restarts it" in line for line in log)
    assert "crash 2 of 3" in log[1]
    assert rpc.supervisor.stopped == []
    handle_exit(crash(), window, rpc, 2.0, log.append)
    assert log[2].startswith(f"{GAVE_UP_MARK} actions")
    assert "python -m stack ctl start actions" in log[2]
    assert rpc.supervisor.stopped == ["actions"]


def test_the_reason_is_logged_before_the_program_is_stopped() -> None:
    """The launcher reads the reason from the log once it sees the program STOPPED."""
    log: list[str] = []
    window, rpc = CrashWindow(limit=1, window_seconds=600), FakeRpc(log)
    handle_exit(crash("kb-watch"), window, rpc, 0.0, log.append)
    assert rpc.supervisor.stopped == ["kb-watch"]
    assert any(
        line.startswith(f"{GAVE_UP_MARK} kb-watch") for line in rpc.supervisor.log_when_stopped
    )


def test_an_expected_exit_is_not_a_crash() -> None:
    log: list[str] = []
    window, rpc = CrashWindow(limit=1, window_seconds=600), FakeRpc(log)
    fields: dict[str, Any] = {**crash(), "expected": "1"}
    handle_exit(fields, window, rpc, 0.0, log.append)
    assert log == []
    assert rpc.supervisor.stopped == []

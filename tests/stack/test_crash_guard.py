"""The crash guard counts crashes in a sliding window and gives up at the limit."""

from __future__ import annotations

from typing import Any

from stack.crash_guard import GAVE_UP_MARK, CrashWindow, handle_exit


class FakeSupervisor:
    def __init__(self) -> None:
        self.stopped: list[str] = []

    def stopProcess(self, name: str, wait: bool) -> bool:
        self.stopped.append(name)
        return True


class FakeRpc:
    def __init__(self) -> None:
        self.supervisor = FakeSupervisor()


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
    window, rpc = CrashWindow(limit=3, window_seconds=600), FakeRpc()
    said = [handle_exit(crash(), window, rpc, now) for now in (0.0, 1.0)]
    assert all(line and "crash" in line and "supervisord restarts it" in line for line in said)
    assert "crash 2 of 3" in str(said[1])
    assert rpc.supervisor.stopped == []
    last = handle_exit(crash(), window, rpc, 2.0)
    assert last is not None and last.startswith(f"{GAVE_UP_MARK} actions")
    assert "python -m stack ctl start actions" in last
    assert rpc.supervisor.stopped == ["actions"]


def test_an_expected_exit_is_not_a_crash() -> None:
    window, rpc = CrashWindow(limit=1, window_seconds=600), FakeRpc()
    fields: dict[str, Any] = {**crash(), "expected": "1"}
    assert handle_exit(fields, window, rpc, 0.0) is None
    assert rpc.supervisor.stopped == []

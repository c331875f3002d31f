"""The action server's stop: Sanic's worker manager breaking off as the stop signal
reaches its state process first is one log line and an exit status, not a traceback."""

from __future__ import annotations

import logging

import pytest

from stack.action_server import run_until_stopped


def _raises(exc: BaseException) -> None:
    raise exc


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), EOFError()])
def test_a_manager_that_lost_its_state_process_ends_with_one_line(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="stack.action_server"):
        status = run_until_stopped(lambda: _raises(error))
    assert status == 1
    (record,) = caplog.records
    assert type(error).__name__ in record.getMessage()
    assert record.exc_info is None  # no traceback in the log


def test_a_clean_stop_is_status_zero() -> None:
    assert run_until_stopped(lambda: None) == 0


def test_any_other_failure_is_not_hidden() -> None:
    with pytest.raises(RuntimeError, match="port in use"):
        run_until_stopped(lambda: _raises(RuntimeError("port in use")))

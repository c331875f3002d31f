"""Rasa's log while the action server is down: one plain line, not a traceback."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest

from common.jsonlog import dict_config
from stack.launcher import rasa_logging_config
from stack.settings import Settings
from tests.logging_config import logging_configured

FILTER = "bot.log_filters.ActionServerDown"


def refused_action() -> Exception:
    """What Rasa's processor holds when the action server is down: its own exception,
    caused by aiohttp's connector error, caused by the refused connection."""
    try:
        try:
            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except ConnectionRefusedError as refused:
                raise OSError("Cannot connect to host 127.0.0.1:5055") from refused
        except OSError:
            raise RuntimeError("Failed to execute custom action 'action_answer_faq'")  # noqa: B904
    except RuntimeError as error:
        return error


def rasa_logging() -> contextlib.AbstractContextManager[None]:
    """Logging configured as Rasa's process is (with the launcher's filter)."""
    return logging_configured(dict_config("json", "rasa", filters=[FILTER]))


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_the_launcher_gives_rasa_the_filter() -> None:
    config = rasa_logging_config(Settings())
    assert FILTER in config["handlers"]["stack"]["filters"]


def test_a_refused_connection_is_one_line_that_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = refused_action()
    with rasa_logging():
        logging.getLogger("rasa.core.processor").error(
            "Encountered an exception while running action 'action_answer_faq'.Bot will "
            "continue, but the actions events are lost.",
            exc_info=(type(error), error, error.__traceback__),
        )
    [line] = log_lines(capsys)
    assert line["level"] == "ERROR"
    assert "exc" not in line
    assert "'action_answer_faq'" in line["message"]
    assert "connection refused" in line["message"]
    assert "supervisord restarts" in line["message"]


@pytest.mark.parametrize("logger", ["rasa.core.processor", "bot.gateway_channel"])
def test_other_exceptions_keep_their_traceback(
    capsys: pytest.CaptureFixture[str], logger: str
) -> None:
    """Any other exception in Rasa, and a refused connection in our own code, stay as
    they were: the filter only speaks for Rasa's action calls."""
    with rasa_logging():
        try:
            raise KeyError("slot")
        except KeyError:
            logging.getLogger("rasa.core.processor").exception("running action 'a' failed")
        error = refused_action()
        logging.getLogger(logger).error(
            "while running action 'b'", exc_info=(type(error), error, error.__traceback__)
        )
    lines = log_lines(capsys)
    assert "KeyError" in lines[0]["exc"]
    if logger.startswith("rasa."):
        assert "exc" not in lines[1]
    else:
        assert "ConnectionRefusedError" in lines[1]["exc"]

"""Structured logs: one JSON object per line, with the conversation a record is about."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest

from common.jsonlog import (
    ConversationFilter,
    JsonFormatter,
    TextFormatter,
    conversation_context,
    current_conversation_id,
    dict_config,
    make_formatter,
    make_handler,
)
from tests.logging_config import logging_configured


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing JSON lines into a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger("tests.jsonlog")
    handler = make_handler("json", "gateway", stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_the_fields(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    with conversation_context("conv-1"):
        logger.info("bot answered %s item %d", "message", 7)
    [entry] = lines(stream)
    assert set(entry) == {"ts", "level", "logger", "process", "pid", "message", "conversation_id"}
    assert entry["level"] == "INFO" and entry["logger"] == "tests.jsonlog"
    assert (entry["process"], entry["message"]) == ("gateway", "bot answered message item 7")
    assert entry["conversation_id"] == "conv-1"
    # ISO-8601 in UTC, to the millisecond
    assert len(entry["ts"]) == len("2026-12-05T03:41:50.123Z") and entry["ts"].endswith("Z")


def test_no_conversation_no_field(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning("queue resync failed")
    [entry] = lines(stream)
    assert "conversation_id" not in entry and "exc" not in entry


def test_an_exception_stays_on_its_line(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        logger.exception("redelivery pass failed")
    assert len(stream.getvalue().splitlines()) == 1
    [entry] = lines(stream)
    assert entry["level"] == "ERROR" and entry["message"] == "redelivery pass failed"
    assert entry["exc"].startswith("Traceback") and "ValueError: line one\nline two" in entry["exc"]


@pytest.mark.parametrize(
    "message",
    ["multi\nline", 'quote " and \\ backslash', "안녕하세요 こんにちは", "lone \ud800 surrogate"],
)
def test_any_message_is_one_parseable_line(
    captured: tuple[logging.Logger, io.StringIO], message: str
) -> None:
    logger, stream = captured
    logger.info("%s", message)
    assert len(stream.getvalue().splitlines()) == 1
    assert lines(stream)[0]["message"] == message


def test_the_context_is_restored_and_nests() -> None:
    assert current_conversation_id() is None
    with conversation_context("outer"):
        with conversation_context("inner"):
            assert current_conversation_id() == "inner"
        assert current_conversation_id() == "outer"
        with conversation_context(None):
            assert current_conversation_id() is None
    assert current_conversation_id() is None


async def test_tasks_started_in_a_conversation_carry_it(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """As in Rasa and the gateway: work spawned for a conversation logs under its id,
    and two conversations handled at once never mix."""
    logger, stream = captured

    async def handle(conversation_id: str) -> None:
        with conversation_context(conversation_id):
            await asyncio.sleep(0)
            await asyncio.create_task(spawned())

    async def spawned() -> None:
        await asyncio.sleep(0)
        logger.info("processor step")

    await asyncio.gather(handle("a"), handle("b"), handle("c"))
    assert sorted(e["conversation_id"] for e in lines(stream)) == ["a", "b", "c"]


def test_the_filter_stamps_the_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    with conversation_context("conv-9"):
        assert ConversationFilter().filter(record)
    assert record.conversation_id == "conv-9"
    # Formatted later (another thread, a queue): the stamped id, not the current one.
    assert json.loads(JsonFormatter("rasa").format(record))["conversation_id"] == "conv-9"


def test_an_explicit_id_wins() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.conversation_id = "given"
    with conversation_context("current"):
        ConversationFilter().filter(record)
    assert record.conversation_id == "given"


def test_text_format_shows_the_conversation_when_known() -> None:
    formatter = TextFormatter()
    record = logging.LogRecord(
        "handoff.customer.api", logging.INFO, __file__, 1, "started", None, None
    )
    assert formatter.format(record).endswith(" INFO handoff.customer.api: started")
    with conversation_context("conv-2"):
        assert formatter.format(record).endswith(" INFO handoff.customer.api [conv-2]: started")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="json, text"):
        make_formatter("xml", "gateway")
    with pytest.raises(ValueError, match="json, text"):
        dict_config("yaml", "rasa")


def test_dict_config_is_what_rasa_loads(capsys: pytest.CaptureFixture[str]) -> None:
    """The launcher's --logging-config-file for Rasa: applied with dictConfig, as Rasa
    does, every record of the process becomes a JSON line on stderr."""
    with logging_configured(dict_config("json", "rasa")):
        with conversation_context("conv-3"):
            logging.getLogger("rasa.core.processor").info("predicted next action")
        logging.getLogger("sanic.root").info("starting worker")
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["logger"], e.get("conversation_id")) for e in entries] == [
        ("rasa.core.processor", "conv-3"),
        ("sanic.root", None),
    ]
    assert {e["process"] for e in entries} == {"rasa"}


def test_korean_and_japanese_stay_readable(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("배송 조회 / 配送状況")
    assert "배송 조회 / 配送状況" in stream.getvalue()  # not \\uXXXX escapes

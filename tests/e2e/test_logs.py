"""Structured logs on the real stack: a customer asks one question, and that conversation
can be followed through the gateway's, Rasa's and the action server's logs by its id,
every line of each a JSON object (ASSISTANT_LOG_FORMAT=json, the default)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from stack.launcher import Stack
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e

PROGRAMS = ("gateway", "rasa", "actions")


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a program's log as JSON; a line that is not is a failure."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"{path.name}:{number} is not a JSON line: {line[:300]!r}")
        assert isinstance(entry, dict), f"{path.name}:{number}"
        entries.append(entry)
    return entries


async def conversation_lines(stack: Stack, conversation_id: str) -> dict[str, list[dict[str, Any]]]:
    """Each program's lines about the conversation, once each program has written one
    (the action server logs after it answered; allow it a moment)."""
    deadline = time.monotonic() + 15
    while True:
        found = {
            name: [
                e
                for e in json_lines(stack.log_path(name))
                if e.get("conversation_id") == conversation_id
            ]
            for name in PROGRAMS
        }
        if all(found.values()) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.25)


async def test_one_conversation_is_followed_through_the_three_logs(live_stack: Stack) -> None:
    if live_stack.settings.log_format != "json":
        pytest.skip("ASSISTANT_LOG_FORMAT is not json")
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start("en")
        reply = await customer.say("how long does delivery take")
    assert reply["replies"], "the bot answered"

    found = await conversation_lines(live_stack, customer.conversation_id)
    assert all(found.values()), {name: len(lines) for name, lines in found.items()}
    for name, lines in found.items():
        for entry in lines:
            assert entry["process"] == name
            assert {"ts", "level", "logger", "message"} <= set(entry)
            assert entry["ts"].endswith("Z")
    said = {name: " | ".join(e["message"] for e in lines) for name, lines in found.items()}
    # The gateway: the conversation began, the bot answered the message.
    assert "conversation started" in said["gateway"]
    assert "bot answered message item" in said["gateway"], said["gateway"]
    # Rasa: our channel handled the message the gateway sent (its id names the turn).
    assert f"handled message {customer.conversation_id}:1" in said["rasa"], said["rasa"]
    # The action server: the retrieval decision behind the answer.
    assert any(e["logger"].startswith("kb_index") for e in found["actions"]), said["actions"]


async def test_start_up_lines_carry_no_conversation(live_stack: Stack) -> None:
    """What a process logs about no conversation (its start) has no id: the context
    does not leak from one conversation into unrelated lines."""
    expected = {"rasa": "Loading model", "actions": "action server on"}
    for name, start_up in expected.items():
        lines = [e for e in json_lines(live_stack.log_path(name)) if start_up in e["message"]]
        assert lines, f"{name}: no {start_up!r} line"
        assert all("conversation_id" not in e for e in lines), name


def test_the_action_server_starts_without_an_error_line(live_stack: Stack) -> None:
    """A healthy start says nothing at ERROR (an operator's alert on ERROR lines would fire
    at every deploy): up to its first worker being ready, the action server's log has none."""
    start: list[dict[str, Any]] = []
    for entry in json_lines(live_stack.log_path("actions")):
        start.append(entry)
        if entry["message"].startswith("Worker ready"):
            break
    else:
        pytest.fail("the action server's log has no 'Worker ready' line")
    errors = [e["message"] for e in start if e["level"] in ("ERROR", "CRITICAL")]
    assert errors == []

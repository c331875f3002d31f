"""Reading Rasa's tracker: was a message handled, and what did the bot say to it?"""

from __future__ import annotations

from typing import Any

import pytest

from handoff.conversation.rasa_client import effective_events, find_turn

USER_1 = {"event": "user", "text": "hi", "message_id": "c:1"}
BOT_1 = {"event": "bot", "text": "hello!", "data": {"buttons": None, "custom": None}}
USER_2 = {"event": "user", "text": "refund?", "message_id": "c:3"}
BOT_2 = {
    "event": "bot",
    "text": "Refunds take 3 days.",
    "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]},
}
LINKS = {
    "event": "bot",
    "text": None,
    "data": {"custom": {"links": [{"title": "Policy", "url": "u"}]}},
}
LISTEN = {"event": "action", "name": "action_listen"}


@pytest.mark.parametrize(
    ("events", "kept"),
    [
        ([USER_1, BOT_1], [USER_1, BOT_1]),
        ([USER_1, BOT_1, USER_2, LISTEN, {"event": "rewind"}], [USER_1, BOT_1]),
        ([USER_1, {"event": "rewind"}, USER_1, BOT_1], [USER_1, BOT_1]),
        ([USER_1, BOT_1, {"event": "restart"}, USER_2], [USER_2]),
    ],
)
def test_rewinds_and_restarts_are_applied(events: list[Any], kept: list[Any]) -> None:
    assert effective_events(events) == kept


def test_a_message_never_seen_is_none() -> None:
    assert find_turn([USER_1, BOT_1], "c:3") is None


def test_a_handled_message_gives_the_replies_rasa_recorded() -> None:
    [reply] = find_turn([USER_1, BOT_1, USER_2, BOT_2, LINKS, LISTEN], "c:3") or []
    assert reply.text == "Refunds take 3 days."
    assert reply.buttons == [{"title": "Yes", "payload": "/affirm"}]
    assert reply.links == [{"title": "Policy", "url": "u"}]


def test_a_message_that_produced_nothing_is_an_empty_list() -> None:
    assert find_turn([USER_1, BOT_1, USER_2, LISTEN], "c:3") == []


def test_a_rewound_message_counts_as_never_seen() -> None:
    assert find_turn([USER_1, BOT_1, USER_2, LISTEN, {"event": "rewind"}], "c:3") is None


def test_only_the_turns_own_replies_are_taken() -> None:
    [reply] = find_turn([USER_1, BOT_1, USER_2, BOT_2], "c:1") or []
    assert reply.text == "hello!"

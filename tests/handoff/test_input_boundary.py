"""The input boundary and the OpenAPI document agree: what the document calls a valid
message body the gateway takes, and what it calls invalid the gateway refuses with a
clear InvalidRequest or InvalidMessage (a 400), never another exception. Hypothesis
writes the bodies, in ko/ja/en text, whitespace of every kind, lone surrogates and
wrong types. (Every other model against the document: test_request_models.py.)"""

from __future__ import annotations

import json
import re
import string
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.agent.api import check_agent_text
from handoff.conversation.models import VISIBLE_TEXT_PATTERN
from handoff.conversation.service import InvalidMessage, check_message
from handoff.web.http import BadJSON, parse_json
from handoff.web.openapi import openapi_document
from handoff.web.request_models import AgentMessage, CustomerMessage, InvalidRequest, parse

LIMIT = 2000  # the document's maxLength; Settings.max_message_chars' default


def _body_schema(path: str) -> dict[str, Any]:
    """The body's schema as the document gives it, with the components its $ref needs."""
    document = openapi_document()
    operation = document["paths"][path]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


CUSTOMER_MESSAGE = jsonschema_rs.validator_for(
    _body_schema("/api/conversations/{conversation_id}/messages")
)
AGENT_MESSAGE = jsonschema_rs.validator_for(
    _body_schema("/api/agent/conversations/{conversation_id}/messages")
)

WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
texts = st.one_of(
    st.text(alphabet=st.sampled_from(WHITESPACE), max_size=5),
    st.text(max_size=40),
    st.sampled_from(["배송 언제 와요?", "返品したい", "where is my order", " \u3000ㅠㅠ "]),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
    st.integers(min_value=0, max_value=3).map(lambda n: "a" * (LIMIT - 1 + n)),
)
values = st.one_of(st.none(), texts, st.integers(), st.booleans(), st.lists(st.text(), max_size=2))


def test_the_visible_text_pattern_is_what_strip_keeps() -> None:
    visible = re.compile(VISIBLE_TEXT_PATTERN)
    differ = [
        hex(c)
        for c in range(0x110000)
        if (visible.fullmatch(chr(c)) is not None) != bool(chr(c).strip())
    ]
    assert differ == []
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": VISIBLE_TEXT_PATTERN})
    assert not validator.is_valid(WHITESPACE)
    assert validator.is_valid(WHITESPACE + "x")


def as_sent(body: dict[str, object]) -> dict[str, Any]:
    """The body as the gateway reads it off the wire (BadJSON: a 400 before any rule).
    Two surrogates that form a pair arrive as the one character they encode."""
    parsed: dict[str, Any] = parse_json(json.dumps(body))
    return parsed


@settings(max_examples=400, deadline=None)
@given(text=values, payload=values)
def test_a_customer_message_is_taken_exactly_when_the_document_says_it_is_valid(
    text: object, payload: object
) -> None:
    body = {
        name: value for name, value in (("text", text), ("payload", payload)) if value is not None
    }
    try:
        received = as_sent(body)
        message = parse(CustomerMessage, received)  # the handlers' boundary
        stored, sent = check_message(message.text, message.payload, LIMIT)  # the service's
    except BadJSON:
        # Lone surrogates are not characters: refused while parsing, whatever the field.
        assert re.search("[\ud800-\udfff]", json.dumps(body, ensure_ascii=False))
        return
    except (InvalidRequest, InvalidMessage) as refused:
        assert str(refused)  # says what is wrong
        assert not CUSTOMER_MESSAGE.is_valid(received), received
        return
    assert CUSTOMER_MESSAGE.is_valid(received), received
    assert stored and stored == stored.strip()
    assert sent is None or (sent and sent == sent.strip())


@settings(max_examples=300, deadline=None)
@given(text=values)
def test_an_agent_message_is_taken_exactly_when_the_document_says_it_is_valid(
    text: object,
) -> None:
    body = {"text": text}
    try:
        received = as_sent(body)
        stored = check_agent_text(parse(AgentMessage, received).text, LIMIT)
    except BadJSON:
        assert re.search("[\ud800-\udfff]", json.dumps(body, ensure_ascii=False))
        return
    except (InvalidRequest, InvalidMessage) as refused:
        assert str(refused)
        assert not AGENT_MESSAGE.is_valid(received), received
        return
    assert AGENT_MESSAGE.is_valid(received), received
    assert stored and stored == stored.strip()


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("x" * (LIMIT + 1), "/greet"),  # an over-long label is refused, not cut silently
        (42, "/greet"),  # a label of the wrong type
        ("hello", ""),
        ("hello", string.whitespace),
    ],
)
def test_a_payload_does_not_excuse_a_bad_text(text: object, payload: object) -> None:
    with pytest.raises(InvalidMessage):
        check_message(text, payload, LIMIT)
    with pytest.raises(InvalidRequest):
        parse(CustomerMessage, {"text": text, "payload": payload})


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ({"text": "주문\u0000취소"}, {"text": "주문\ufffd취소"}),
        ({"text": "\u0000"}, {"text": "\ufffd"}),  # still one visible character
        ({"a": [{"b\u0000": ["x\u0000y", 3, None]}]}, {"a": [{"b\ufffd": ["x\ufffdy", 3, None]}]}),
        # a backslash followed by "u0000" is text, not a NUL: left alone
        ({"text": "C:\\u0000"}, {"text": "C:\\u0000"}),
    ],
)
def test_a_nul_is_read_as_the_replacement_character(
    sent: dict[str, Any], read: dict[str, Any]
) -> None:
    """PostgreSQL's text cannot hold a NUL: the gateway reads it as U+FFFD in every string
    of a body or frame, key or value, so both backends store (and give back) the same."""
    assert parse_json(json.dumps(sent)) == read
    assert parse_json(json.dumps(sent, ensure_ascii=False)) == read


def test_a_nul_deep_in_a_nested_body_is_replaced_or_refused_never_a_crash() -> None:
    deep = "[" * 50_000 + '"\\u0000"' + "]" * 50_000
    try:
        value = parse_json(deep)
    except BadJSON as refused:
        assert "nested too deeply" in str(refused)
        return
    while isinstance(value, list):
        value = value[0]
    assert value == "\ufffd"

"""data/gateway_texts.yml: every text in ko/ja/en with the placeholders the gateway fills."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.customer.texts import LANGUAGES, TEXT_PLACEHOLDERS, TextsError, load_texts, problems
from stack.settings import Settings

SHIPPED = Settings().gateway_texts_path


def shipped() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return raw


def test_the_shipped_texts_are_complete() -> None:
    assert problems(shipped()) == []
    texts = load_texts(SHIPPED)
    for key, placeholders in TEXT_PLACEHOLDERS.items():
        for language in LANGUAGES:
            values = {name: "X" for name in placeholders}
            assert texts.say(key, language, **values).strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_outage_notice_says_the_message_is_kept(language: str) -> None:
    text = load_texts(SHIPPED).say("bot_down", language)
    kept = {"ko": "저장", "ja": "保存", "en": "kept"}[language]
    assert kept in text


def test_an_unknown_language_gets_english() -> None:
    texts = load_texts(SHIPPED)
    assert texts.say("cancelled", "de") == texts.say("cancelled", "en")


def _broken(path: list[str], value: object) -> dict[str, Any]:
    raw = copy.deepcopy(shipped())
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["texts", "bot_down", "ja"], None, "texts.bot_down.ja is missing"),
        (["texts", "queued", "ko"], "   ", "texts.queued.ko is missing or empty"),
        (["texts", "queued", "en"], "You are {place}", "texts.queued.en uses {place}"),
        (["texts", "agent_joined"], None, "texts.agent_joined is missing"),
        (["texts", "bot_dwon"], {"en": "x"}, "texts.bot_dwon is not used"),
        (["texts", "closed", "en"], "back {reopening", "broken {placeholder}"),
        (["words", "cancel", "ko"], [], "words.cancel.ko needs a list"),
        (["words", "ask_for_person"], None, "words.ask_for_person is missing"),
    ],
)
def test_problems_are_named(path: list[str], value: object, expected: str) -> None:
    found = problems(_broken(path, value))
    assert any(expected in line for line in found), found


def test_a_broken_file_is_refused_with_every_problem(tmp_path: Path) -> None:
    raw = _broken(["texts", "bot_down", "ko"], None)
    del raw["texts"]["nobody"]["en"]
    path = tmp_path / "texts.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TextsError) as error:
        load_texts(path)
    assert "bot_down.ko" in str(error.value) and "nobody.en" in str(error.value)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "texts.yml"
    path.write_text("texts: [unclosed", encoding="utf-8")
    with pytest.raises(TextsError, match="not valid YAML"):
        load_texts(path)


@pytest.mark.parametrize(
    ("text", "is_cancel"),
    [
        ("cancel", True),
        (" Cancel ", True),
        ("취소", True),
        ("キャンセル", True),
        ("cancel my order", False),
    ],
)
def test_cancel_words_match_the_whole_message(text: str, is_cancel: bool) -> None:
    assert load_texts(SHIPPED).is_word("cancel", text) is is_cancel

"""data/gateway_texts.yml: every text in ko/ja/en with the placeholders the gateway fills."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoff.customer.texts import LANGUAGES, TEXT_PLACEHOLDERS, TextsError, load_texts, problems
from stack.settings import Settings
from tests.handoff.texts_yaml import read_yaml, with_change

SHIPPED = Settings().gateway_texts_path


def test_the_shipped_texts_are_complete() -> None:
    assert problems(read_yaml(SHIPPED)) == []
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
    found = problems(with_change(SHIPPED, path, value))
    assert any(expected in line for line in found), found


def test_a_broken_file_is_refused_with_every_problem(tmp_path: Path) -> None:
    raw = with_change(SHIPPED, ["texts", "bot_down", "ko"], None)
    del raw["texts"]["nobody"]["en"]
    path = tmp_path / "texts.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TextsError) as error:
        load_texts(path)
    assert "bot_down.ko" in str(error.value) and "nobody.en" in str(error.value)
    assert "python -m handoff texts check" in str(error.value)  # what to do next


def test_a_language_may_leave_a_placeholder_out() -> None:
    """Unlike the help centre's texts, the gateway's have never had to use the same
    placeholders in every language: only unknown ones are refused."""
    raw = with_change(SHIPPED, ["texts", "queued", "ja"], "順番にご案内します。")
    assert problems(raw) == []


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

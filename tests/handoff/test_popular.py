"""The widget's popular questions (handoff/customer/popular.py): usage first once it is
enough, the designers' list for the rest, ko/ja/en titles, and a broken or stale list
never a 500."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from handoff.customer.popular import (
    MIN_ANSWERS,
    PopularFileError,
    pick,
    read_designer_list,
)
from handoff.web.app import create_app
from kb_index.articles import load_kb
from stack.settings import Settings
from tests.e2e.isolated import ALWAYS_OPEN, free_port

LANGUAGES = ("ko", "ja", "en")


def test_the_shipped_list_names_three_kb_articles_per_language() -> None:
    settings = Settings()
    lists = read_designer_list(settings.popular_questions_path)
    known = {article.id for article in load_kb(settings.kb_dir)}
    assert set(lists) == set(LANGUAGES)
    for language in LANGUAGES:
        assert len(lists[language]) == 3 and set(lists[language]) <= known, language


@pytest.mark.parametrize(
    ("used", "designed", "expected"),
    [
        ([], ["a", "b", "c", "d"], [("a", "designer"), ("b", "designer"), ("c", "designer")]),
        # usage counted often enough comes first; the designers' fill the rest, once each
        (
            [("c", MIN_ANSWERS + 3), ("x", MIN_ANSWERS)],
            ["a", "c"],
            [("c", "usage"), ("x", "usage"), ("a", "designer")],
        ),
        # a handful of chats does not decide
        ([("x", MIN_ANSWERS - 1)], ["a"], [("a", "designer")]),
        # articles gone from the KB are left out, from either side
        ([("gone", 50)], ["gone", "a"], [("a", "designer")]),
    ],
)
def test_pick(
    used: list[tuple[str, int]], designed: list[str], expected: list[tuple[str, str]]
) -> None:
    assert pick(used, designed, {"a", "b", "c", "d", "x"}, 3) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ko: [a\n", "popular"),  # broken YAML
        ("- a\n- b\n", "expected languages"),
        ("fr: [a]\n", "'fr' is not one of ko, ja, en"),
        ("ko: a\n", "expected a list of article ids"),
        ("ko: [1, 2]\n", "expected a list of article ids"),
    ],
)
def test_a_broken_list_says_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "popular.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PopularFileError, match=says):
        read_designer_list(path)
    assert read_designer_list(tmp_path / "none.yml") == {}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Settings]]:
    shutil.copytree(Settings().kb_dir, tmp_path / "kb")
    shutil.copy(Settings().popular_questions_path, tmp_path / "popular.yml")
    settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: the list needs neither
        action_port=free_port(),
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
        kb_dir=tmp_path / "kb",
        popular_questions_path=tmp_path / "popular.yml",
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client, settings
    await client.close()


def _answered(db_path: Path, article_id: str, language: str, times: int) -> None:
    """`times` conversations in which the bot gave `article_id`'s answer today."""
    now = datetime.now(UTC)
    with sqlite3.connect(db_path) as db:
        db.executemany(
            "INSERT INTO bot_events (conversation_id, seq, kind, article_id, language, ts,"
            " day, started_at) VALUES (?, 2, 'answer', ?, ?, ?, ?, ?)",
            [
                (
                    f"c-{article_id}-{language}-{i}",
                    article_id,
                    language,
                    now.isoformat(),
                    now.date().isoformat(),
                    now.isoformat(),
                )
                for i in range(times)
            ],
        )


async def popular(client: TestClient[Any, Any], **query: str) -> tuple[int, Any]:
    response = await client.get("/api/popular", params=query)
    return response.status, await response.json()


async def test_usage_leads_in_its_language_and_the_designers_fill_the_rest(
    gateway: tuple[TestClient[Any, Any], Settings],
) -> None:
    client, settings = gateway
    _answered(settings.db_path, "payment_methods", "ja", MIN_ANSWERS + 2)
    _answered(settings.db_path, "size_guide", "ko", 1)  # too few to count
    kb = {article.id: article for article in load_kb(settings.kb_dir)}
    designed = read_designer_list(settings.popular_questions_path)
    for language in LANGUAGES:
        status, body = await popular(client, language=language)
        assert status == 200 and body["language"] == language
        got = [(q["article_id"], q["source"]) for q in body["questions"]]
        if language == "ja":
            expected = [("payment_methods", "usage")]
            expected += [(a, "designer") for a in designed["ja"][:2]]
        else:
            expected = [(a, "designer") for a in designed[language]]
        assert got == expected, language
        for question in body["questions"]:
            assert question["title"] == kb[question["article_id"]].title_in(language)
            assert f'"language": "{language}"' in question["payload"]


async def test_a_broken_or_stale_list_is_logged_and_never_a_500(
    gateway: tuple[TestClient[Any, Any], Settings], caplog: pytest.LogCaptureFixture
) -> None:
    client, settings = gateway
    settings.popular_questions_path.write_text("ko: [no_such_article, shipping_time]\n")
    with caplog.at_level(logging.WARNING, logger="handoff.customer.popular"):
        status, body = await popular(client, language="ko")
        await popular(client, language="ko")
    assert status == 200
    assert [q["article_id"] for q in body["questions"]] == ["shipping_time"]
    assert len([r for r in caplog.records if "no_such_article" in r.getMessage()]) == 1
    settings.popular_questions_path.write_text("ko: [shipping_time\n")
    with caplog.at_level(logging.ERROR, logger="handoff.customer.popular"):
        assert await popular(client, language="ko") == (200, {"language": "ko", "questions": []})
    assert any("ignored" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"language": "fr"}, "'language' must be one of ko, ja, en"),
        ({"language": "ko", "limit": "9"}, "unknown parameter limit"),
    ],
)
async def test_a_bad_query_is_a_clear_400(
    gateway: tuple[TestClient[Any, Any], Settings], query: dict[str, str], says: str
) -> None:
    client, _ = gateway
    status, body = await popular(client, **query)
    assert status == 400
    assert says in body["error"]["message"]

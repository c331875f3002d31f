"""Suggestions while typing (handoff/customer/suggestions.py) in a gateway of its own: the
right articles for a few characters of ko/ja/en, the payload the bot's clarify buttons
send, and every bad query a clear 400, a flood a 429."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from actions.faq import ARTICLE_ENTITY
from handoff.customer.suggestions import CHOOSE_ARTICLE
from handoff.web.app import create_app
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.isolated import ALWAYS_OPEN, STRANGER, free_port

# The bot's language entity (bot/language_detector.py, which needs Rasa to import); the
# domain's `language` slot is filled from it.
LANGUAGE_ENTITY = "language"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    shutil.copytree(Settings().kb_dir, tmp_path / "kb")
    settings = Settings.from_env().replace(
        db_path=tmp_path / "handoff.sqlite3",
        rasa_port=free_port(),  # nothing listens: suggestions need neither
        action_port=free_port(),
        coverage_path=ALWAYS_OPEN,
        kb_index_dir=tmp_path / "no-index",
        kb_dir=tmp_path / "kb",
        searches_per_address_per_minute=60,  # a burst of 6
    )
    test_client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def suggest(client: TestClient[Any, Any], **query: str) -> tuple[int, Any]:
    response = await client.get("/api/suggestions", params=query)
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("typed", "language", "expected", "title_starts"),
    [
        ("배송비", "ko", "shipping_cost", "배송"),
        ("환불은 언제", "ko", "refund_timing", "환불"),
        ("返品できる期間", "ja", "return_policy", ""),
        ("ギフトカードの残", "ja", "giftcard_balance", "ギフトカード"),
        ("cancel my ord", "en", "order_cancellation", ""),
        ("gift card bal", "en", "giftcard_balance", ""),
    ],
)
async def test_a_few_characters_suggest_the_article_in_the_language(
    client: TestClient[Any, Any], typed: str, language: str, expected: str, title_starts: str
) -> None:
    status, body = await suggest(client, q=typed, language=language)
    assert status == 200
    found = body["suggestions"]
    assert 1 <= len(found) <= 3
    assert expected in [s["article_id"] for s in found[:2]], found
    first = next(s for s in found if s["article_id"] == expected)
    assert first["title"].startswith(title_starts)
    # what the widget sends when it is picked: the bot's own clarify-button message
    assert first["payload"] == (
        f'/choose_article{{"{ARTICLE_ENTITY}": "{expected}", "{LANGUAGE_ENTITY}": "{language}"}}'
    )


async def test_the_payload_is_the_bots_own_format() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    entities = {name for entity in domain["entities"] for name in entity}
    assert {ARTICLE_ENTITY, LANGUAGE_ENTITY} <= entities
    assert domain["slots"]["language"]["mappings"][0]["entity"] == LANGUAGE_ENTITY
    assert json.loads(CHOOSE_ARTICLE.format('"x"', '"ja"').removeprefix("/choose_article")) == {
        ARTICLE_ENTITY: "x",
        LANGUAGE_ENTITY: "ja",
    }


@pytest.mark.parametrize("typed", ["a", " 배 ", "??", "zzqxv", "\u3000\u3000"])
async def test_too_little_or_unknown_suggests_nothing(
    client: TestClient[Any, Any], typed: str
) -> None:
    assert await suggest(client, q=typed, language="en") == (200, {"suggestions": []})


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"language": "ko"}, "'q' is required"),
        ({"q": "x" * 201, "language": "en"}, "'q'"),
        ({"q": "배송", "language": "fr"}, "'language' must be one of ko, ja, en"),
        ({"q": "배송", "limit": "9"}, "unknown parameter limit"),
    ],
)
async def test_a_bad_query_is_a_clear_400(
    client: TestClient[Any, Any], query: dict[str, str], says: str
) -> None:
    status, body = await suggest(client, **query)
    assert status == 400
    assert says in body["error"]["message"]


async def test_hostile_characters_are_no_500(client: TestClient[Any, Any]) -> None:
    for raw in ("%ED%A0%80%EB%B0%B0%EC%86%A1", "%00%00%EB%B0%B0%EC%86%A1", "%FF%FE"):
        response = await client.get(f"/api/suggestions?q={raw}&language=ko")
        assert response.status in (200, 400), await response.text()
        assert response.content_type == "application/json"


async def test_a_flood_from_one_address_is_refused_with_a_retry_after(
    client: TestClient[Any, Any],
) -> None:
    query = {"q": "배송", "language": "ko"}
    statuses = [
        (await client.get("/api/suggestions", params=query, headers=STRANGER)).status
        for _ in range(12)
    ]
    assert statuses[0] == 200 and 429 in statuses
    response = await client.get("/api/suggestions", params=query, headers=STRANGER)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert (await response.json())["error"]["code"] == "rate_limited"
    # A client on the gateway's own machine is not counted per address.
    assert [(await suggest(client, **query))[0] for _ in range(12)] == [200] * 12

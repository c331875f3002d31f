"""The help centre (/help) on the real stack: search by meaning from the real action server
merged with the gateway's full-text match, in ko/ja/en; language from ?lang= and
Accept-Language; escaping; 404; and a vote counted in the supervisor's analytics with the
bot's feedback. Without the action server, and a KB edit without a restart:
tests/handoff/test_helpcentre.py."""

from __future__ import annotations

import html
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from handoff.helpcentre.texts import load_help_texts
from kb_index.articles import Article
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.client import AgentClient

pytestmark = pytest.mark.e2e

LEAD_PASSWORD = "help-centre-lead-password-3"
TEXTS = load_help_texts(Settings().helpcentre_texts_path).texts
UNAVAILABLE = tuple(TEXTS["semantic_unavailable"].values())


async def get(url: str, path: str, **kwargs: Any) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url + path, **kwargs) as r:
        return r.status, await r.text(), r.headers


def result_ids(body: str) -> list[str]:
    listing = re.search(r'<ol class="results">(.*?)</ol>', body, re.S)
    if listing is None:
        return []
    return re.findall(r'<li><a href="/help/articles/([^?"]+)', listing.group(1))


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ("주문을 취소하고 싶어요", "ko", "order_cancellation"),  # particles glued on
        ("배송비는얼마예요", "ko", "shipping_cost"),  # and no spaces
        ("配送料はいくらですか", "ja", "shipping_cost"),  # Japanese: no spaces
        ("how do i reset my password", "en", "reset_password"),
        # no word of these is in the article: found by meaning, from the action server
        ("配達予定日はいつ", "ja", "shipping_time"),
        ("my package vanished", "en", "lost_delayed_package"),
    ],
)
async def test_search_finds_the_article(
    gateway_url: str, kb_articles: dict[str, Article], query: str, lang: str, expected: str
) -> None:
    status, body, headers = await get(gateway_url, "/help", params={"q": query, "lang": lang})
    assert status == 200
    assert result_ids(body)[:1] == [expected], result_ids(body)
    assert not any(notice in body for notice in UNAVAILABLE)  # both halves answered
    assert f'<html lang="{lang}">' in body and headers["Content-Language"] == lang
    # the result is titled and summarised in the page's language
    assert html.escape(kb_articles[expected].answer_in(lang)[:40]) in body


async def test_a_question_the_kb_does_not_cover_lists_nothing(gateway_url: str) -> None:
    for query, lang in (("大阪の天気を教えて", "ja"), ("best pizza in naples", "en")):
        status, body, _ = await get(gateway_url, "/help", params={"q": query, "lang": lang})
        assert status == 200
        assert result_ids(body) == []
        assert html.escape(TEXTS["no_results"][lang]) in body


async def test_language_from_the_query_else_accept_language_and_the_switcher(
    gateway_url: str,
) -> None:
    _, body, _ = await get(gateway_url, "/help", headers={"Accept-Language": "ja-JP,ja;q=0.9"})
    assert '<html lang="ja">' in body and "ヘルプセンター" in body
    _, body, _ = await get(
        gateway_url, "/help?lang=ko", headers={"Accept-Language": "ja-JP,ja;q=0.9"}
    )
    assert '<html lang="ko">' in body and "고객센터" in body
    _, body, _ = await get(gateway_url, "/help?lang=de", headers={"Accept-Language": "de, fr"})
    assert '<html lang="en">' in body and "Help centre" in body
    # the switcher keeps the search (and an article page keeps the article)
    _, body, _ = await get(gateway_url, "/help", params={"q": "환불", "lang": "ko"})
    assert 'href="/help?q=%ED%99%98%EB%B6%88&amp;lang=ja"' in body
    assert 'aria-current="page">한국어<' in body
    _, body, _ = await get(gateway_url, "/help/articles/refund_timing?lang=en")
    assert 'href="/help/articles/refund_timing?lang=ko"' in body


async def test_an_article_has_a_stable_address_in_three_languages(
    gateway_url: str, kb_articles: dict[str, Article]
) -> None:
    article = kb_articles["giftcard_balance"]
    for lang in ("ko", "ja", "en"):
        status, body, _ = await get(gateway_url, f"/help/articles/giftcard_balance?lang={lang}")
        assert status == 200
        assert html.escape(article.answer_in(lang)) in body
        for link in article.links:
            assert f'href="{html.escape(link.url)}"' in body
            assert html.escape(link.title_in(lang)) in body
        assert html.escape(TEXTS["helpful_question"][lang]) in body


async def test_typed_markup_is_shown_not_run(gateway_url: str) -> None:
    attack = "<script>alert(document.cookie)</script> 환불"
    status, body, headers = await get(gateway_url, "/help", params={"q": attack, "lang": "ko"})
    assert status == 200
    assert "<script>" not in body
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]


async def test_an_unknown_article_is_a_404_page_in_the_language(gateway_url: str) -> None:
    for lang, says in (("ko", "도움말을 찾을 수 없어요"), ("ja", "記事が見つかりません")):
        status, body, _ = await get(gateway_url, f"/help/articles/<b>nope?lang={lang}")
        assert status == 404 and says in body and "<b>nope" not in body


@pytest.fixture(scope="module")
def lead(live_stack: Stack) -> str:
    """A supervisor of this module, created the documented way."""
    env = {**os.environ, **live_stack.settings.to_env(), "AGENT_PASSWORD": LEAD_PASSWORD}
    subprocess.run(
        [sys.executable, "-m", "handoff", "agents", "add", "helplead", "--role", "supervisor"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return "helplead"


async def _article_counts(session: aiohttp.ClientSession, url: str, token: str) -> dict[str, Any]:
    today = datetime.now(UTC).date().isoformat()
    async with session.get(
        f"{url}/api/agent/analytics?from={today}&to={today}&language=ja",
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert r.status == 200, await r.text()
        report = await r.json()
    rows = [
        r
        for r in report["figures"]["articles"]
        if r["article_id"] == "installment_payments" and r["language"] == "ja"
    ]
    if not rows:
        return {"helpful": 0, "not_helpful": 0}
    return {
        "helpful": rows[0]["help_centre_helpful"],
        "not_helpful": rows[0]["help_centre_not_helpful"],
    }


async def test_a_vote_counts_in_the_supervisors_article_figures(
    live_stack: Stack, lead: str
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        supervisor = await AgentClient(session, url).login(lead, LEAD_PASSWORD)
        before = await _article_counts(session, url, supervisor.token)
        for verdict in ("helpful", "helpful", "not_helpful"):
            async with session.get(f"{url}/help/articles/installment_payments?lang=ja") as r:
                token = re.search(r'name="token" value="([^"]+)"', await r.text())
            assert token is not None
            form = {"token": token.group(1), "verdict": verdict, "lang": "ja"}
            async with session.post(
                f"{url}/help/articles/installment_payments/feedback",
                data=form,
                allow_redirects=False,
            ) as r:
                assert r.status == 303, await r.text()
            # the same page's form again: still one vote
            async with session.post(
                f"{url}/help/articles/installment_payments/feedback",
                data=form,
                allow_redirects=False,
            ) as r:
                assert r.status == 303
        after = await _article_counts(session, url, supervisor.token)
    assert after["helpful"] - before["helpful"] == 2
    assert after["not_helpful"] - before["not_helpful"] == 1
    # the same records as the bot's verdicts, marked as the help centre's
    with sqlite3.connect(live_stack.settings.db_path) as db:
        kinds = db.execute(
            "SELECT kind, COUNT(*) FROM bot_events WHERE article_id = 'installment_payments'"
            " AND conversation_id LIKE 'helpcentre:%' GROUP BY kind"
        ).fetchall()
    assert dict(kinds)["helpful"] >= 2 and dict(kinds)["not_helpful"] >= 1

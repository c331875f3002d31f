"""The help centre in real headless Chromium (Debian's) on the real stack: a Korean reader
(the browser's Accept-Language) opens /help, searches, opens the article, says it helped,
and switches the article to Japanese; axe-core finds nothing serious on any page."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from kb_index.articles import Article
from stack.launcher import Stack
from tests.e2e.axe import assert_accessible
from tests.e2e.test_widget_browser import browser  # noqa: F401 - shared fixture

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture()
def korean_page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 800}, locale="ko-KR")
    page = context.new_page()
    yield page
    context.close()


def test_search_read_and_vote_in_chromium(
    korean_page: Page, live_stack: Stack, kb_articles: dict[str, Article]
) -> None:
    page = korean_page
    url = live_stack.settings.gateway_url
    article = kb_articles["order_cancellation"]
    page.goto(f"{url}/help")
    expect(page.locator("html")).to_have_attribute("lang", "ko")  # from Accept-Language
    expect(page.get_by_role("heading", level=1)).to_have_text("무엇을 도와드릴까요?")
    expect(page.get_by_role("heading", name="주문", exact=True)).to_be_visible()
    assert_accessible(page, "/help (ko)")

    page.get_by_role("searchbox").fill("주문을 취소하고 싶어요")
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url("**/help?q=*")
    first = page.locator("ol.results > li").first.get_by_role("link")
    expect(first).to_have_text(article.title_in("ko"))
    expect(page.get_by_role("searchbox")).to_have_value("주문을 취소하고 싶어요")
    assert_accessible(page, "/help?q=... (ko)")

    first.click()
    page.wait_for_url("**/help/articles/order_cancellation?lang=ko")
    expect(page.locator("article .answer")).to_contain_text(article.answer_in("ko")[:30])
    expect(page.get_by_role("navigation", name="카테고리")).to_contain_text("주문")
    assert_accessible(page, "an article (ko)")

    page.get_by_role("button", name="네", exact=True).click()
    page.wait_for_url("**/help/articles/order_cancellation?lang=ko&voted=1*")
    expect(page.get_by_role("status")).to_have_text("의견 감사합니다!")
    with sqlite3.connect(live_stack.settings.db_path) as db:
        votes = db.execute(
            "SELECT COUNT(*) FROM bot_events WHERE conversation_id LIKE 'helpcentre:%'"
            " AND article_id = 'order_cancellation' AND kind = 'helpful' AND language = 'ko'"
        ).fetchone()[0]
    assert votes >= 1

    page.get_by_role("link", name="日本語").click()
    page.wait_for_url("**/help/articles/order_cancellation?lang=ja")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text(article.title_in("ja"))
    expect(page.get_by_role("button", name="はい")).to_be_visible()
    assert_accessible(page, "an article (ja)")

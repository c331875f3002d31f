"""Suggestions while typing, in real headless Chromium on the real stack: a few typed
characters list matching articles under the box, in the customer's language; picking one
gets that article's answer from the bot, recorded as a choice the bot answered."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from common.language import detect_language
from kb_index.articles import Article
from stack.launcher import Stack
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    page,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("ko", "배송비", "shipping_cost"),
        ("ja", "ギフトカードの残", "giftcard_balance"),
        ("en", "cancel my ord", "order_cancellation"),
    ],
)
def test_picking_a_suggestion_gets_its_answer(
    page: Page,  # noqa: F811
    live_stack: Stack,
    kb_articles: dict[str, Article],
    language: str,
    typed: str,
    expected: str,
) -> None:
    url = live_stack.settings.gateway_url
    page.goto(f"{url}/?lang={language}")
    wait_until(page, CONNECTED)
    page.locator("#input").press_sequentially(typed, delay=40)
    title = kb_articles[expected].title_in(language)
    suggestion = page.locator("#suggest-list button.suggestion", has_text=title)
    expect(suggestion).to_be_visible(timeout=10_000)
    expect(page.locator("#suggest-label")).not_to_be_empty()
    assert page.locator("#suggest-list button.suggestion").count() <= 3

    suggestion.click()
    expect(page.locator("#suggest")).to_be_hidden()
    assert page.locator("#input").input_value() == ""
    expect(page.locator("#messages .msg-customer").last).to_contain_text(title)
    answer = kb_articles[expected].answer_in(language)
    replies = page.locator("#messages .msg-bot")
    expect(replies.filter(has_text=answer[:30])).to_have_count(1, timeout=20_000)
    # the bot goes on in the customer's language (a payload skips its language detection)
    expect(replies.last).to_be_visible()
    assert detect_language(replies.last.inner_text().split("\n")[0]) == language

    # the bot answered a choice: self-service in the supervisor's figures
    conversation_id = page.evaluate("window.maruChat.conversationId")
    with sqlite3.connect(live_stack.settings.db_path) as db:
        kinds = db.execute(
            "SELECT kind FROM bot_events WHERE conversation_id = ? AND article_id = ?",
            (conversation_id, expected),
        ).fetchall()
    assert ("chosen",) in kinds


def test_the_list_goes_when_the_box_is_emptied_or_escaped(
    page: Page,  # noqa: F811
    live_stack: Stack,
) -> None:
    page.goto(f"{live_stack.settings.gateway_url}/?lang=ko")
    wait_until(page, CONNECTED)
    page.locator("#input").press_sequentially("환불", delay=40)
    expect(page.locator("#suggest")).to_be_visible(timeout=10_000)
    page.keyboard.press("Escape")
    expect(page.locator("#suggest")).to_be_hidden()
    page.locator("#input").press_sequentially("은", delay=40)
    expect(page.locator("#suggest")).to_be_visible(timeout=10_000)
    page.locator("#input").fill("")
    page.locator("#input").dispatch_event("input")
    expect(page.locator("#suggest")).to_be_hidden()


POPULAR_LABEL = {"ko": "자주 묻는 질문", "ja": "よくある質問", "en": "Popular questions"}


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_a_new_chat_offers_the_popular_questions(
    page: Page,  # noqa: F811
    live_stack: Stack,
    kb_articles: dict[str, Article],
    language: str,
) -> None:
    page.goto(f"{live_stack.settings.gateway_url}/?lang={language}")
    wait_until(page, CONNECTED)
    expect(page.locator("#suggest")).to_be_visible(timeout=10_000)
    expect(page.locator("#suggest-label")).to_have_text(POPULAR_LABEL[language])
    offered = page.locator("#suggest-list button.suggestion")
    assert 1 <= offered.count() <= 3
    titles = {a.title_in(language): a for a in kb_articles.values()}
    first = offered.first.inner_text()
    assert first in titles, first  # an article's title, in the customer's language
    offered.first.click()
    expect(page.locator("#suggest")).to_be_hidden()
    answer = titles[first].answer_in(language)
    replies = page.locator("#messages .msg-bot")
    expect(replies.filter(has_text=answer[:30])).to_have_count(1, timeout=20_000)
    # once the customer has said something, a reload does not offer them again
    page.reload()
    wait_until(page, CONNECTED)
    expect(page.locator("#messages .msg-customer").first).to_be_visible(timeout=10_000)
    expect(page.locator("#suggest")).to_be_hidden()

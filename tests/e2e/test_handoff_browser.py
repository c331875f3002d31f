"""The customer widget and the agent console side by side, in real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from common.language import detect_language
from kb_index.articles import Article
from stack.launcher import Stack
from tests.e2e.test_analytics import (
    SUPERVISOR_PASSWORD,
    supervisor,  # noqa: F401 - fixture
)
from tests.e2e.test_widget_browser import (
    AGENT_CONNECTED,
    CHROMIUM_ARGS,  # noqa: F401 - same launch flags
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    open_holding_script,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

FLOWS = [
    (
        "ko",
        "환불은 언제 받을 수 있어요",
        "상담원 연결해 주세요",
        "주문번호 B-77 이에요",
        "확인해 드릴게요!",
    ),
    ("ja", "返金っていつされますか", "人と話したい", "注文番号はB-78です", "確認いたします！"),
    ("en", "when do i get my refund", "talk to a human", "order B-79 please", "Let me check that!"),
]
SHIPPING = {
    "ko": "배송 얼마나 걸려요?",
    "ja": "配送にどのくらいかかりますか",
    "en": "how long does shipping take",
}


@pytest.fixture()
def two_pages(browser: Browser) -> Iterator[tuple[Page, Page]]:  # noqa: F811
    customer = browser.new_context(viewport={"width": 390, "height": 800})
    agent = browser.new_context(viewport={"width": 1280, "height": 800})
    yield customer.new_page(), agent.new_page()
    customer.close()
    agent.close()


def sign_in(console: Page, url: str, username: str, password: str) -> None:
    console.goto(f"{url}/agent")
    console.fill("#username", username)
    console.fill("#password", password)
    console.click("#login-button")
    wait_until(console, AGENT_CONNECTED)


def send(page: Page, selector: str, button: str, text: str) -> None:
    page.fill(selector, text)
    page.click(button)


@pytest.mark.parametrize(("lang", "question", "ask_person", "detail", "reply"), FLOWS)
def test_widget_and_console_hand_the_chat_over_and_back(
    live_stack: Stack,
    agents: dict[str, str],
    kb_articles: dict[str, Article],
    two_pages: tuple[Page, Page],
    lang: str,
    question: str,
    ask_person: str,
    detail: str,
    reply: str,
) -> None:
    url = live_stack.settings.gateway_url
    widget, console = two_pages

    sign_in(console, url, "alice", agents["alice"])
    expect(console.locator("#agent-name")).not_to_be_empty()

    widget.goto(f"{url}/?lang={lang}")
    wait_until(widget, CONNECTED)
    bot = widget.locator("#messages .msg-bot")
    send(widget, "#input", "#send", question)
    expect(bot.first).to_be_visible(timeout=20_000)
    send(widget, "#input", "#send", ask_person)
    # queued: the widget shows the place in the queue, in the customer's language
    expect(widget.locator("#status")).to_be_visible(timeout=20_000)
    status_text = widget.locator("#status").inner_text()
    assert detect_language(status_text) in {lang, None} and any(ch.isdigit() for ch in status_text)
    conversation_id = widget.evaluate("window.maruChat.conversationId")

    # the console gets it live; accept shows the earlier transcript and why
    item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(console.locator("#transcript")).to_contain_text(question, timeout=10_000)
    expect(console.locator("#transcript")).to_contain_text(ask_person)
    expect(console.locator("#context-reason")).not_to_be_empty()

    # agent -> customer, live
    send(console, "#composer", "#send", reply)
    expect(widget.locator("#messages .msg-agent").last).to_contain_text(reply, timeout=10_000)
    # customer -> agent, live
    send(widget, "#input", "#send", detail)
    expect(console.locator("#transcript .msg-customer").last).to_contain_text(
        detail, timeout=10_000
    )
    # the console suggests KB answers for the customer's latest message, in their language
    send(widget, "#input", "#send", SHIPPING[lang])
    title = kb_articles["shipping_time"].questions[lang][0]
    expect(console.locator("#suggestions .suggestion-title").first).to_have_text(
        title, timeout=15_000
    )
    assert "Could not load suggestions" not in console.locator("#suggestions").inner_text()

    # resolve: the bot is back in the widget and asks for a rating
    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#resolve")
    rating_buttons = widget.locator("button.choice", has_text="4")
    expect(rating_buttons.last).to_be_visible(timeout=20_000)
    assert detect_language(bot.last.inner_text()) == lang
    before = bot.count()
    rating_buttons.last.click()
    expect(bot).to_have_count(before + 1, timeout=20_000)  # the bot thanks them
    thanks = bot.last.inner_text()
    assert detect_language(thanks) == lang
    assert widget.locator("button.choice", has_text="4").last.is_disabled()


def test_console_renders_customer_text_as_text(
    live_stack: Stack, agents: dict[str, str], two_pages: tuple[Page, Page]
) -> None:
    url = live_stack.settings.gateway_url
    widget, console = two_pages
    sign_in(console, url, "alice", agents["alice"])
    widget.goto(f"{url}/?lang=en")
    wait_until(widget, CONNECTED)
    send(widget, "#input", "#send", "talk to a human")
    conversation_id = widget.evaluate("window.maruChat.conversationId")
    expect(widget.locator("#status")).to_be_visible(timeout=20_000)
    item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    payload = "<img src=x onerror=\"document.title='pwned'\">"
    send(widget, "#input", "#send", payload)
    expect(console.locator("#transcript .msg-customer").last).to_contain_text(
        "<img", timeout=10_000
    )
    assert console.title() != "pwned"
    assert console.locator("#transcript img").count() == 0
    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#resolve")


@pytest.mark.parametrize(
    ("path", "script", "signed_in"),
    [
        ("/agent", "agent.js", AGENT_CONNECTED),
        ("/agent/analytics", "analytics.js", "window.maruAnalytics.loaded === true"),
    ],
)
def test_a_sign_in_page_signs_in_only_once_its_script_runs(
    live_stack: Stack,
    supervisor: str,  # noqa: F811 - the fixture imported above
    browser: Browser,  # noqa: F811 - the shared fixture
    path: str,
    script: str,
    signed_in: str,
) -> None:
    """On a slow line the sign-in form shows before its script runs. Enter then must not
    make the browser send the form itself, which put the password in the page's URL
    (and so in the history and the access logs)."""
    url = live_stack.settings.gateway_url
    context = browser.new_context()
    try:
        page = context.new_page()
        held = open_holding_script(page, f"{url}{path}", script)
        expect(page.locator("#login-button")).to_be_disabled()
        page.fill("#username", supervisor)
        page.fill("#password", SUPERVISOR_PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_timeout(500)  # what a browser submit would have done by now
        assert SUPERVISOR_PASSWORD not in page.url and "password" not in page.url
        held.continue_()
        page.click("#login-button")  # waits until the script enables it
        wait_until(page, signed_in, 60)
    finally:
        context.close()

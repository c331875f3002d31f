"""The customer widget in a real headless Chromium (Debian's), against the real stack."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from common.language import detect_language
from stack.launcher import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONNECTED = "window.maruChat && window.maruChat.connected === true"
AGENT_CONNECTED = "window.maruAgent && window.maruAgent.connected === true"


def wait_until(page: Page, expression: str, timeout: float = 30.0) -> None:
    """Until `expression` is true in the page. Not page.wait_for_function: that polls
    with eval, which the pages' Content-Security-Policy forbids (no 'unsafe-eval'), as
    it should; page.evaluate is not bound by it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError:  # navigating: the old document is gone
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:.0f} s: {expression}")
        page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `make system-packages` (make test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def send(page: Page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def open_holding_script(page: Page, url: str, script: str, timeout: float = 30.0) -> Route:
    """Open `url` with static/`script` held back (a slow line: the page shows before its
    script runs); returns the held request, for `continue_()`."""
    held: list[Route] = []
    page.route(f"**/static/{script}", lambda route: held.append(route))
    page.goto(url, wait_until="commit")
    deadline = time.monotonic() + timeout
    while not held:  # (waiting lets Playwright hand the request over)
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never asked for {script} within {timeout:.0f} s")
        page.wait_for_timeout(50)
    return held[0]


@pytest.mark.parametrize(
    ("lang", "greeting", "question"),
    [
        ("ko", "안녕하세요", "비밀번호를 잊어버렸어요"),
        ("ja", "こんにちは", "パスワード忘れちゃった"),
        ("en", "hello there", "i forgot my password"),
    ],
)
def test_widget_chat_survives_reload(
    page: Page, gateway_url: str, lang: str, greeting: str, question: str
) -> None:
    page.goto(f"{gateway_url}/?lang={lang}")
    expect(page.locator("#input")).to_be_visible()
    wait_until(page, CONNECTED)

    send(page, greeting)
    bot = page.locator("#messages .msg-bot")
    expect(bot).to_have_count(1, timeout=20_000)
    assert detect_language(bot.first.inner_text()) == lang

    send(page, question)
    expect(bot).to_have_count(3, timeout=20_000)  # the answer, then "did that help?"
    expect(page.locator("button.choice")).to_have_count(2)
    answer = bot.nth(1).inner_text()
    assert detect_language(answer) == lang
    expect(page.locator("#messages [data-pending='1']")).to_have_count(0)

    conversation_id = page.evaluate("window.maruChat.conversationId")
    count = page.locator("#messages .msg").count()
    page.reload()
    wait_until(page, CONNECTED)
    expect(page.locator("#messages .msg")).to_have_count(count)
    assert page.evaluate("window.maruChat.conversationId") == conversation_id
    assert page.locator("#messages .msg-bot").nth(1).inner_text() == answer

    # a button click sends its payload and the bot answers in the same language
    page.locator("button.choice").first.click()
    expect(bot).to_have_count(4, timeout=20_000)
    assert detect_language(bot.nth(3).inner_text()) == lang


@pytest.mark.parametrize(
    ("lang", "question"),
    [("ko", "배송 얼마나 걸려요"), ("ja", "送料いくら"), ("en", "how long is shipping")],
)
def test_what_is_typed_while_the_widget_loads_is_sent(
    page: Page, gateway_url: str, lang: str, question: str
) -> None:
    """On a slow line the page shows before widget.js runs. Text typed then, with Enter,
    stayed in the box unsent (Enter only sends once the script is in): the box takes text
    only once it does."""
    widget_js = open_holding_script(page, f"{gateway_url}/?lang={lang}", "widget.js")
    expect(page.locator("#input")).to_be_disabled()
    expect(page.locator("#send")).to_be_disabled()
    widget_js.continue_()
    page.locator("#input").fill(question)  # waits until the box takes text
    page.press("#input", "Enter")
    expect(page.locator("#messages .msg-customer").first).to_have_text(question, timeout=20_000)
    expect(page.locator("#messages .msg-bot").first).to_be_visible(timeout=20_000)
    assert page.locator("#input").input_value() == ""


def test_widget_renders_server_text_as_text_not_html(page: Page, gateway_url: str) -> None:
    page.goto(f"{gateway_url}/?lang=en")
    wait_until(page, CONNECTED)
    send(page, "<img src=x onerror=\"document.title='pwned'\"> hello there")
    expect(page.locator("#messages .msg-bot")).to_have_count(1, timeout=20_000)
    assert page.title() != "pwned"
    assert page.locator("#messages img").count() == 0
    expect(page.locator("#messages .msg-customer").first).to_contain_text("<img src=x")


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("ko", "배송 얼마나 걸려요?"),
        ("ja", "配送に何日かかりますか"),
        ("en", "how long does shipping take"),
    ],
)
def test_widget_shows_the_outage_notice_then_the_kept_answer(
    page: Page, live_stack: Stack, lang: str, question: str
) -> None:
    page.goto(f"{live_stack.settings.gateway_url}/?lang={lang}")
    wait_until(page, CONNECTED)
    live_stack.stop_process("actions")
    try:
        send(page, question)
        notice = page.locator("#messages .msg-system")
        expect(notice).to_have_count(1, timeout=20_000)
        assert detect_language(notice.first.inner_text()) == lang
        expect(notice.first.locator("button.choice")).to_have_count(1)  # a person, now
        expect(page.locator("#messages [data-pending='1']")).to_have_count(0)  # stored
    finally:
        live_stack.start_process("actions")
    # The kept question is answered by itself once the action server is back.
    bot = page.locator("#messages .msg-bot")
    expect(bot).to_have_count(2, timeout=60_000)  # the answer, then "did that help?"
    assert detect_language(bot.first.inner_text()) == lang

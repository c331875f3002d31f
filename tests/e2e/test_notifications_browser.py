"""Notifications in real headless Chromium, in ko, ja and en (console and customer language):
two agents at their consoles with the browser's notification permission granted; a customer
asks for a person in the language only one of them speaks: that one's console shows a
desktop notification (and beeps), the other's does not. Then a message from the customer in
a chat of theirs that is not open: an unread badge of 1, the count in the tab's title, a
notification; opening the chat clears them. The Notification constructor is wrapped by a
spy that records each one and still calls the real one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_handoff_browser import sign_in
from tests.e2e.test_notes_browser import call
from tests.e2e.test_widget_browser import browser, wait_until  # noqa: F401 - shared fixture

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "notify-browser-password-3"
LOCALES = {"ko": "ko-KR", "ja": "ja-JP", "en": "en-US"}
# One agent per language, so that a chat in one language is for exactly one of them.
AGENTS = {language: f"ntf_{language}" for language in LOCALES}
# Records every notification the page makes, then makes the real one.
SPY = """
(() => {
  window.__notifications = [];
  const Real = window.Notification;
  if (!Real) return;
  function Spy(title, options) {
    window.__notifications.push({ title, body: (options || {}).body || '' });
    return new Real(title, options);
  }
  Spy.prototype = Real.prototype;
  Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
  Spy.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Spy;
})();
"""


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for language, username in AGENTS.items():
        add_agent(live_stack.settings, username, PASSWORD, "--languages", language)
    return dict.fromkeys(AGENTS.values(), PASSWORD)


@pytest.fixture()
def consoles(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Page, Page]]:  # noqa: F811
    """Two consoles in the test's language, notifications granted, the spy installed."""
    language = request.node.callspec.params["language"]
    contexts: list[BrowserContext] = []
    pages = []
    for _ in range(2):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=LOCALES[language]
        )
        context.grant_permissions(["notifications"])
        context.add_init_script(SPY)
        contexts.append(context)
        pages.append(context.new_page())
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


def notifications(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__notifications"))


def title_count(page: Page) -> int:
    found = re.match(r"^\((\d+)\) ", page.title())
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
def test_the_right_agent_is_notified_and_unread_is_counted(
    live_stack: Stack,
    people: dict[str, str],
    consoles: tuple[Page, Page],
    language: str,
    question: str,
    ask_person: str,
    detail: str,
    agent_says: str,
) -> None:
    url = live_stack.settings.gateway_url
    mine, other = consoles
    other_language = {"ko": "ja", "ja": "en", "en": "ko"}[language]
    errors: list[str] = []
    for page in consoles:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(mine, url, AGENTS[language], PASSWORD)
    sign_in(other, url, AGENTS[other_language], PASSWORD)
    table = mine.evaluate(f"window.maruConsoleI18n.STRINGS['{language}']")
    # permission is granted: no "turn on" button; the sound toggle is there, in the language
    expect(mine.locator("#notify-on")).to_be_hidden()
    expect(mine.locator("#sound-toggle")).to_have_text(table["notify.sound_on"])
    wait_until(mine, "window.maruAgent.connected && document.querySelector('#queue') !== null")
    mine.wait_for_timeout(1000)  # the first queue list (silent) has come
    before_mine, before_other = len(notifications(mine)), len(notifications(other))

    # a customer asks for a person in `language`: only the agent who speaks it is told
    started = call(url, "POST", "/api/conversations", body={"language": language})
    cid, token = started["conversation_id"], started["token"]
    call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": question})
    answer = call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": ask_person})
    assert answer["state"] == "queued", answer
    expect(mine.locator(f".queue-item[data-conversation-id='{cid}']")).to_be_visible(timeout=20_000)
    wait_until(mine, f"window.__notifications.length > {before_mine}")
    told = notifications(mine)[before_mine:]
    assert [n["title"] for n in told] == [table["notify.queued_title"]]
    assert table["language." + language] in told[0]["body"]
    assert mine.evaluate("window.maruAgent.beeps") >= 1
    other.wait_for_timeout(1500)
    assert notifications(other)[before_other:] == []

    # the agent takes it from elsewhere (the API): in the console it is a chat not open
    session = call(
        url,
        "POST",
        "/api/agent/login",
        body={"username": AGENTS[language], "password": PASSWORD},
    )
    call(url, "POST", f"/api/agent/conversations/{cid}/accept", session["token"])
    expect(mine.locator(f".queue-item[data-conversation-id='{cid}']")).to_have_count(
        0, timeout=10_000
    )
    item = mine.locator(f"#my-conversations .conv-item[data-conversation-id='{cid}']")
    count_before = title_count(mine)
    seen = len(notifications(mine))

    # the customer writes: unread 1 on that chat, one more in the title, a notification
    call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": detail})
    expect(item).to_be_visible(timeout=10_000)
    expect(item.locator(".unread")).to_have_text("1", timeout=10_000)
    expect(item.locator(".unread")).to_have_attribute(
        "aria-label", table["unread.count"].replace("{count}", "1")
    )
    assert title_count(mine) == count_before + 1
    assert table["console.title"] in mine.title()
    wait_until(mine, f"window.__notifications.length > {seen}")
    [message] = notifications(mine)[seen:]
    assert message["title"] == table["notify.message_title"].replace(
        "{name}", table["notify.a_customer"]
    )
    assert message["body"] == table["notify.message_body"]
    assert detail not in message["title"] + message["body"]  # never the message itself

    # opening the chat clears it
    item.locator("button.conv-open").click()
    expect(mine.locator("#transcript")).to_contain_text(detail, timeout=10_000)
    expect(item.locator(".unread")).to_have_count(0)
    assert title_count(mine) == count_before
    call(url, "POST", f"/api/agent/conversations/{cid}/resolve", session["token"])
    assert errors == []


def test_sound_off_is_remembered_and_permission_is_asked_from_the_button(
    live_stack: Stack,
    people: dict[str, str],
    browser: Browser,  # noqa: F811
) -> None:
    url = live_stack.settings.gateway_url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    try:
        page = context.new_page()
        sign_in(page, url, AGENTS["ja"], PASSWORD)
        table = page.evaluate("window.maruConsoleI18n.STRINGS['ja']")
        if page.evaluate("Notification.permission") == "default":
            expect(page.locator("#notify-on")).to_have_text(table["notify.turn_on"])
        page.click("#sound-toggle")
        expect(page.locator("#sound-toggle")).to_have_text(table["notify.sound_off"])
        expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")
        page.reload()
        wait_until(page, "window.maruAgent.connected === true")
        expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")
        page.click("#sound-toggle")
        expect(page.locator("#sound-toggle")).to_have_text(table["notify.sound_on"])
    finally:
        context.close()

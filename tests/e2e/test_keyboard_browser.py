"""The agent console without the mouse (issue 16 item 9), in real headless Chromium, in a
console of each language: the shortcuts list (? and Alt+/), accept the next chat (Alt+N),
switch between chats (Alt+J / Alt+K), go to the reply box (Alt+C), send (Enter) and
resolve (Alt+R). Two agents in two browser contexts press Alt+N on the same two waiting
chats at once: each ends with one of them, never both with the same."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_console_language_browser import BROWSER_LOCALES, strings
from tests.e2e.test_handoff_browser import sign_in
from tests.e2e.test_notes_browser import call
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "keyboard-agent-password-9"
AGENT = "kei"
COLLEAGUE = "ren"
ASK_PERSON = {"ko": "상담원 연결해 주세요", "ja": "人と話したい", "en": "talk to a human"}
REPLY = {"ko": "네, 확인해 드릴게요", "ja": "はい、確認します", "en": "sure, let me check"}


@pytest.fixture(scope="module")
def own_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway of this module's own (its own database, so its own queue: "the next
    waiting chat" is one of this test's, whatever other tests left waiting), on the live
    stack's Rasa and action server; with the agent `kei` in it."""
    state = tmp_path_factory.mktemp("keyboard-gateway")
    with gateway_beside(
        live_stack.settings,
        state,
        "keyboard-gateway",
        agents=[(AGENT, PASSWORD), (COLLEAGUE, PASSWORD)],
    ) as url:
        yield url


@pytest.fixture()
def console_context(browser: Browser) -> Iterator[list[BrowserContext]]:  # noqa: F811
    contexts: list[BrowserContext] = []
    yield contexts
    for context in contexts:
        context.close()


def queued_customer(url: str, language: str) -> str:
    started = call(url, "POST", "/api/conversations", body={"language": language})
    path = f"/api/conversations/{started['conversation_id']}/messages"
    said = call(url, "POST", path, started["token"], {"text": ASK_PERSON[language]})
    assert said["state"] == "queued", said
    return str(started["conversation_id"])


def selected(console: Page) -> str:
    return str(console.evaluate("window.maruAgent.selected || ''"))


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_the_console_works_from_the_keyboard(
    own_gateway: str,
    browser: Browser,  # noqa: F811
    console_context: list[BrowserContext],
    language: str,
) -> None:
    url = own_gateway
    context = browser.new_context(
        locale=BROWSER_LOCALES[language], viewport={"width": 1280, "height": 800}
    )
    console_context.append(context)
    console = context.new_page()
    sign_in(console, url, AGENT, PASSWORD)
    table = strings(console)[language]

    # ? shows the list, in the console's language; Escape closes it; Alt+/ too
    console.locator("body").press("?")
    dialog = console.locator("#shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#shortcuts-title")).to_have_text(table["shortcuts.title"])
    expect(dialog).to_contain_text(table["shortcuts.accept_next"])
    console.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    console.keyboard.press("Alt+Slash")
    expect(dialog).to_be_visible()
    console.keyboard.press("Alt+Slash")
    expect(dialog).to_be_hidden()

    # two customers wait; Alt+N takes the first, then the second
    first, second = queued_customer(url, language), queued_customer(url, language)
    for conversation_id in (first, second):
        expect(
            console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
        ).to_be_visible(timeout=20_000)
    console.keyboard.press("Alt+KeyN")
    expect(console.locator("#transcript")).to_contain_text(ASK_PERSON[language], timeout=10_000)
    taken = [selected(console)]
    console.keyboard.press("Alt+KeyN")
    wait_until(console, f"window.maruAgent.selected && window.maruAgent.selected !== '{taken[0]}'")
    taken.append(selected(console))
    assert set(taken) == {first, second}
    expect(console.locator(".conv-item")).to_have_count(2, timeout=10_000)

    # Alt+K / Alt+J move between them
    console.keyboard.press("Alt+KeyK")
    wait_until(console, f"window.maruAgent.selected === '{taken[0]}'")
    console.keyboard.press("Alt+KeyJ")
    wait_until(console, f"window.maruAgent.selected === '{taken[1]}'")

    # Alt+C, type, Enter: the reply is sent
    expect(console.locator("#composer")).to_be_enabled(timeout=10_000)  # the chat has loaded
    console.keyboard.press("Alt+KeyC")
    expect(console.locator("#composer")).to_be_focused()
    console.keyboard.type(REPLY[language])
    console.keyboard.press("Enter")
    expect(console.locator("#transcript .msg-agent").last).to_contain_text(
        REPLY[language], timeout=10_000
    )

    # Alt+R resolves the open chat (after the usual confirmation); Alt+J, then the other one
    open_now = selected(console)
    console.once("dialog", lambda confirm: confirm.accept())
    console.keyboard.press("Alt+KeyR")
    expect(console.locator("#composer")).to_be_disabled(timeout=10_000)
    other = next(c for c in taken if c != open_now)
    console.keyboard.press("Alt+KeyJ")
    wait_until(console, f"window.maruAgent.selected === '{other}'")
    expect(console.locator("#composer")).to_be_enabled(timeout=10_000)
    console.once("dialog", lambda confirm: confirm.accept())
    console.keyboard.press("Alt+KeyR")
    expect(console.locator("#composer")).to_be_disabled(timeout=10_000)
    # neither is still with the agent
    expect(console.locator(".conv-item:not(.closed)")).to_have_count(0, timeout=10_000)


def test_shortcuts_wait_behind_a_dialog_and_follow_the_label_filter(
    own_gateway: str,
    browser: Browser,  # noqa: F811
    console_context: list[BrowserContext],
) -> None:
    """With the label filter on, Alt+N takes the first chat the queue shows, not an older
    one it hides. While a dialog other than the shortcuts list is open (the transfer
    dialog; any dialog: one the test makes itself), Alt+N/J/K/C/R do nothing; closed, they
    work again, and Alt+J/K keep to the chats the filter shows. (One language: the words
    are the parametrised test's.)"""
    url = own_gateway
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 800})
    console_context.append(context)
    console = context.new_page()
    confirms: list[str] = []
    console.on("dialog", lambda confirm: (confirms.append(confirm.message), confirm.dismiss()))
    sign_in(console, url, AGENT, PASSWORD)
    token = call(url, "POST", "/api/agent/login", body={"username": AGENT, "password": PASSWORD})[
        "token"
    ]
    older, labelled = queued_customer(url, "ko"), queued_customer(url, "ko")
    try:
        call(url, "PUT", f"/api/agent/conversations/{labelled}/labels", token, {"labels": ["vip"]})
        older_row = console.locator(f".queue-item[data-conversation-id='{older}']")
        expect(older_row).to_be_visible(timeout=20_000)
        expect(
            console.locator(f".queue-item[data-conversation-id='{labelled}'] .chips")
        ).not_to_be_empty(timeout=10_000)

        # the filter hides the older chat: Alt+N takes the one on screen
        console.select_option("#label-filter", "vip")
        expect(older_row).to_have_count(0)
        console.keyboard.press("Alt+KeyN")
        wait_until(console, f"window.maruAgent.selected === '{labelled}'")
        console.select_option("#label-filter", "")
        expect(older_row).to_be_visible()

        # the transfer dialog open: no shortcut reaches the console behind it
        expect(console.locator("#composer")).to_be_enabled(timeout=10_000)
        console.click("#transfer-open")
        expect(console.locator("#transfer")).to_be_visible()
        for key in ("Alt+KeyN", "Alt+KeyK", "Alt+KeyJ", "Alt+KeyC", "Alt+KeyR"):
            console.keyboard.press(key)
        # and a dialog the console does not know of
        console.keyboard.press("Escape")
        expect(console.locator("#transfer")).to_be_hidden()
        console.evaluate(
            "() => { const d = document.createElement('dialog'); d.id = 'probe';"
            " document.body.append(d); d.showModal(); }"
        )
        for key in ("Alt+KeyN", "Alt+KeyC", "Alt+KeyR"):
            console.keyboard.press(key)
        console.wait_for_timeout(1000)  # time for a wrongly taken chat to show
        assert selected(console) == labelled
        expect(older_row).to_be_visible()
        expect(console.locator("#composer")).not_to_be_focused()
        assert confirms == []  # Alt+R never asked to resolve

        # closed: the shortcuts work again
        console.evaluate("() => document.getElementById('probe').close()")
        console.keyboard.press("Alt+KeyN")
        wait_until(console, f"window.maruAgent.selected === '{older}'")

        # Alt+J / Alt+K move among the chats the filtered list shows: here only one
        console.select_option("#label-filter", "vip")
        console.keyboard.press("Alt+KeyJ")
        wait_until(console, f"window.maruAgent.selected === '{labelled}'")
        console.keyboard.press("Alt+KeyK")
        console.wait_for_timeout(500)  # time for a wrong switch to show
        assert selected(console) == labelled
        console.select_option("#label-filter", "")
    finally:
        for conversation_id in (older, labelled):  # the module's queue and list as they were
            call(url, "POST", f"/api/agent/conversations/{conversation_id}/resolve", token, {})


def test_two_agents_pressing_alt_n_at_once_take_different_chats(
    own_gateway: str,
    browser: Browser,  # noqa: F811
    console_context: list[BrowserContext],
) -> None:
    """Two customers wait; A (console in Japanese) and B (in English) press Alt+N at the
    same moment. Both may go for the first chat: one gets it; the other's row goes (told it
    was taken), and their next Alt+N takes the second one. Each ends with one chat, not
    the same, and neither queue shows a chat that is no longer waiting."""
    url = own_gateway
    consoles: list[Page] = []
    for username, language in ((AGENT, "ja"), (COLLEAGUE, "en")):
        context = browser.new_context(
            locale=BROWSER_LOCALES[language], viewport={"width": 1280, "height": 800}
        )
        console_context.append(context)
        console = context.new_page()
        sign_in(console, url, username, PASSWORD)
        consoles.append(console)
    waiting = [queued_customer(url, "ko"), queued_customer(url, "en")]
    try:
        for console in consoles:
            for conversation_id in waiting:
                expect(
                    console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
                ).to_be_visible(timeout=20_000)
        # as near the same moment as two pages driven from one thread can be
        for console in consoles:
            console.keyboard.press("Alt+KeyN")
        for _ in range(3):  # whoever lost the race presses again (the row has gone by then)
            consoles[0].wait_for_timeout(1500)
            idle = [console for console in consoles if not selected(console)]
            if not idle:
                break
            for console in idle:
                console.keyboard.press("Alt+KeyN")
        taken = [selected(console) for console in consoles]
        assert sorted(taken) == sorted(waiting), taken
        for console in consoles:
            expect(console.locator(".conv-item")).to_have_count(1, timeout=10_000)
            expect(console.locator(".queue-item")).to_have_count(0, timeout=10_000)
    finally:  # the module's queue and lists as they were: each chat resolved by its agent
        for username in (AGENT, COLLEAGUE):
            token = call(
                url, "POST", "/api/agent/login", body={"username": username, "password": PASSWORD}
            )["token"]
            for conversation_id in waiting:
                try:
                    path = f"/api/agent/conversations/{conversation_id}/resolve"
                    call(url, "POST", path, token, {})
                except urllib.error.HTTPError:
                    pass  # the colleague's, or already resolved

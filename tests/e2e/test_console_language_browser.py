"""The agent console in Korean, Japanese and English, in real headless Chromium: the browser's
language picks the default, every label comes from the console's strings table
(handoff/static/console_i18n.js), and the agent's own choice sticks. Two agents in two
browser contexts, one console in Korean and one in Japanese, read the same chat and its
transfer each in their own language."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff_browser import FLOWS, sign_in
from tests.e2e.test_widget_browser import (
    AGENT_CONNECTED,
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LANGUAGES = ("ko", "ja", "en")
BROWSER_LOCALES = {"ko": "ko-KR", "ja": "ja-JP", "en": "en-US"}
# Written out here, not read from the table: an empty table, or one English everywhere,
# must fail.
LITERALS = {
    "ko": {
        "queue.title": "대기열",
        "mine.title": "내 상담",
        "topbar.sign_out": "로그아웃",
        "conversation.resolve": "해결",
        "login.submit": "로그인",
        "state.assigned": "상담 중",
    },
    "ja": {
        "queue.title": "キュー",
        "mine.title": "対応中の会話",
        "topbar.sign_out": "ログアウト",
        "conversation.resolve": "解決",
        "login.submit": "ログイン",
        "state.assigned": "対応中",
    },
    "en": {
        "queue.title": "Queue",
        "mine.title": "My conversations",
        "topbar.sign_out": "Sign out",
        "conversation.resolve": "Resolve",
        "login.submit": "Sign in",
        "state.assigned": "Assigned to you",
    },
}
# The queue's waiting time, as the console writes it in each language.
WAIT_PATTERNS = {
    "ko": r"^\d+초$|^\d+분 \d{2}초$",
    "ja": r"^\d+秒$|^\d+分\d{2}秒$",
    "en": r"^\d+s$|^\d+m \d{2}s$",
}
# A message's clock time: Korean and English mark the half of the day, Japanese uses 24 h.
CLOCK_PATTERNS = {
    "ko": r"^(오전|오후) \d{2}:\d{2}$",
    "ja": r"^\d{2}:\d{2}$",
    "en": r"^\d{2}:\d{2} (AM|PM)$",
}
ATTRIBUTE_MARKERS = {
    "data-i18n-placeholder": "placeholder",
    "data-i18n-aria-label": "aria-label",
    "data-i18n-title": "title",
    "data-i18n-empty": "data-empty",
}
# Every marked element: [marker, key, what it shows now].
MARKED = """(attributes) => {
  const found = [];
  document.querySelectorAll('[data-i18n]').forEach((el) => {
    if (el.tagName !== 'TITLE') found.push(['data-i18n', el.dataset.i18n, el.textContent]);
  });
  for (const [marker, target] of Object.entries(attributes)) {
    document.querySelectorAll('[' + marker + ']').forEach((el) => {
      found.push([marker, el.getAttribute(marker), el.getAttribute(target)]);
    });
  }
  return found;
}"""


@pytest.fixture()
def console_in(browser: Browser) -> Iterator[Any]:  # noqa: F811
    """Opens consoles in browser contexts whose language is the one asked for."""
    contexts: list[BrowserContext] = []

    def open_console(lang: str) -> Page:
        context = browser.new_context(
            locale=BROWSER_LOCALES[lang], viewport={"width": 1280, "height": 800}
        )
        contexts.append(context)
        return context.new_page()

    yield open_console
    for context in contexts:
        context.close()


def strings(page: Page) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = page.evaluate("window.maruConsoleI18n.STRINGS")
    return table


def assert_labels_in(page: Page, lang: str) -> None:
    """Every marked element shows its string in `lang`; the page says it is in `lang`."""
    table = strings(page)[lang]
    marked = page.evaluate(MARKED, ATTRIBUTE_MARKERS)
    assert len(marked) > 30
    wrong = [(marker, key, shown) for marker, key, shown in marked if shown != table[key]]
    assert not wrong, f"not in {lang}: {wrong}"
    for key, text in LITERALS[lang].items():
        assert table[key] == text
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.title().endswith(table["console.title"])


def queue_customer(url: str, lang: str) -> str:
    """A customer asks a question, then for a person, through the customer API."""
    [(_, question, ask_person, *_)] = [flow for flow in FLOWS if flow[0] == lang]

    def post(path: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    started = post("/api/conversations", {"language": lang, "customer": {"name": "Mina"}})
    conversation_id, token = started["conversation_id"], started["token"]
    for text in (question, ask_person):
        post(f"/api/conversations/{conversation_id}/messages", {"text": text}, token)
    return str(conversation_id)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_console_speaks_the_agents_language(
    live_stack: Stack, agents: dict[str, str], console_in: Any, lang: str
) -> None:
    url = live_stack.settings.gateway_url
    console: Page = console_in(lang)
    blocked: list[str] = []
    console.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )

    # the sign-in screen already follows the browser's language
    console.goto(f"{url}/agent")
    assert_labels_in(console, lang)
    assert console.input_value("#ui-language-login") == lang
    sign_in(console, url, "alice", agents["alice"])
    assert_labels_in(console, lang)
    assert console.input_value("#ui-language") == lang
    table = strings(console)[lang]
    expect(console.locator("#connection")).to_have_text(table["connection.live"])

    # a queued customer: reason, language, waiting time and button in the console's language
    conversation_id = queue_customer(url, lang)
    item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    expect(item.locator(".reason")).to_have_text(table["reason.requested"])
    assert item.locator(".badge").get_attribute("title") == table[f"language.{lang}"]
    assert re.match(WAIT_PATTERNS[lang], item.locator(".wait").inner_text())
    expect(item.locator("button.accept")).to_have_text(table["queue.accept"])
    assert re.match(r"^\(\d+\) ", console.title()) and table["console.title"] in console.title()

    # accepted: the header, the context and the transcript's own words too
    item.locator("button.accept").click()
    expect(console.locator("#conversation-state")).to_have_text(table["state.assigned"])
    expect(console.locator("#context-reason")).to_have_text(table["reason.requested"])
    expect(console.locator("#context-language")).to_contain_text(table[f"language.{lang}"])
    expect(console.locator("#context-customer dt").first).to_have_text(table["customer.name"])
    expect(console.locator("#composer")).to_have_attribute(
        "placeholder", table["composer.reply_in"].replace("{language}", table[f"language.{lang}"])
    )
    first = console.locator("#transcript .msg-customer").first
    expect(first.locator(".msg-role")).to_have_text(table["role.customer"])
    assert re.match(CLOCK_PATTERNS[lang], first.locator("time").inner_text())
    decision = console.locator("#context-attempts .decision").first
    expect(decision).to_be_visible()
    assert decision.inner_text() in {table["decision.answer"], table["decision.clarify"]}

    # the agent switches: labels and what the console wrote follow, and stay after a reload
    other = LANGUAGES[(LANGUAGES.index(lang) + 1) % len(LANGUAGES)]
    console.select_option("#ui-language", other)
    assert_labels_in(console, other)
    other_table = strings(console)[other]
    expect(console.locator("#conversation-state")).to_have_text(other_table["state.assigned"])
    expect(console.locator("#context-reason")).to_have_text(other_table["reason.requested"])
    expect(first.locator(".msg-role")).to_have_text(other_table["role.customer"])
    assert re.match(CLOCK_PATTERNS[other], first.locator("time").inner_text())
    console.reload()
    wait_until(console, AGENT_CONNECTED)
    expect(console.locator("#conversation-state")).to_have_text(other_table["state.assigned"])
    assert_labels_in(console, other)
    assert console.input_value("#ui-language") == other
    assert console.evaluate("window.maruConsoleI18n.language") == other

    # the resolve confirmation is asked in the chosen language
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    console.once("dialog", answer)
    console.click("#resolve")
    expect(console.locator("#notice")).to_have_text(other_table["notice.resolved"])
    assert asked == [other_table["confirm.resolve"]]

    # signed out, the sign-in screen keeps the choice
    console.click("#sign-out")
    expect(console.locator("#login-button")).to_have_text(other_table["login.submit"])
    assert console.input_value("#ui-language-login") == other
    assert not blocked


def test_every_string_exists_in_every_language(live_stack: Stack, console_in: Any) -> None:
    """A key in English but missing in Korean or Japanese (or the other way) fails, as does
    a key the markup or agent.js uses that the table lacks, or an empty string."""
    url = live_stack.settings.gateway_url
    page: Page = console_in("en")
    page.goto(f"{url}/agent")
    table = strings(page)
    assert set(table) == set(LANGUAGES)
    english = set(table["en"])
    for lang in LANGUAGES:
        assert set(table[lang]) == english, f"{lang}: {set(table[lang]) ^ english}"
        assert all(text.strip() for text in table[lang].values()), lang
    for lang in ("ko", "ja"):  # actually translated, not English copied over
        same = {key for key in english if table[lang][key] == table["en"][key]}
        assert same <= {"customer.id"}, f"{lang} still English: {same}"

    used_in_markup = {key for _, key, _ in page.evaluate(MARKED, ATTRIBUTE_MARKERS)}
    script = urllib.request.urlopen(f"{url}/static/agent.js", timeout=10).read().decode()
    used_in_script = set(re.findall(r"\bt\('([a-z_]+(?:\.[a-z_]+)+)'", script))
    assert len(used_in_markup) > 20 and len(used_in_script) > 30
    assert not (used_in_markup | used_in_script) - english
    # the codes agent.js turns into words through "<kind>.<code>" keys
    coded = [
        f"{kind}.{code}"
        for kind, codes in re.findall(r"^\s+(\w+): \[([^\]]*)\],", script, re.MULTILINE)
        for code in re.findall(r"'(\w+)'", codes)
    ]
    assert len(coded) > 20 and not set(coded) - english
    for role in ("customer", "bot", "agent", "system"):
        assert f"role.{role}" in english


MIXED_PASSWORD = "mixed-desk-password-8"
# Agents of this test only: username -> (display name, their console's language).
MIXED_DESK = {"lina": ("Lina", "ko"), "taro": ("Taro", "ja")}
TRANSFER_REASON = "영수증 재발행은 일본 팀이 담당해요"


@pytest.fixture(scope="module")
def mixed_desk(live_stack: Stack) -> dict[str, str]:
    for username, (display_name, _) in MIXED_DESK.items():
        options = ("--display-name", display_name, "--languages", "ko,ja,en")
        add_agent(live_stack.settings, username, MIXED_PASSWORD, *options)
    return {username: language for username, (_, language) in MIXED_DESK.items()}


def test_two_agents_read_the_same_chat_each_in_their_own_language(
    live_stack: Stack, mixed_desk: dict[str, str], console_in: Any
) -> None:
    """An English customer waits: Lina's console (Korean) and Taro's (Japanese) show the
    same row each in its own words. Lina takes it and transfers it to Taro with a reason
    she writes in Korean: her confirmation is Korean, Taro's transfer line is Japanese
    around her words. Taro switches to English; Lina's console stays Korean."""
    url = live_stack.settings.gateway_url
    consoles: dict[str, Page] = {}
    for username, language in mixed_desk.items():
        consoles[username] = console_in(language)
        sign_in(consoles[username], url, username, MIXED_PASSWORD)
        assert_labels_in(consoles[username], language)
    lina, taro = consoles["lina"], consoles["taro"]
    ko, ja = strings(lina)["ko"], strings(taro)["ja"]

    conversation_id = queue_customer(url, "en")
    row = f".queue-item[data-conversation-id='{conversation_id}']"
    for page, words in ((lina, ko), (taro, ja)):
        item = page.locator(row)
        expect(item).to_be_visible(timeout=20_000)
        expect(item.locator(".reason")).to_have_text(words["reason.requested"])
        expect(item.locator("button.accept")).to_have_text(words["queue.accept"])
        assert item.locator(".badge").get_attribute("title") == words["language.en"]

    lina.locator(row).locator("button.accept").click()
    expect(lina.locator("#conversation-state")).to_have_text(ko["state.assigned"])
    expect(taro.locator(row)).to_have_count(0, timeout=10_000)

    lina.click("#transfer-open")
    expect(lina.locator("#transfer-target option[value='agent:taro']")).to_have_count(
        1, timeout=10_000
    )
    lina.select_option("#transfer-target", "agent:taro")
    lina.fill("#transfer-reason", TRANSFER_REASON)
    lina.click("#transfer-submit")
    expect(lina.locator("#notice")).to_have_text(
        ko["transfer.done_agent"].replace("{agent}", "Taro"), timeout=10_000
    )

    wait_until(taro, f"window.maruAgent.selected === '{conversation_id}'")
    expect(taro.locator("#conversation-state")).to_have_text(ja["state.assigned"])
    line = taro.locator("#transcript .msg-transfer .bubble")
    expect(line).to_have_text(
        ja["transfer.line_agent"].replace("{from}", "lina").replace("{reason}", TRANSFER_REASON),
        timeout=10_000,
    )

    taro.select_option("#ui-language", "en")
    assert_labels_in(taro, "en")
    en = strings(taro)["en"]
    expect(line).to_have_text(
        en["transfer.line_agent"].replace("{from}", "lina").replace("{reason}", TRANSFER_REASON)
    )
    lina.reload()
    wait_until(lina, AGENT_CONNECTED)
    assert_labels_in(lina, "ko")

    taro.once("dialog", lambda dialog: dialog.accept())
    taro.click("#resolve")
    expect(taro.locator("#notice")).to_have_text(en["notice.resolved"], timeout=10_000)

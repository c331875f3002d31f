"""Labels in real headless Chromium, in ko, ja and en: an agent takes a chat, puts a label
on it from the open chat's Labels panel (a chip, named in the console language), sees it
on the chat in "my conversations", filters the list by it (and by another label, which
hides the chat), and removes it with the chip's button."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from stack.launcher import Stack
from tests.e2e.isolated import add_agent
from tests.e2e.test_handoff import FLOWS
from tests.e2e.test_handoff_browser import sign_in
from tests.e2e.test_notes_browser import call
from tests.e2e.test_widget_browser import browser  # noqa: F401 - shared fixture

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "labels-browser-password-8"
LOCALES = {"ko": "ko-KR", "ja": "ja-JP", "en": "en-US"}
AGENTS = {language: f"lbl_{language}" for language in LOCALES}


@pytest.fixture(scope="module")
def people(live_stack: Stack) -> dict[str, str]:
    for language, username in AGENTS.items():
        add_agent(live_stack.settings, username, PASSWORD, "--languages", language)
    return dict.fromkeys(AGENTS.values(), PASSWORD)


@pytest.fixture()
def console(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: F811
    language = request.node.callspec.params["language"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=LOCALES[language])
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
def test_set_a_label_and_filter_by_it(
    live_stack: Stack,
    people: dict[str, str],
    console: Page,
    language: str,
    question: str,
    ask_person: str,
    detail: str,
    agent_says: str,
) -> None:
    url = live_stack.settings.gateway_url
    errors: list[str] = []
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(console, url, AGENTS[language], PASSWORD)
    names = {
        label["id"]: label["names"][language]
        for label in call(
            url,
            "GET",
            "/api/agent/labels",
            call(
                url,
                "POST",
                "/api/agent/login",
                body={"username": AGENTS[language], "password": PASSWORD},
            )["token"],
        )
    }
    started = call(url, "POST", "/api/conversations", body={"language": language})
    cid, token = started["conversation_id"], started["token"]
    call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": question})
    call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": ask_person})

    row = console.locator(f".queue-item[data-conversation-id='{cid}']")
    expect(row).to_be_visible(timeout=20_000)
    row.locator("button.accept").click()
    expect(console.locator("#labels-panel")).to_be_visible(timeout=10_000)
    table = console.evaluate(f"window.maruConsoleI18n.STRINGS['{language}']")
    expect(console.locator("#labels-title")).to_have_text(table["labels.title"])

    # add "vip" from the panel: a chip in the language, on the list item too
    console.select_option("#label-add", "vip")
    chip = console.locator("#labels .chip[data-label='vip']")
    expect(chip).to_contain_text(names["vip"], timeout=10_000)
    item = console.locator(f"#my-conversations .conv-item[data-conversation-id='{cid}']")
    expect(item.locator(".chip[data-label='vip']")).to_have_text(names["vip"])
    assert call(url, "GET", f"/api/conversations/{cid}", token).get("labels") is None

    # the filter: by another label the chat is hidden, by its own it shows
    console.select_option("#label-filter", "bug")
    expect(item).to_have_count(0)
    console.select_option("#label-filter", "vip")
    expect(item).to_be_visible()
    console.select_option("#label-filter", "")

    # remove it with the chip's button (named for screen readers)
    remove = chip.locator("button.chip-remove")
    expect(remove).to_have_attribute(
        "aria-label", table["labels.remove"].replace("{name}", names["vip"])
    )
    remove.click()
    expect(console.locator("#labels .chip")).to_have_count(0, timeout=10_000)
    expect(item.locator(".chip")).to_have_count(0)
    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#resolve")
    assert errors == []


COLLEAGUES = {language: (f"lbl2a_{language}", f"lbl2b_{language}") for language in LOCALES}


@pytest.fixture(scope="module")
def colleagues(live_stack: Stack) -> dict[str, tuple[str, str]]:
    for language, pair in COLLEAGUES.items():
        for username in pair:
            add_agent(live_stack.settings, username, PASSWORD, "--languages", language)
    return COLLEAGUES


@pytest.mark.parametrize(("language", "question", "ask_person", "detail", "agent_says"), FLOWS)
def test_a_label_put_on_a_waiting_chat_shows_in_a_colleagues_queue(
    live_stack: Stack,
    colleagues: dict[str, tuple[str, str]],
    browser: Browser,  # noqa: F811
    language: str,
    question: str,
    ask_person: str,
    detail: str,
    agent_says: str,
) -> None:
    """Two agents of the same language in two browser contexts: A labels a chat that waits
    for them both; B's queue shows the label at once, in B's console language, and B's
    filter finds it. B then takes it, and A's queue lets it go."""
    url = live_stack.settings.gateway_url
    first, second = colleagues[language]
    contexts = [
        browser.new_context(viewport={"width": 1280, "height": 900}, locale=LOCALES[language])
        for _ in range(2)
    ]
    try:
        alice, bob = (context.new_page() for context in contexts)
        sign_in(alice, url, first, PASSWORD)
        sign_in(bob, url, second, PASSWORD)
        started = call(url, "POST", "/api/conversations", body={"language": language})
        cid, token = started["conversation_id"], started["token"]
        call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": question})
        call(url, "POST", f"/api/conversations/{cid}/messages", token, {"text": ask_person})
        rows = [page.locator(f".queue-item[data-conversation-id='{cid}']") for page in (alice, bob)]
        for row in rows:
            expect(row).to_be_visible(timeout=20_000)
        expect(rows[1].locator(".chip")).to_have_count(0)

        # A labels the waiting chat (any agent who could take it may) over the API
        alice_token = call(
            url, "POST", "/api/agent/login", body={"username": first, "password": PASSWORD}
        )["token"]
        names = {
            label["id"]: label["names"][language]
            for label in call(url, "GET", "/api/agent/labels", alice_token)
        }
        call(
            url,
            "PUT",
            f"/api/agent/conversations/{cid}/labels",
            alice_token,
            {"labels": ["urgent"]},
        )
        chip = rows[1].locator(".chip[data-label='urgent']")
        expect(chip).to_have_text(names["urgent"], timeout=10_000)
        bob.select_option("#label-filter", "refund")
        expect(rows[1]).to_have_count(0)
        bob.select_option("#label-filter", "urgent")
        expect(rows[1]).to_be_visible()

        rows[1].locator("button.accept").click()
        expect(bob.locator("#labels .chip[data-label='urgent']")).to_be_visible(timeout=10_000)
        expect(rows[0]).to_have_count(0, timeout=10_000)
        bob.once("dialog", lambda dialog: dialog.accept())
        bob.click("#resolve")
    finally:
        for context in contexts:
            context.close()

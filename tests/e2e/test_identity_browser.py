"""The agent console labels the customer's identity verified or unverified, as text."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from handoff.customer.identity import signed_fields
from stack.launcher import Stack
from tests.e2e.test_handoff_browser import sign_in
from tests.e2e.test_widget_browser import (
    CHROMIUM_ARGS,  # noqa: F401 - same launch flags
    browser,  # noqa: F401 - shared fixture
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture()
def console(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def _post(url: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def _waiting_chat(url: str, body: dict[str, Any]) -> str:
    started = _post(f"{url}/api/conversations", {"language": "en", **body})
    conversation_id, token = started["conversation_id"], started["token"]
    said = _post(
        f"{url}/api/conversations/{conversation_id}/messages", {"text": "talk to a human"}, token
    )
    assert said["state"] == "queued", said
    return str(conversation_id)


def _accept_and_resolve(console: Page, conversation_id: str, label: str) -> None:
    item = console.locator(f".queue-item[data-conversation-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(console.locator("#context-customer .identity")).to_have_text(label, timeout=10_000)
    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#resolve")
    expect(item).to_be_hidden(timeout=10_000)


def test_the_console_says_whether_the_site_vouched_for_the_customer(
    live_stack: Stack, agents: dict[str, str], console: Page
) -> None:
    url = live_stack.settings.gateway_url
    sign_in(console, url, "alice", agents["alice"])

    typed = _waiting_chat(url, {"customer": {"name": "<b>Mina</b>", "email": "m@example.com"}})
    _accept_and_resolve(console, typed, "Unverified: typed by the customer")

    customer = {"id": f"c-{uuid.uuid4().hex}", "name": "山田花子"}
    signed = _waiting_chat(url, signed_fields(live_stack.settings.identity_secret, customer, 600))
    _accept_and_resolve(console, signed, "Verified by the site")
    expect(console.locator("#context-customer dd").first).to_have_text("山田花子")


def test_a_typed_name_is_shown_as_text(
    live_stack: Stack, agents: dict[str, str], console: Page
) -> None:
    url = live_stack.settings.gateway_url
    sign_in(console, url, "alice", agents["alice"])
    name = "<img src=x onerror=\"document.title='pwned'\">"
    chat = _waiting_chat(url, {"customer": {"name": name}})
    item = console.locator(f".queue-item[data-conversation-id='{chat}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("button.accept").click()
    expect(console.locator("#context-customer dd").first).to_have_text(name, timeout=10_000)
    assert console.locator("#context-customer img").count() == 0
    assert console.title() != "pwned"
    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#resolve")

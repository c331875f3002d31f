"""The widget under the web edge, in Chromium: no CSP violation, and a customer over the
message limit is asked to slow down (a module of its own: the sync browser API and the
async tests of tests/e2e/test_web_edge.py do not share a module)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_web_edge import strict_gateway  # noqa: F401 - the fixture
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    page,  # noqa: F401 - shared fixture
    send,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_widget_asks_a_fast_sender_to_slow_down(
    strict_gateway: str,  # noqa: F811 - the fixture
    page: Page,  # noqa: F811 - the fixture
) -> None:
    """Under the CSP (no violation reported), over the limit: the refused bubble is
    marked not sent, not resent, and the customer is asked to slow down."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{strict_gateway}/?lang=en")
    wait_until(page, CONNECTED, timeout=60)  # may wait out the address limit
    for text in ("one", "two", "three", "four"):
        send(page, text)
    expect(page.locator("#error")).to_contain_text("sending messages very fast", timeout=20_000)
    expect(page.locator("#messages .msg-customer[data-failed]")).to_have_count(2)
    assert page.evaluate("JSON.parse(localStorage.getItem('maru-chat-outbox')).entries") == []
    assert not blocked

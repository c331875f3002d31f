"""Issue 14 item 10 in real headless Chromium, in ko, ja and en: a team open around the
clock, but closed today by a company closure on top of its country's public holidays
(`holidays: {country: KR, closed: [...]}` in coverage.yml, the `holidays` package
beneath). A customer who asks for a person is told the team is away and when it is back,
in their language, and leaves a message that becomes a ticket: the offline path works on a
closed day with no yearly edit of the hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from playwright.sync_api import Page, expect

from handoff.customer.texts import load_texts
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT
from tests.e2e.isolated import gateway_beside
from tests.e2e.test_handoff_browser import send
from tests.e2e.test_tickets_browser import ASK_PERSON, CONTACT
from tests.e2e.test_widget_browser import (
    CONNECTED,
    browser,  # noqa: F401 - shared fixture
    page,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")
SEOUL = ZoneInfo("Asia/Seoul")


def closed_today(path: Path) -> Path:
    """Hours of every day, closed today and tomorrow in Seoul (so midnight during the
    test changes nothing) by one-off company closures."""
    today = datetime.now(SEOUL).date()
    week = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    team = {
        "time_zone": "Asia/Seoul",
        "hours": week,
        "holidays": {
            "country": "KR",
            "closed": [str(today), str(today + timedelta(days=1))],
        },
        "contact": {"email": "support@maru-store.example"},
    }
    path.write_text(yaml.safe_dump({"teams": {"default": team}}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def closed_gateway(live_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("holiday-gateway")
    coverage = closed_today(state / "coverage.yml")
    with gateway_beside(
        live_stack.settings, state, "holiday-gateway", coverage_path=coverage
    ) as url:
        yield url


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
def test_a_closed_day_sends_the_customer_to_the_offline_message(
    closed_gateway: str,
    page: Page,  # noqa: F811
    language: str,
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{closed_gateway}/?lang={language}")
    wait_until(page, CONNECTED)
    send(page, "#input", "#send", ASK_PERSON[language])
    # "away right now and back {reopening}": the words before the reopening time
    away = TEXTS.say("closed", language, reopening="\0").split("\0")[0]
    expect(page.locator("#messages .msg-system").last).to_contain_text(away, timeout=30_000)
    send(page, "#input", "#send", CONTACT[language])
    expect(page.locator("#messages .msg-system").last).to_contain_text("#", timeout=20_000)
    assert not errors, errors

"""Unanswered topics on the real stack: customers ask what the KB cannot answer in
Korean, Japanese and English; the supervisor's topics (grouped by the action server's
embedder) hold those questions with article drafts in the KB format; agents get 403;
the analytics page draws the topics."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from playwright.sync_api import Browser, Page

from kb_index.articles import load_kb
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer
from tests.e2e.test_analytics import SUPERVISOR_PASSWORD, supervisor  # noqa: F401 - fixture
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = pytest.mark.e2e

# Nothing in the KB says anything about the snow in Sapporo.
OUT_OF_SCOPE = {
    "ko": "다음 주말에 삿포로에 눈 많이 와요?",
    "ja": "来週末の札幌は雪がたくさん降りますか",
    "en": "will it snow a lot in Sapporo next weekend?",
}


def recorded(stack: Stack, conversation_id: str) -> list[dict[str, Any]]:
    path = stack.settings.unanswered_path
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entries = [json.loads(line) for line in lines]
    return [e for e in entries if e.get("conversation_id") == conversation_id]


async def _ask(url: str) -> dict[str, tuple[str, Any]]:
    """One new customer per question (the per-conversation rate limit);
    language -> (conversation id, the bot's reply)."""
    asked = {}
    async with aiohttp.ClientSession() as session:
        for language, text in OUT_OF_SCOPE.items():
            customer = await Customer(session, url).start(language)
            reply = await customer.say(text)
            assert reply["state"] == "bot", reply
            asked[language] = (customer.conversation_id, reply)
    return asked


@pytest.fixture(scope="module")
def out_of_scope(live_stack: Stack) -> dict[str, str]:
    asked = asyncio.run(_ask(live_stack.settings.gateway_url))
    for language, (conversation_id, reply) in asked.items():
        # abstain or clarify: either is kept for designers, with the masked wording. A
        # message the bot was too busy for is kept and answered when it can (`pending`).
        deadline = time.monotonic() + (90 if reply.get("pending") else 5)
        while not (entries := recorded(live_stack, conversation_id)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(entries) == 1, (language, reply, entries)
        assert entries[0]["query"] == OUT_OF_SCOPE[language]
        assert entries[0]["language"] == language
    return {language: conversation_id for language, (conversation_id, _) in asked.items()}


async def _topics(
    session: aiohttp.ClientSession, url: str, token: str, query: str = ""
) -> tuple[int, Any]:
    async with session.get(
        f"{url}/api/agent/analytics/topics{query}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=aiohttp.ClientTimeout(total=90),
    ) as r:
        if r.content_type == "application/json":
            return r.status, await r.json()
        return r.status, await r.text()


async def test_topics_hold_the_unanswered_questions_with_drafts(
    live_stack: Stack,
    agents: dict[str, str],
    supervisor: str,  # noqa: F811
    out_of_scope: dict[str, str],
    tmp_path: Path,
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        alice = await AgentClient(session, url).login("alice", agents["alice"])
        status, body = await _topics(session, url, alice.token)
        assert status == 403 and body["error"]["code"] == "supervisors_only"
        lead = await AgentClient(session, url).login(supervisor, SUPERVISOR_PASSWORD)
        status, body = await _topics(session, url, lead.token, "?language=de")
        assert status == 400 and "language" in body["error"]["message"]

        # Per language, so that other tests' questions cannot crowd out the examples.
        for language, text in OUT_OF_SCOPE.items():
            status, report = await _topics(session, url, lead.token, f"?language={language}")
            assert status == 200, report
            assert report["language"] == language and report["questions"] >= 1
            [topic] = [t for t in report["topics"] if text in t["examples"]]
            assert set(topic["languages"]) == {language}
            # unanswered kinds, never feedback (other tests' questions may share the topic)
            assert set(topic["kinds"]) <= {"abstain", "not_covered", "clarify"}
            # the topic's draft is a KB file whose questions are the customers' wordings
            draft = tmp_path / f"{language}.yml"
            draft.write_text(topic["draft"], encoding="utf-8")
            [article] = load_kb(tmp_path)
            draft.unlink()
            assert article.id == topic["id"] and text in article.questions[language]

        status, report = await _topics(session, url, lead.token)
        assert status == 200 and report["language"] == "all"
        assert report["questions"] >= len(OUT_OF_SCOPE)
        assert sum(t["size"] for t in report["topics"]) <= report["questions"]
        everything = tmp_path / "all.yml"
        status, drafts = await _topics(session, url, lead.token, "?format=yaml")
        assert status == 200 and drafts == report["drafts"]
        everything.write_text(drafts, encoding="utf-8")
        assert [a.id for a in load_kb(tmp_path)] == [t["id"] for t in report["topics"]]
        status, table = await _topics(session, url, lead.token, "?format=csv")
        assert status == 200 and table.startswith("rank,draft_id,size,languages")


@pytest.mark.browser
def test_the_page_shows_the_topics(
    live_stack: Stack,
    supervisor: str,  # noqa: F811
    out_of_scope: dict[str, str],
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_stack.settings.gateway_url}/agent/analytics")
        page.fill("#username", supervisor)
        page.fill("#password", SUPERVISOR_PASSWORD)
        page.click("#login-button")
        wait_until(page, "window.maruTopics && window.maruTopics.loaded === true", 90)
        assert page.locator("#topics-table tbody tr").count() >= 1
        bars = page.evaluate(
            """() => Chart.getChart(document.getElementById('chart-topics'))
                .data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0)"""
        )
        assert bars >= 1
        # Korean only: the Korean question is in the table
        page.select_option("#language", "ko")
        page.click("#apply")
        wait_until(page, "window.maruTopics && window.maruTopics.loaded === true", 90)
        assert OUT_OF_SCOPE["ko"] in page.locator("#topics-table").inner_text()
        # a topic's draft downloads as a KB file
        with page.expect_download() as download_info:
            page.locator("#topics-table button.draft").first.click()
        path = download_info.value.path()
        assert path is not None
        assert "articles" in yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        # and the whole table as CSV, from the API
        with page.expect_download() as download_info:
            page.click("#topics-csv")
        csv_path = download_info.value.path()
        assert csv_path is not None
        assert Path(csv_path).read_text(encoding="utf-8").startswith("rank,draft_id,size")
        assert errors == []
    finally:
        context.close()

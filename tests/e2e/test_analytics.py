"""Supervisor analytics on the real stack: who may read them, that a real conversation
shows up in them (the action server's verdicts included), and the page draws them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Browser, Page

from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, handed_to
from tests.e2e.isolated import add_agent
from tests.e2e.test_widget_browser import (
    browser,  # noqa: F401 - shared fixture
    wait_until,
)

pytestmark = pytest.mark.e2e

SUPERVISOR_PASSWORD = "supervisor-password-1"
CHARTS = (
    "outcomes",
    "handoff_reasons",
    "first_reply_wait",
    "handle_time",
    "csat",
    "bot_decisions",
    "articles",
    "labels",
)


@pytest.fixture(scope="module")
def supervisor(live_stack: Stack) -> str:
    """`lead`, created the documented way: `agents add lead --role supervisor`."""
    add_agent(live_stack.settings, "lead", SUPERVISOR_PASSWORD, "--role", "supervisor")
    return "lead"


async def _one_of_everything(url: str, agent_password: str) -> str:
    """A question the KB answers, "that helped", a person, a reply (and the label
    "refund"), resolved, rated 5."""
    async with aiohttp.ClientSession() as session:
        agent = await AgentClient(session, url).login("alice", agent_password)
        customer = await Customer(session, url).start("en")
        answered = await customer.say("how long does shipping take")
        assert answered["state"] == "bot", answered
        await customer.say("yes", payload="/affirm")
        await handed_to(agent, customer, "talk to a human")
        labelled, _ = await agent.call(
            "PUT",
            f"/api/agent/conversations/{customer.conversation_id}/labels",
            {"labels": ["refund"]},
        )
        assert labelled == 200
        await asyncio.sleep(1.2)  # waits and handle times count in whole seconds
        assert (await agent.write(customer.conversation_id, "happy to help"))[0] == 201
        await asyncio.sleep(1.2)
        assert (await agent.resolve(customer.conversation_id))[0] == 200
        await customer.say("5", payload='/rate{"rating": "5"}')
        return customer.conversation_id


@pytest.fixture(scope="module")
def traffic(live_stack: Stack, agents: dict[str, str]) -> str:
    return asyncio.run(_one_of_everything(live_stack.settings.gateway_url, agents["alice"]))


async def _get(
    session: aiohttp.ClientSession, url: str, token: str | None, query: str = ""
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.get(f"{url}/api/agent/analytics{query}", headers=headers) as r:
        if r.content_type == "application/json":
            return r.status, await r.json()
        return r.status, await r.text()


async def test_analytics_are_for_supervisors_only(
    live_stack: Stack, agents: dict[str, str], supervisor: str
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        status, body = await _get(session, url, None)
        assert status == 401 and body["error"]["code"] == "unauthorized"
        status, body = await _get(session, url, "not-a-session")
        assert status == 401
        alice = await AgentClient(session, url).login("alice", agents["alice"])
        status, body = await _get(session, url, alice.token)
        assert status == 403 and body["error"]["code"] == "supervisors_only"
        lead = await AgentClient(session, url).login(supervisor, SUPERVISOR_PASSWORD)
        status, body = await _get(session, url, lead.token, "?from=2026-02-30")
        assert status == 400 and "not a date" in body["error"]["message"]
        status, body = await _get(session, url, lead.token, "?language=fr")
        assert status == 400 and "language" in body["error"]["message"]


async def test_a_real_conversation_shows_up(
    live_stack: Stack, supervisor: str, traffic: str
) -> None:
    url = live_stack.settings.gateway_url
    today = datetime.now(UTC).date().isoformat()
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login(supervisor, SUPERVISOR_PASSWORD)
        status, report = await _get(
            session, url, lead.token, f"?from={today}&to={today}&language=en"
        )
        assert status == 200, report
        figures = report["figures"]

        def total(name: str, **keys: str) -> dict[str, Any]:
            [row] = [
                r
                for r in figures[name]
                if r["day"] == "all"
                and r["language"] == "all"
                and all(r[k] == v for k, v in keys.items())
            ]
            return row

        assert total("outcomes")["agent_resolved"] >= 1
        assert total("handoff_reasons", reason="requested")["handoffs"] >= 1
        assert total("first_reply_wait")["p50"] >= 1
        assert total("handle_time")["p50"] >= 1
        assert total("csat", agent="alice")["r5"] >= 1
        assert total("bot_decisions")["answer"] >= 1
        # "that helped" came back from the action server and was stored with the reply
        shipping = total("articles", article_id="shipping_time")
        assert shipping["shown"] >= 1 and shipping["helpful"] >= 1
        assert shipping["title"]
        assert total("labels", label="refund")["conversations"] >= 1
        assert set(report["definitions"]) == set(CHARTS)

        status, csv_text = await _get(
            session, url, lead.token, f"?from={today}&to={today}&format=csv&figure=csat"
        )
        assert status == 200
        assert csv_text.splitlines()[0].startswith("day,language,agent,asked")
        assert any(",alice," in line for line in csv_text.splitlines())


async def test_labels_count_the_conversations_that_carry_them(
    live_stack: Stack, supervisor: str
) -> None:
    """Two conversations (ko, ja) labelled by a supervisor: each label's count grows by
    its conversations, per language and in all; names in ko, ja and en; the share is over
    every counted conversation; the CSV has the same rows. Counted as a change, since the
    stack's other tests label conversations too."""
    url = live_stack.settings.gateway_url
    today = datetime.now(UTC).date().isoformat()
    query = f"?from={today}&to={today}"
    async with aiohttp.ClientSession() as session:
        lead = await AgentClient(session, url).login(supervisor, SUPERVISOR_PASSWORD)

        async def counts() -> tuple[dict[tuple[str, str], int], dict[str, Any]]:
            status, report = await _get(session, url, lead.token, query)
            assert status == 200, report
            rows = report["figures"]["labels"]
            found = {
                (r["label"], r["language"]): r["conversations"] for r in rows if r["day"] == "all"
            }
            return found, report

        before, _ = await counts()
        korean = await Customer(session, url).start("ko")
        await korean.say("환불은 언제 받을 수 있어요")
        japanese = await Customer(session, url).start("ja")
        await japanese.say("返金っていつされますか")
        for customer, labels in ((korean, ["vip", "refund"]), (japanese, ["refund"])):
            status, body = await lead.call(
                "PUT",
                f"/api/agent/conversations/{customer.conversation_id}/labels",
                {"labels": labels},
            )
            assert status == 200, body
        after, report = await counts()

        def grew(label: str, language: str) -> int:
            return after.get((label, language), 0) - before.get((label, language), 0)

        assert grew("refund", "ko") == 1 and grew("refund", "ja") == 1
        assert grew("refund", "all") == 2
        assert grew("vip", "ko") == 1 and grew("vip", "ja") == 0 and grew("vip", "all") == 1
        [refund] = [
            r
            for r in report["figures"]["labels"]
            if (r["day"], r["language"], r["label"]) == ("all", "all", "refund")
        ]
        assert (refund["name_ko"], refund["name_ja"], refund["name_en"]) == (
            "환불",
            "返金",
            "Refund",
        )
        [everything] = [
            r for r in report["figures"]["outcomes"] if (r["day"], r["language"]) == ("all", "all")
        ]
        assert refund["share"] == round(refund["conversations"] / everything["conversations"], 4)
        assert 0 < refund["share"] <= 1

        status, csv_text = await _get(
            session, url, lead.token, f"{query}&format=csv&figure=labels&language=ko"
        )
        assert status == 200
        lines = csv_text.splitlines()
        assert lines[0].startswith("day,language,label,conversations,share")
        assert any(line.startswith("all,all,vip,") and ",VIP," in line for line in lines)


@pytest.mark.browser
def test_the_page_draws_every_chart(
    live_stack: Stack,
    supervisor: str,
    traffic: str,
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
        wait_until(page, "window.maruAnalytics && window.maruAnalytics.loaded === true")
        for name in CHARTS:
            drawn = page.evaluate(
                """(id) => {
                    const chart = Chart.getChart(document.getElementById(id));
                    if (!chart) return null;
                    return chart.data.datasets.map((d) => d.data.reduce(
                        (sum, v) => sum + (Number.isFinite(v) ? v : 0), 0));
                }""",
                f"chart-{name}",
            )
            assert drawn is not None, f"no chart drawn for {name}"
            assert sum(drawn) > 0, f"{name} has no data: {drawn}"
            rows = page.locator(f"#figure-{name} table tbody tr").count()
            assert rows >= 1, f"no table beside {name}"
        # CSV export: a real download of the table's rows
        with page.expect_download() as download_info:
            page.click("#figure-outcomes button.csv")
        path = download_info.value.path()
        assert path is not None
        with open(path, encoding="utf-8") as exported:
            assert exported.readline().startswith("day,language,conversations")
        # the live view: the queue and the agents, from the service's state
        wait_until(page, "document.querySelectorAll('#live-agents tbody tr').length > 0")
        assert "alice" in page.locator("#live-agents").inner_text()
        # signing out goes back to the sign-in form
        page.click("#sign-out")
        wait_until(page, "!document.getElementById('login-view').hidden")
        assert errors == []
    finally:
        context.close()

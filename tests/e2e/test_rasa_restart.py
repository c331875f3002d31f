"""Rasa keeps its trackers in a file: a crash and restart of Rasa mid-conversation keeps
the conversation's language, the pending "did that help?" and a handoff pause."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from common.language import detect_language
from kb_index.articles import Article
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, accepted

pytestmark = pytest.mark.e2e


async def rasa_tracker(stack: Stack, session: aiohttp.ClientSession, sender: str) -> dict[str, Any]:
    async with session.get(
        f"{stack.settings.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.settings.rasa_auth_token},
    ) as r:
        assert r.status == 200
        tracker: dict[str, Any] = await r.json()
        return tracker


async def test_the_dialogue_goes_on_after_rasa_crashes(
    live_stack: Stack, kb_articles: dict[str, Article]
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        answer = (await customer.say("届くまで何日かかりますか"))["replies"]
        assert answer[0]["text"] == kb_articles["shipping_time"].answer_in("ja")
        assert answer[-1]["buttons"][-1]["payload"] == "/deny"  # "did that help?"

        live_stack.crash("rasa")

        tracker = await rasa_tracker(live_stack, session, customer.conversation_id)
        assert tracker["slots"]["language"] == "ja"
        # "No" still refers to the answer given before the crash: other articles, in Japanese.
        [options] = (await customer.say("いいえ"))["replies"]
    assert detect_language(options["text"]) == "ja"
    payloads = [b["payload"] for b in options["buttons"]]
    assert any("choose_article" in p for p in payloads)
    assert not any("shipping_time" in p for p in payloads)


async def test_a_handoff_pause_survives_a_rasa_crash(
    live_stack: Stack, agents: dict[str, str]
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start()
        await customer.ask_for_a_person("상담원 연결해 주세요")
        assert (await rasa_tracker(live_stack, session, customer.conversation_id))["paused"]

        live_stack.crash("rasa")

        assert (await rasa_tracker(live_stack, session, customer.conversation_id))["paused"]
        agent = await AgentClient(session, url).login("alice", agents["alice"])
        await accepted(agent, customer)
        assert (await agent.resolve(customer.conversation_id))[0] == 200
        last = (await customer.transcript())["messages"][-1]
        assert not (await rasa_tracker(live_stack, session, customer.conversation_id))["paused"]
    assert last["role"] == "bot"
    assert detect_language(last["text"]) == "ko"
    assert any(b["payload"].startswith("/rate") for b in last["buttons"])

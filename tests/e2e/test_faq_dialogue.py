"""Clarify, "did that help?", unanswered questions and live KB edits, on the real stack."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from bot.language import detect_language
from kb_index.articles import Article
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer

pytestmark = pytest.mark.e2e

NOT_HELPFUL = {"ko": "아니요", "ja": "いいえ", "en": "no"}


def choices(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in reply.get("buttons", [])]


def unanswered(stack: Stack) -> list[dict[str, Any]]:
    path = stack.settings.unanswered_path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("ko", "배송 얼마나 걸려요?"),
        ("ja", "届くまで何日かかりますか"),
        ("en", "how long does delivery take"),
    ],
)
async def test_no_after_an_answer_offers_other_articles_then_a_person(
    live_stack: Stack,
    agents: dict[str, str],
    kb_articles: dict[str, Article],
    language: str,
    question: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        answer = (await customer.say(question))["replies"]
        assert answer[0]["text"] == kb_articles["shipping_time"].answer_in(language)

        [options] = (await customer.say(NOT_HELPFUL[language]))["replies"]
        assert detect_language(options["text"]) == language
        payloads = choices(options)
        assert payloads[-1] == "/deny"  # "none of these"
        assert all("choose_article" in p for p in payloads[:-1]) and len(payloads) >= 2
        assert not any("shipping_time" in p for p in payloads)  # not the one that failed

        # picking an option answers that article
        picked = payloads[0]
        article_id = picked.split('"kb_article": "')[1].rstrip('"}')
        chosen = (await customer.say(options["buttons"][0]["title"], payload=picked))["replies"]
        assert chosen[0]["text"] == kb_articles[article_id].answer_in(language)

        # a second "no" hands the chat to a person
        agent = await AgentClient(session, live_stack.settings.gateway_url).login(
            "alice", agents["alice"]
        )
        handover = await customer.say(NOT_HELPFUL[language])
        queue = await agent.queue()
    assert handover["state"] == "queued"
    assert all(detect_language(r["text"]) == language for r in handover["replies"])
    [item] = [i for i in queue if i["conversation_id"] == customer.conversation_id]
    assert item["reason"] == "not_helpful"
    kinds = [
        e["kind"]
        for e in unanswered(live_stack)
        if e["conversation_id"] == customer.conversation_id
    ]
    assert kinds == ["not_helpful", "not_helpful"]


@pytest.mark.parametrize(
    ("language", "question"),
    # One bare keyword: policy, how to return, or who pays for it?
    [("ko", "반품"), ("ja", "返品"), ("en", "return")],
)
async def test_vague_question_gets_options_and_none_of_these_offers_a_person(
    live_stack: Stack, language: str, question: str
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        [clarify] = (await customer.say(question))["replies"]
        assert detect_language(clarify["text"]) == language
        assert len(choices(clarify)) >= 3 and choices(clarify)[-1] == "/deny"
        # every option is about returns, titled in the customer's language
        assert all(detect_language(b["title"]) in {language, None} for b in clarify["buttons"])
        [offer] = (await customer.say(clarify["buttons"][-1]["title"], payload="/deny"))["replies"]
    assert "/request_human" in choices(offer)
    kinds = [
        e["kind"]
        for e in unanswered(live_stack)
        if e["conversation_id"] == customer.conversation_id
    ]
    assert kinds == ["clarify", "none_of_these"]


async def test_abstain_is_recorded_for_designers(live_stack: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        await customer.say("明日の大阪の天気を教えて")
    [entry] = [
        e for e in unanswered(live_stack) if e["conversation_id"] == customer.conversation_id
    ]
    assert entry["kind"] == "abstain"
    assert entry["query"] == "明日の大阪の天気を教えて"
    assert entry["language"] == "ja"
    assert entry["candidates"] and "score" in entry["candidates"][0]


async def test_kb_edit_goes_live_without_retraining_or_restart(live_stack: Stack) -> None:
    kb_file = live_stack.settings.kb_dir / "shipping.yml"
    original = kb_file.read_text(encoding="utf-8")
    edited = original.replace(
        "ご注文は1営業日以内に発送されます。", "ご注文は当日中に発送されます。", 1
    )
    assert edited != original
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        kb_file.write_text(edited, encoding="utf-8")
        try:
            deadline = time.monotonic() + 30
            while True:
                reply = (await customer.say("配送に何日かかりますか"))["replies"][0]["text"]
                if "当日中に発送" in reply or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert "当日中に発送" in reply

            # a broken edit is refused and the last good index keeps answering
            kb_file.write_text(edited.replace("articles:", "articles: [", 1), encoding="utf-8")
            await asyncio.sleep(3)
            reply = (await customer.say("配送に何日かかりますか"))["replies"][0]["text"]
            assert "当日中に発送" in reply
        finally:
            kb_file.write_text(original, encoding="utf-8")
    assert "broken YAML" in live_stack.tail("kb-watch", 50)

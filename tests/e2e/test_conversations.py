"""Conversations in ko, ja and en against the real stack, over HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from common.language import detect_language
from kb_index.articles import Article
from stack.launcher import Stack
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("language", "greeting"),
    [("ko", "안녕하세요"), ("ja", "こんにちは"), ("en", "hi"), ("ko", "ㅎㅇ"), ("ja", "ども")],
)
async def test_greeting_is_answered_in_the_same_language(
    gateway_url: str, language: str, greeting: str
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        result = await customer.say(greeting)
    assert result["state"] == "bot"
    [reply] = result["replies"]
    assert reply["role"] == "bot"
    assert detect_language(reply["text"]) == language


FAQ_QUESTIONS = [
    ("ko", "배송 보통 며칠 걸려요?", "shipping_time"),
    ("ja", "届くまで何日くらいかかりますか", "shipping_time"),
    ("en", "how many days does delivery take", "shipping_time"),
    ("ko", "환불은 언제 받을 수 있어요", "refund_timing"),
    ("ja", "返金っていつされますか", "refund_timing"),
    ("en", "when do i get my refund", "refund_timing"),
    ("ko", "비밀번호를 잊어버렸어요", "reset_password"),
    ("ja", "パスワード忘れちゃった", "reset_password"),
    ("en", "i forgot my password", "reset_password"),
]


@pytest.mark.parametrize(("language", "question", "article_id"), FAQ_QUESTIONS)
async def test_faq_is_answered_from_the_kb_in_the_customers_language(
    gateway_url: str,
    kb_articles: dict[str, Article],
    language: str,
    question: str,
    article_id: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        replies = (await customer.say(question))["replies"]
    assert replies[0]["text"] == kb_articles[article_id].answer_in(language)
    # then the bot asks whether it helped, with yes/no buttons in that language
    assert detect_language(replies[1]["text"]) == language
    assert [b["payload"] for b in replies[1]["buttons"]] == ["/affirm", "/deny"]


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("ko", "내일 서울 날씨 어때요?"),
        ("ja", "明日の東京の天気はどうですか"),
        ("en", "who won the football world cup in 2010"),
        # Small talk. Before the chitchat intent these read as a complaint (handed to
        # a person), a goodbye and a bot challenge; none is an NLU training example.
        ("ko", "ㅋㅋㅋ 너 웃기다"),
        ("ko", "요즘 볼만한 드라마 추천"),
        ("ko", "ㅋㅋ 심심한데 농담 좀"),  # bored: read as a complaint until boredom was taught
        ("ja", "猫と犬どっちが好き？"),
        ("en", "sing me a song"),
        ("en", "lets play a game"),
    ],
)
async def test_out_of_kb_question_is_told_not_covered(
    gateway_url: str, kb_articles: dict[str, Article], language: str, question: str
) -> None:
    every_answer = {a for article in kb_articles.values() for a in article.answers.values()}
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        result = await customer.say(question)
    assert result["state"] == "bot", "one question the KB cannot answer does not queue the chat"
    replies = result["replies"]
    assert replies, "the customer must never get silence"
    assert not {r["text"] for r in replies} & every_answer
    assert detect_language(replies[0]["text"]) == language
    # the honest "I can't answer that", with a person one click away
    assert [b["payload"] for b in replies[0].get("buttons", [])] == ["/request_human"]


async def test_language_follows_the_customer_mid_conversation(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start(language="en")
        english = (await customer.say("hello there"))["replies"][0]["text"]
        korean = (await customer.say("안녕하세요"))["replies"][0]["text"]
        # "ok" carries no language: the conversation stays Korean
        still_korean = (await customer.say("ok"))["replies"][0]["text"]
    assert detect_language(english) == "en"
    assert detect_language(korean) == "ko"
    assert detect_language(still_korean) == "ko"


async def test_button_payload_is_sent_as_an_intent(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start()
        await customer.say("配送料はいくらですか")
        result = await customer.say("はい", payload="/affirm")
        transcript = await customer.transcript()
    assert detect_language(result["replies"][0]["text"]) == "ja"
    # the customer's button click is stored with its title, as they saw it
    assert transcript["messages"][-2]["text"] == "はい"


async def test_transcript_keeps_every_message_in_order(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, gateway_url).start(language="ko", name="김민지")
        await customer.say("안녕하세요")
        await customer.say("환불 언제 돼요?")
        transcript = await customer.transcript()
    messages = transcript["messages"]
    assert transcript["state"] == "bot"
    assert transcript["language"] == "ko"
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert [m["role"] for m in messages][:2] == ["customer", "bot"]
    assert messages[2] == {**messages[2], "role": "customer", "text": "환불 언제 돼요?"}
    assert all(m["ts"].endswith("Z") for m in messages)


async def test_readiness_reports_every_part_up(gateway_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{gateway_url}/readyz") as r:
            assert r.status == 200
            body = await r.json()
        async with session.get(f"{gateway_url}/healthz") as alive:
            assert alive.status == 200
            assert (await alive.json()) == {"status": "alive"}
    assert body["parts"] == {"gateway": "up", "store": "up", "rasa": "up", "actions": "up"}
    assert body["down"] == []


async def test_openapi_document_describes_the_customer_api(gateway_url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway_url}/api/openapi.json") as r,
    ):
        document = await r.json()
    assert document["openapi"].startswith("3.")
    assert {
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/conversations/{conversation_id}/messages",
        "/healthz",
        "/readyz",
    } <= set(document["paths"])


async def test_openapi_document_lists_every_api_route(live_stack: Stack) -> None:
    """The document and the routes must not drift apart."""
    from handoff.web.app import create_app

    app = create_app(live_stack.settings)
    routes = {
        r.resource.canonical
        for r in app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith("/api/")
        and not r.resource.canonical.endswith("/ws")
        and r.resource.canonical != "/api/openapi.json"
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{live_stack.settings.gateway_url}/api/openapi.json") as r,
    ):
        documented = set((await r.json())["paths"])
    assert routes == documented - {"/healthz", "/readyz", "/metrics"}

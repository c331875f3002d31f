"""Clarify, "did that help?", unanswered questions and live KB edits, on the real stack."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from common.language import detect_language
from kb_index import unanswered as records
from kb_index.articles import Article
from kb_index.embedders import Embedder
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer

pytestmark = pytest.mark.e2e

NOT_HELPFUL = {"ko": "아니요", "ja": "いいえ", "en": "no"}


def choices(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in reply.get("buttons", [])]


async def first_reply(stack: Stack, question: str) -> tuple[str, dict[str, Any]]:
    """A new conversation's reply to `question`, with the conversation's id."""
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, stack.settings.gateway_url).start()
        return customer.conversation_id, await customer.say(question)


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


def article_choices(replies: list[dict[str, Any]]) -> list[str]:
    return [p for r in replies for p in choices(r) if "choose_article" in p]


@pytest.mark.parametrize(
    ("language", "question"),
    # One bare keyword: policy, how to return, or who pays for it?
    [("ko", "반품"), ("ja", "返品"), ("en", "return")],
)
async def test_a_vague_question_is_never_a_single_guess(
    live_stack: Stack, language: str, question: str
) -> None:
    """Options to pick from, or an answer with the close runners-up as "related"
    buttons: either way the other return articles are one click away."""
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        replies = (await customer.say(question))["replies"]
    assert detect_language(replies[0]["text"]) == language
    offered = article_choices(replies)
    assert len(offered) >= 2 or (len(offered) >= 1 and replies[0]["role"] == "bot")
    titles = [b["title"] for r in replies for b in r.get("buttons", [])]
    assert all(detect_language(t) in {language, None} for t in titles)


@pytest.mark.parametrize(
    ("language", "question"), [("ko", "반품"), ("ja", "返品"), ("en", "return")]
)
async def test_none_of_these_after_options_offers_a_person(
    live_stack: Stack, language: str, question: str, embedder: Embedder
) -> None:
    """Options come either at once (a clarify) or after "no" to an answer; "none of
    these" then offers a person, and both steps are recorded for designers."""
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        first = (await customer.say(question))["replies"]
        if article_choices(first) and choices(first[-1])[-1:] == ["/deny"] and len(first) == 1:
            [options], expected_kinds = first, ["clarify", "none_of_these"]
        else:  # answered: "no" brings the other candidates
            [options] = (await customer.say(NOT_HELPFUL[language]))["replies"]
            expected_kinds = ["not_helpful", "none_of_these"]
        assert detect_language(options["text"]) == language
        assert len(choices(options)) >= 2 and choices(options)[-1] == "/deny"
        [offer] = (await customer.say(options["buttons"][-1]["title"], payload="/deny"))["replies"]
    assert detect_language(offer["text"]) == language
    assert "/request_human" in choices(offer)
    kinds = [
        e["kind"]
        for e in unanswered(live_stack)
        if e["conversation_id"] == customer.conversation_id
    ]
    assert kinds == expected_kinds
    for entry in unanswered(live_stack):  # "none of these" too: embedded when recorded
        if entry["conversation_id"] == customer.conversation_id:
            assert_vector_of(entry, question, embedder)


async def test_abstain_is_recorded_for_designers(live_stack: Stack, embedder: Embedder) -> None:
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
    assert_vector_of(entry, "明日の大阪の天気を教えて", embedder)


def assert_vector_of(entry: dict[str, Any], question: str, embedder: Embedder) -> None:
    """The record carries the embedding retrieval computed, the model's own for the text
    (grouping a month of questions then needs no model time)."""
    assert entry["embedder"] == embedder.identity
    stored = records.decode_vector(entry["vector"], embedder.dim)
    assert stored is not None
    assert float(stored @ embedder.embed([question])[0]) > 0.995


async def test_kb_edit_goes_live_without_retraining_or_restart(live_stack: Stack) -> None:
    kb_file = live_stack.settings.kb_dir / "shipping.yml"
    original = kb_file.read_text(encoding="utf-8")
    edited = original.replace(
        "ご注文は1営業日以内に発送されます。", "ご注文は当日中に発送されます。", 1
    )
    assert edited != original
    question = "届くまで何日かかりますか"
    async with aiohttp.ClientSession() as session:

        async def ask() -> str:
            # A new customer each time: one chat asking again and again would be
            # (rightly) rate-limited, and its dialogue state would change the answer.
            customer = await Customer(session, live_stack.settings.gateway_url).start()
            replies = (await customer.say(question))["replies"]
            return "\n".join(r["text"] for r in replies)

        kb_file.write_text(edited, encoding="utf-8")
        try:
            # A hang guard, not a speed goal (it takes seconds on a quiet machine): the
            # watcher rebuilds and recalibrates, which a busy machine slows down a lot.
            deadline = time.monotonic() + 180
            while "当日中に発送" not in (reply := await ask()):
                assert time.monotonic() < deadline, reply
                await asyncio.sleep(1)

            # a broken edit is refused (once the watcher has finished recalibrating the
            # good one) and the last good index keeps answering
            kb_file.write_text(edited.replace("articles:", "articles: [", 1), encoding="utf-8")
            deadline = time.monotonic() + 180
            while "broken YAML" not in live_stack.tail("kb-watch", 80):
                assert time.monotonic() < deadline, live_stack.tail("kb-watch", 20)
                await asyncio.sleep(1)
            assert "当日中に発送" in await ask()
        finally:
            kb_file.write_text(original, encoding="utf-8")
            # Later tests share this stack: they must find the KB served as it was.
            deadline = time.monotonic() + 180
            while "1営業日以内に発送" not in await ask() and time.monotonic() < deadline:
                await asyncio.sleep(1)


@pytest.mark.parametrize(
    ("question", "article"),
    [
        # NLU reads the first as a billing dispute (0.91), the second nearly (0.46 today,
        # 0.63 before more payment questions joined ask_question); the KB knows both.
        ("カードが決済で弾かれた", "payment_failed"),
        ("経費精算用に領収書ほしい", "invoices_receipts"),
    ],
)
async def test_an_faq_that_nlu_reads_as_always_human_is_answered_by_the_kb(
    live_stack: Stack, kb_articles: dict[str, Article], question: str, article: str
) -> None:
    _, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"  # not handed to a person
    assert reply["replies"][0]["text"] == kb_articles[article].answer_in("ja")


@pytest.mark.parametrize(
    ("language", "question"),
    [
        # NLU reads each as a billing dispute, fairly sure (0.82, 0.91, 0.70 today): the
        # KB's confident answer wins, but it may not be what the customer meant.
        ("ko", "결제 실패했는데 돈 빠져나갔어요"),
        ("ja", "カードが決済で弾かれた"),
        ("en", "payment failed but money left my account"),
    ],
)
async def test_no_to_an_answer_over_a_suspected_billing_dispute_goes_to_billing_at_once(
    live_stack: Stack,
    agents: dict[str, str],
    kb_articles: dict[str, Article],
    language: str,
    question: str,
) -> None:
    """Not the other articles first (a plain "no" gets those): a person with the billing
    skill. Alice, online but without that skill, is not offered the chat, though she is
    offered one that needs no skill."""
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        alice = await AgentClient(session, url).login("alice", agents["alice"])
        customer = await Customer(session, url).start()
        answer = await customer.say(question)
        handover = await customer.say(NOT_HELPFUL[language])
        other = await Customer(session, url).start()
        await other.ask_for_a_person("talk to a human")
        queue = [i["conversation_id"] for i in await alice.queue()]
        await alice.accept(other.conversation_id)
        await alice.resolve(other.conversation_id)
        # Nobody with the skill is online: the next message is left for the team.
        ticket = await customer.say("sam@example.com")
    assert answer["state"] == "bot"
    assert answer["replies"][0]["text"] == kb_articles["payment_failed"].answer_in(language)
    assert handover["state"] == "queued"
    assert not article_choices(handover["replies"])
    assert all(detect_language(r["text"]) == language for r in handover["replies"])
    assert other.conversation_id in queue
    assert customer.conversation_id not in queue
    assert ticket["state"] == "bot"


@pytest.mark.parametrize(
    ("language", "question", "article"),
    [
        ("ko", "마루스토어 배송 얼마나 걸려요", "shipping_time"),
        ("ja", "マルストアで買った服を返品したい", "start_return"),
        ("en", "maru store wont take my card", "payment_failed"),
    ],
)
async def test_a_question_that_names_the_shop_is_answered(
    live_stack: Stack, kb_articles: dict[str, Article], language: str, question: str, article: str
) -> None:
    """The shop's name (data/kb's `shop_names`) is read as a plain "the shop": it no longer
    pulls the question to the article about the company, or out of scope."""
    _, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"
    assert reply["replies"][0]["text"] == kb_articles[article].answer_in(language)


@pytest.mark.parametrize(
    ("language", "question", "article"),
    [
        ("en", "wheres my oder", "order_tracking"),
        ("en", "how do i chnage my email", "change_email"),
        ("en", "my promo cdoe is not wroking", "coupon_not_working"),
        ("ja", "へんぴんしたいです", "start_return"),
        ("ja", "ちゅうもんをきゃんせるしたい", "order_cancellation"),
        ("ja", "かいがいはっそうできる？", "international_shipping"),
        ("ko", "반픔 신청 어떻게 해요", "start_return"),
        ("ko", "화불 언재 들어와요", "refund_timing"),
        ("ko", "결재 수단 뭐 있어요", "payment_methods"),
    ],
)
async def test_a_question_with_typos_or_typed_in_kana_is_answered(
    live_stack: Stack,
    kb_articles: dict[str, Article],
    language: str,
    question: str,
    article: str,
) -> None:
    """English and Korean typos of the KB's own words are read as those words, and
    Japanese typed in hiragana as the KB's words in kanji or katakana (kb_index/spelling.py);
    each of these was turned away as out of scope before."""
    _, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"
    assert reply["replies"][0]["text"] == kb_articles[article].answer_in(language)


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("ko", "리뷰 올린거 수정 가능해요?"),
        ("ja", "前に書いたレビューを消したい"),
        ("en", "how do i delete my review"),
    ],
)
async def test_a_question_the_kb_lists_as_not_covered_is_told_so(
    live_stack: Stack, language: str, question: str
) -> None:
    """Reviews are an article (how to write one), so without data/kb/not_covered.yml's
    "editing / deleting a review" these got its answer; now the honest "not covered"."""
    conversation_id, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"
    assert detect_language(reply["replies"][0]["text"]) == language
    [entry] = [e for e in unanswered(live_stack) if e["conversation_id"] == conversation_id]
    assert entry["kind"] == "not_covered"  # designers see it is already listed
    assert entry["candidates"][0]["article_id"] == "product_reviews"  # what it would have said


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("ko", "나이키 환불 얼마나 걸려요"),
        ("ja", "ナイキの返金ってどれくらいかかる？"),
        ("en", "how long do nike refunds take"),
    ],
)
async def test_a_question_about_another_company_is_not_answered_as_ours(
    live_stack: Stack, language: str, question: str
) -> None:
    """Another shop's refunds embed right next to ours; the name the KB never uses says it
    is not ours (Korean and Japanese names come from their analysers, English ones from
    kb_index/brand_names.yml: the English question got our refund times before it)."""
    conversation_id, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"
    assert detect_language(reply["replies"][0]["text"]) == language
    kinds = [e["kind"] for e in unanswered(live_stack) if e["conversation_id"] == conversation_id]
    assert kinds == ["abstain"], f"{question!r} was answered as one of our own questions"


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("ko", "고객센터 번호 좀 알려줘요"),
        ("ja", "サポートの電話番号知りたい"),
        ("en", "what number do i call for support"),
    ],
)
async def test_asking_for_the_phone_number_gets_it_not_a_queue(
    live_stack: Stack, kb_articles: dict[str, Article], language: str, question: str
) -> None:
    """Contact details are information (the KB's contact_support answer has the number,
    the email and the live chat), not a request for a person now."""
    _, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"
    assert reply["replies"][0]["text"] == kb_articles["contact_support"].answer_in(language)


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("ko", "내 개인정보 다른 회사에 넘겨요?"),
        ("ja", "個人情報ってほかの会社に渡してる？"),
        ("en", "is my address and phone number shared with anyone"),
    ],
)
async def test_a_privacy_question_is_answered_not_queued(
    live_stack: Stack, kb_articles: dict[str, Article], language: str, question: str
) -> None:
    """ "shared with anyone" is not "anyone there?": NLU read the English question (one of
    the KB's own) as a request for a person at 0.63, and the chat was queued."""
    _, reply = await first_reply(live_stack, question)
    assert reply["state"] == "bot"
    assert reply["replies"][0]["text"] == kb_articles["privacy_data"].answer_in(language)


@pytest.mark.parametrize(
    ("language", "message", "article"),
    [
        # NLU reads each as small talk, unsure (today: goodbye 0.62, a "yes" at 0.75 with
        # nothing asked, "are you a bot?" 0.52, a "no" at 0.71); each is one of the KB's
        # own questions, word for word.
        ("ko", "비번", "reset_password"),
        ("ko", "보증", "product_warranty"),
        ("ja", "個人情報って第三者に提供してる？", "privacy_data"),
        ("en", "wrong item", "wrong_item_received"),
    ],
)
async def test_a_question_nlu_half_reads_as_small_talk_is_answered(
    live_stack: Stack, kb_articles: dict[str, Article], language: str, message: str, article: str
) -> None:
    """Not "bye", "I'm a bot" or "sorry that did not help": the KB's answer. (Greetings
    NLU is unsure of stay greetings: test_conversations.py.)"""
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        reply = await customer.say(message)
    assert reply["state"] == "bot"
    assert reply["replies"][0]["text"] == kb_articles[article].answer_in(language)
    assert detect_language(reply["replies"][1]["text"]) == language  # "did that help?"


@pytest.mark.parametrize(
    ("language", "question", "message", "article"),
    [
        # A "yes" (0.75) and a "no" (0.71) to NLU, and each one of the KB's questions. No
        # Japanese variant of the KB reads as a yes or a no today.
        ("ko", "배송 얼마나 걸려요?", "보증", "product_warranty"),
        ("en", "how long does delivery take", "wrong item", "wrong_item_received"),
    ],
)
async def test_a_question_right_after_an_answer_is_not_read_as_yes_or_no(
    live_stack: Stack,
    kb_articles: dict[str, Article],
    language: str,
    question: str,
    message: str,
    article: str,
) -> None:
    """Not "glad that helped" or the other articles of the first question: the answer."""
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, live_stack.settings.gateway_url).start()
        first = await customer.say(question)
        reply = await customer.say(message)
    assert first["replies"][0]["text"] == kb_articles["shipping_time"].answer_in(language)
    assert reply["state"] == "bot"
    assert reply["replies"][0]["text"] == kb_articles[article].answer_in(language)

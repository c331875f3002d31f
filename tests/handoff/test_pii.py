"""The gateway keeps personal data where it belongs: cards and national ids nowhere in
full, contact details in the transcript (and an offline ticket's contact) only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import HandoffService
from handoff.conversation.models import Conversation
from handoff.conversation.service import ConversationService
from handoff.customer.texts import load_texts
from handoff.realtime.hub import Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings
from tests.handoff.fake_rasa import FakeRasa

CARD, RRN, MY_NUMBER = "4111-1111-1111-1111", "900101-1234567", "123456789018"
EMAIL, PHONE = "minsu.kim@example.com", "010-1234-5678"


@dataclass
class Gateway:
    store: SQLiteStore
    rasa: FakeRasa
    service: ConversationService
    handoff: HandoffService

    async def start(self, language: str) -> Conversation:
        conversation, _ = await self.store.create_conversation(language, {})
        return conversation

    async def stored(self, sql: str) -> str:
        """Every value the query returns, as one string to search."""
        async with self.store.connection.execute(sql) as cursor:
            return json.dumps([list(row) for row in await cursor.fetchall()], ensure_ascii=False)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    rasa, hub = FakeRasa(), Hub()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, 3)  # type: ignore[arg-type]
    handoff = HandoffService(
        store,
        HandoffStore(store.connection),
        rasa,  # type: ignore[arg-type]
        relay,
        hub,
        texts,
        {},
    )
    relay.on_handoff = handoff.escalate
    service = ConversationService(store, relay, hub, texts, 2000, handoff)
    yield Gateway(store, rasa, service, handoff)
    await store.close()


@pytest.mark.parametrize(
    ("language", "text", "stored"),
    [
        (
            "ko",
            f"카드 {CARD} 로 결제했는데 환불돼요? 주민번호 {RRN}",
            "카드 ****-****-****-1111 로 결제했는데 환불돼요? 주민번호 ******-*******",
        ),
        ("ja", f"マイナンバーは{MY_NUMBER}です", "マイナンバーは****-****-****です"),
        ("en", f"card {CARD} was charged twice", "card ****-****-****-1111 was charged twice"),
    ],
)
async def test_cards_and_national_ids_are_masked_before_they_are_stored(
    gateway: Gateway, language: str, text: str, stored: str
) -> None:
    conversation = await gateway.start(language)
    exchange = await gateway.service.handle_customer_message(conversation, text)
    assert exchange.customer_message.text == stored  # what the widget shows back
    [message] = [m for m in await gateway.store.messages(conversation.id) if m.role == "customer"]
    assert message.text == stored
    assert [text for _, text, _ in gateway.rasa.sent] == [stored]
    everything = await gateway.stored("SELECT * FROM messages")
    assert all(secret not in everything for secret in (CARD, RRN, MY_NUMBER))


async def test_a_payload_is_masked_too(gateway: Gateway) -> None:
    conversation = await gateway.start("en")
    await gateway.service.handle_customer_message(
        conversation, "pay", payload=f'/inform{{"card": "{CARD}"}}'
    )
    assert gateway.rasa.sent[0][1] == '/inform{"card": "****-****-****-1111"}'


async def test_contacts_stay_in_the_transcript_but_never_reach_the_bot(gateway: Gateway) -> None:
    conversation = await gateway.start("ko")
    text = f"메일 {EMAIL} 이나 {PHONE} 로 연락주세요"
    await gateway.service.handle_customer_message(conversation, text)
    [message] = [m for m in await gateway.store.messages(conversation.id) if m.role == "customer"]
    assert message.text == text  # the agent needs them
    assert gateway.rasa.handled(conversation.id) == [
        "메일 ***@*** 이나 ***-****-**** 로 연락주세요"
    ]


async def test_the_stored_handoff_has_no_contacts_and_the_agent_still_sees_them(
    gateway: Gateway,
) -> None:
    conversation = await gateway.start("en")
    await gateway.service.handle_customer_message(conversation, f"reach me at {EMAIL} or {PHONE}")
    await gateway.service.handle_customer_message(conversation, "talk to a human")
    handoff = await gateway.handoff.handoffs.open_handoff(conversation.id)
    assert handoff is not None
    assert handoff.summary == "reach me at ***@*** or ***-****-**** … talk to a human"
    kept = await gateway.stored("SELECT summary, context_json FROM handoffs")
    assert EMAIL not in kept and PHONE not in kept
    assert "reach me at ***@*** or ***-****-****" in kept
    # The agent's view is built from the transcript: the contact details are there, and the
    # message is matched to what Rasa got (its intent), though Rasa got it redacted.
    context = await gateway.handoff.build_context(conversation)
    [first, *_] = [t for t in context["transcript"] if t["role"] == "customer"]
    assert first["text"] == f"reach me at {EMAIL} or {PHONE}"
    assert "intent" in first


@pytest.mark.parametrize(
    ("language", "contact", "field", "value"),
    [
        ("ko", f"제 메일은 {EMAIL} 이에요", "email", EMAIL),
        ("ja", "連絡先は 090-1234-5678 です", "phone", "090-1234-5678"),
        ("en", "call me on +1 415 555 0100 tomorrow", "phone", "+1 415 555 0100"),
    ],
)
async def test_an_offline_ticket_keeps_the_contact_the_customer_left(
    gateway: Gateway, language: str, contact: str, field: str, value: str
) -> None:
    conversation = await gateway.start(language)
    await gateway.service.handle_customer_message(conversation, "talk to a human")  # nobody online
    await gateway.service.handle_customer_message(conversation, "about my refund")
    await gateway.service.handle_customer_message(conversation, contact)
    [ticket] = await gateway.handoff.handoffs.tickets()
    assert ticket["contact"][field] == value
    assert ticket["message"] == f"about my refund\n{contact}"
    kept = await gateway.stored("SELECT summary, context_json FROM handoffs")
    assert value not in kept


async def test_an_agent_cannot_store_a_card_number_either(gateway: Gateway) -> None:
    conversation = await gateway.start("en")
    await gateway.service.handle_customer_message(conversation, "talk to a human")
    agent = await gateway.handoff.handoffs.upsert_agent(
        "mina", "a long enough secret", ["en"], [], 3, "Mina"
    )
    await gateway.handoff.accept(agent, conversation.id)
    message = await gateway.handoff.agent_message(agent, conversation.id, f"is it {CARD}?")
    assert message.text == "is it ****-****-****-1111?"

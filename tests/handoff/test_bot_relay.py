"""The relay keeps what the bot cannot take, tells the customer once, and answers every
kept message exactly once and in order when the bot is back (a fake Rasa, a real store)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from handoff.conversation.bot_relay import REQUEST_PERSON_PAYLOAD, BotRelay, message_id
from handoff.conversation.handoff_service import HandoffService, agent_channel
from handoff.conversation.models import Conversation
from handoff.conversation.service import ConversationService
from handoff.customer.texts import GatewayTexts, load_texts
from handoff.realtime.hub import Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings
from tests.handoff.fake_rasa import FakeRasa

MAX_ATTEMPTS = 3


@dataclass
class Gateway:
    store: SQLiteStore
    rasa: FakeRasa
    relay: BotRelay
    service: ConversationService
    texts: GatewayTexts
    hub: Hub
    handoffs: HandoffStore

    async def start(self, language: str = "en") -> Conversation:
        conversation, _ = await self.store.create_conversation(language, {})
        return conversation

    async def transcript(self, conversation: Conversation) -> list[tuple[str, str, int | None]]:
        return [
            (m.role, m.text, m.meta.get("reply_to"))
            for m in await self.store.messages(conversation.id)
        ]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    rasa, hub = FakeRasa(), Hub()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, MAX_ATTEMPTS)  # type: ignore[arg-type]
    handoff = HandoffService(
        store,
        HandoffStore(store.connection),
        rasa,
        relay,
        hub,
        texts,
        {},  # type: ignore[arg-type]
    )
    relay.on_handoff = handoff.escalate
    service = ConversationService(store, relay, hub, texts, 2000, handoff)
    running = Gateway(store, rasa, relay, service, texts, hub, handoff.handoffs)
    yield running
    await running.store.close()


async def test_a_message_is_answered_at_once_when_the_bot_is_up(gateway: Gateway) -> None:
    conversation = await gateway.start()
    exchange = await gateway.service.handle_customer_message(conversation, "hello")
    assert not exchange.pending
    assert [(m.role, m.text) for m in exchange.replies] == [("bot", "answer to hello")]
    assert exchange.replies[0].public()["reply_to"] == exchange.customer_message.seq
    assert await gateway.store.outbox(conversation.id) == []


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_while_rasa_is_down_messages_are_kept_and_answered_in_order_once(
    gateway: Gateway, language: str
) -> None:
    conversation = await gateway.start(language)
    gateway.rasa.down = True
    first = await gateway.service.handle_customer_message(conversation, "one")
    second = await gateway.service.handle_customer_message(conversation, "two")
    assert first.pending and second.pending
    # One notice per outage, in the customer's language, with a way to a person.
    [notice] = first.replies
    assert notice.role == "system"
    assert notice.text == gateway.texts.say("bot_down", language)
    assert notice.buttons[0]["payload"] == REQUEST_PERSON_PAYLOAD
    assert second.replies == []
    assert await gateway.relay.redeliver() == 0  # still down: nothing is tried

    gateway.rasa.down = False
    assert await gateway.relay.redeliver() == 1
    assert await gateway.relay.redeliver() == 0  # nothing left to do
    assert gateway.rasa.handled(conversation.id) == ["one", "two"]
    answers = [t for t in await gateway.transcript(conversation) if t[0] == "bot"]
    assert answers == [
        ("bot", "answer to one", first.customer_message.seq),
        ("bot", "answer to two", second.customer_message.seq),
    ]


async def test_a_new_message_waits_behind_a_kept_one(gateway: Gateway) -> None:
    conversation = await gateway.start()
    gateway.rasa.down = True
    await gateway.service.handle_customer_message(conversation, "one")
    gateway.rasa.down = False
    # The customer writes again before the retry loop ran: both go, oldest first.
    exchange = await gateway.service.handle_customer_message(conversation, "two")
    assert [m.text for m in exchange.replies] == ["answer to one", "answer to two"]
    assert gateway.rasa.handled(conversation.id) == ["one", "two"]


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_message_kept_right_after_an_answered_one_gets_its_own_notice(
    gateway: Gateway, language: str
) -> None:
    """The first outage's notice was followed by its answer; when the bot dies again
    on the next message, the customer must hear about that one too."""
    conversation = await gateway.start(language)
    gateway.rasa.down = True
    first = await gateway.service.handle_customer_message(conversation, "one")
    gateway.rasa.down = False
    gateway.rasa.dies_on = {"two"}
    exchange = await gateway.service.handle_customer_message(conversation, "two")
    assert exchange.pending
    assert [(m.role, m.text, m.meta.get("reply_to")) for m in exchange.replies] == [
        ("bot", "answer to one", first.customer_message.seq),
        ("system", gateway.texts.say("bot_down", language), exchange.customer_message.seq),
    ]


async def test_an_answer_lost_after_rasa_handled_the_message_is_not_asked_twice(
    gateway: Gateway,
) -> None:
    conversation = await gateway.start()
    gateway.rasa.lose_next_answer = True
    exchange = await gateway.service.handle_customer_message(conversation, "where is my parcel")
    assert exchange.pending
    await gateway.relay.redeliver()
    # Rasa's tracker already had the turn: its recorded reply is used, not a second turn.
    assert gateway.rasa.handled(conversation.id) == ["where is my parcel"]
    assert len(gateway.rasa.sent) == 1
    answers = [t for t in await gateway.transcript(conversation) if t[0] == "bot"]
    assert answers == [("bot", "answer to where is my parcel", exchange.customer_message.seq)]


async def test_a_turn_that_produced_nothing_is_rewound_and_sent_again(gateway: Gateway) -> None:
    conversation = await gateway.start()
    gateway.rasa.actions_down = True
    exchange = await gateway.service.handle_customer_message(conversation, "refund?")
    assert exchange.pending
    assert gateway.rasa.rewound == [conversation.id]
    assert gateway.rasa.handled(conversation.id) == []
    assert await gateway.relay.redeliver() == 0  # the action server still reports down
    gateway.rasa.actions_down = False
    await gateway.relay.redeliver()
    assert gateway.rasa.handled(conversation.id) == ["refund?"]  # one turn, not two


async def test_a_kept_message_survives_a_gateway_restart(gateway: Gateway, tmp_path: Path) -> None:
    conversation = await gateway.start()
    gateway.rasa.down = True
    exchange = await gateway.service.handle_customer_message(conversation, "still there?")
    await gateway.store.close()
    # A new gateway process on the same database (the old one was killed).
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    gateway.rasa.down = False
    relay = BotRelay(store, gateway.rasa, Hub(), gateway.texts, MAX_ATTEMPTS)  # type: ignore[arg-type]
    assert await relay.redeliver() == 1
    replies = [m for m in await store.messages(conversation.id) if m.role == "bot"]
    assert [(m.text, m.meta["reply_to"]) for m in replies] == [
        ("answer to still there?", exchange.customer_message.seq)
    ]
    gateway.store = store  # closed by the fixture


async def test_a_resend_after_a_gateway_crash_is_answered_by_the_resend(
    gateway: Gateway, tmp_path: Path
) -> None:
    """The gateway stored the message, sent it to Rasa and died before storing the
    answer; the customer's client resends it (same client_id) to the restarted gateway:
    the resend gets the answer (Rasa's recorded one, not a second turn), not an empty
    'pending' that leaves the customer waiting for the background retry."""
    conversation = await gateway.start()
    stored = (
        await gateway.store.add_customer_message(
            conversation.id, "refund?", payload=None, client_id="c1"
        )
    ).message
    await gateway.rasa.send(conversation.id, "refund?", {}, message_id(conversation.id, stored.seq))
    await gateway.store.close()
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    relay = BotRelay(store, gateway.rasa, Hub(), gateway.texts, MAX_ATTEMPTS)  # type: ignore[arg-type]
    handoffs = HandoffStore(store.connection)
    handoff = HandoffService(store, handoffs, gateway.rasa, relay, Hub(), gateway.texts, {})  # type: ignore[arg-type]
    service = ConversationService(store, relay, Hub(), gateway.texts, 2000, handoff)
    again = await service.handle_customer_message(conversation, "refund?", client_id="c1")
    assert again.duplicate and not again.pending
    assert [(m.role, m.text) for m in again.replies] == [("bot", "answer to refund?")]
    assert gateway.rasa.handled(conversation.id) == ["refund?"]  # looked up, not asked twice
    gateway.store = store  # closed by the fixture


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_resend_after_the_notice_is_answered_once_the_bot_is_back(
    gateway: Gateway, language: str
) -> None:
    conversation = await gateway.start(language)
    gateway.rasa.down = True
    first = await gateway.service.handle_customer_message(conversation, "one", client_id="c1")
    assert [m.text for m in first.replies] == [gateway.texts.say("bot_down", language)]
    again = await gateway.service.handle_customer_message(conversation, "one", client_id="c1")
    assert again.pending and [m.text for m in again.replies] == [first.replies[0].text]
    gateway.rasa.down = False
    last = await gateway.service.handle_customer_message(conversation, "one", client_id="c1")
    assert not last.pending
    assert [m.text for m in last.replies][-1] == "answer to one"
    assert gateway.rasa.handled(conversation.id) == ["one"]


async def test_a_message_rasa_is_still_handling_is_not_sent_twice(gateway: Gateway) -> None:
    """The send timed out but Rasa is still working on it: until it has had as long
    again, the relay only looks in the tracker; it never sends the message twice."""
    conversation = await gateway.start("ko")
    gateway.rasa.slow_next_answer = True
    first = await gateway.service.handle_customer_message(conversation, "환불 언제 돼요")
    assert first.pending
    for _ in range(MAX_ATTEMPTS + 2):  # waiting is not failing: no apology either
        await gateway.relay.redeliver()
    assert len(gateway.rasa.sent) == 0  # the slow turn is not recorded yet, nothing resent
    await gateway.rasa.finish_slow_turn()
    await gateway.relay.redeliver()
    assert gateway.rasa.handled(conversation.id) == ["환불 언제 돼요"]
    answers = [t for t in await gateway.transcript(conversation) if t[0] in ("bot", "system")]
    assert answers[-1] == ("bot", "answer to 환불 언제 돼요", first.customer_message.seq)


async def test_a_timed_out_message_is_sent_again_once_rasa_had_time(gateway: Gateway) -> None:
    conversation = await gateway.start()
    gateway.relay.in_doubt_seconds = 0.0  # Rasa never recorded it: it died meanwhile
    gateway.rasa.slow_next_answer = True
    await gateway.service.handle_customer_message(conversation, "where is my parcel")
    await gateway.relay.redeliver()
    assert gateway.rasa.handled(conversation.id) == ["where is my parcel"]


async def test_a_message_the_bot_keeps_failing_on_gets_an_apology(gateway: Gateway) -> None:
    conversation = await gateway.start("ja")
    gateway.rasa.actions_down = True
    await gateway.service.handle_customer_message(conversation, "壊れる質問")
    # Every part reports healthy, yet each try produces nothing.
    gateway.rasa.parts_health = _always_up  # type: ignore[method-assign]
    for _ in range(MAX_ATTEMPTS):
        await gateway.relay.redeliver()
    assert await gateway.store.outbox(conversation.id) == []
    last = (await gateway.transcript(conversation))[-1]
    assert last[:2] == ("system", gateway.texts.say("message_failed", "ja"))


async def _always_up() -> dict[str, str]:
    return {"rasa": "up", "actions": "up"}


@pytest.mark.parametrize(
    ("language", "text", "payload"),
    [
        ("ko", "상담원 연결해 주세요", None),
        ("ja", "担当者と話したい", None),
        ("en", "can I talk to a real person", None),
        ("en", "Talk to a person", REQUEST_PERSON_PAYLOAD),
    ],
)
async def test_while_the_bot_is_down_asking_for_a_person_queues_the_chat(
    gateway: Gateway, language: str, text: str, payload: str | None
) -> None:
    conversation = await gateway.start(language)
    gateway.rasa.down = True
    await gateway.service.handle_customer_message(conversation, "my order is wrong")
    exchange = await gateway.service.handle_customer_message(conversation, text, payload)
    assert not exchange.pending
    current = await gateway.store.get_conversation(conversation.id)
    assert current is not None and current.state == "queued"
    # The kept messages are the agent's now, not the bot's.
    assert await gateway.store.outbox(conversation.id) == []
    gateway.rasa.down = False
    await gateway.relay.redeliver()
    assert gateway.rasa.sent == []


async def test_handing_back_resumes_rasa_even_after_it_was_down(gateway: Gateway) -> None:
    conversation = await gateway.start()
    await gateway.service.handle_customer_message(conversation, "talk to a human")
    assert (await gateway.store.get_conversation(conversation.id)).state == "queued"  # type: ignore[union-attr]
    gateway.rasa.down = True
    # The customer cancels while Rasa is down: the resume waits in the outbox.
    await gateway.service.handle_customer_message(conversation, "cancel")
    assert [i.kind for i in await gateway.store.outbox(conversation.id)] == ["resume"]
    gateway.rasa.down = False
    await gateway.relay.redeliver()
    assert gateway.rasa.resumed == [conversation.id]
    exchange = await gateway.service.handle_customer_message(conversation, "thanks")
    assert [m.text for m in exchange.replies] == ["answer to thanks"]


async def _assigned_to(gateway: Gateway, agent: str, language: str) -> Conversation:
    conversation = await gateway.start(language)
    await gateway.store.transition(conversation.id, "escalate")
    handoff = await gateway.handoffs.enqueue(
        conversation.id, "requested", 1, language, None, "summary", {}
    )
    assert await gateway.handoffs.assign(handoff.id, agent)
    await gateway.store.transition(conversation.id, "assign", {"agent": agent})
    found = await gateway.store.get_conversation(conversation.id)
    assert found is not None and found.state == "assigned"
    return found


@pytest.mark.parametrize(
    ("language", "text"), [("ko", "아직이요?"), ("ja", "まだ？"), ("en", "hello?")]
)
async def test_a_message_to_the_agent_does_not_wait_behind_a_bot_delivery(
    gateway: Gateway, language: str, text: str
) -> None:
    """While an agent has the chat nothing goes to the bot, so a delivery still holding
    the relay's lock (a slow Rasa, on this replica or another) must not hold the
    customer's message back from the agent."""
    conversation = await _assigned_to(gateway, "kim", language)
    inbox = gateway.hub.subscribe(agent_channel("kim"))
    async with gateway.relay.lock(conversation.id):  # a delivery in progress
        exchange = await asyncio.wait_for(
            gateway.service.handle_customer_message(conversation, text), timeout=5
        )
        frame = inbox.get_nowait()
    assert (exchange.replies, exchange.pending, exchange.duplicate) == ([], False, False)
    assert frame is not None and frame["text"] == text
    assert frame["conversation_id"] == conversation.id
    assert frame["seq"] == exchange.customer_message.seq
    assert await gateway.store.outbox(conversation.id) == []


async def test_a_chat_back_with_the_bot_is_answered_though_the_caller_saw_an_agent(
    gateway: Gateway,
) -> None:
    """The websocket's copy of the conversation can be old: the store's word, read as the
    message is stored, decides who answers."""
    seen = await _assigned_to(gateway, "kim", "ja")
    await gateway.store.transition(seen.id, "resolve")
    await gateway.store.transition(seen.id, "return_to_bot")
    await gateway.relay.drain_when_free(seen.id)  # the resume
    inbox = gateway.hub.subscribe(agent_channel("kim"))
    exchange = await gateway.service.handle_customer_message(seen, "配送料は？")
    assert [(m.role, m.text) for m in exchange.replies] == [("bot", "answer to 配送料は？")]
    assert inbox.empty()  # not relayed to the agent who had the chat
    assert await gateway.store.outbox(seen.id) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [("ko", "상담원 아직이에요?"), ("ja", "まだですか"), ("en", "still there?")],
)
async def test_the_exchange_tells_the_state_the_message_found(
    gateway: Gateway, language: str, text: str
) -> None:
    """A customer's websocket keeps the Conversation it opened with; the exchange says
    the state the store saw, so the socket's next message takes the path for it (with an
    agent: no relay lock, which across replicas is Redis round trips)."""
    assigned = await _assigned_to(gateway, "kim", language)
    stale = dataclasses.replace(assigned, state="queued")  # as the socket saw it at first
    assert (await gateway.service.handle_customer_message(stale, text)).state == "assigned"
    await gateway.store.transition(assigned.id, "resolve")
    await gateway.store.transition(assigned.id, "return_to_bot")
    await gateway.relay.drain_when_free(assigned.id)
    assert (await gateway.service.handle_customer_message(assigned, text)).state == "bot"

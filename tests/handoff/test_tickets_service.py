"""The ticket desk (handoff/conversation/tickets.py) on a real SQLite store and hub: the reply
is a line in the customer's language plus the agent's message, delivered through the one
seam email will plug into; every agent's console hears of each change; card numbers are
masked, the reply's text and the contact details never logged; a failed delivery keeps the
stored reply."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handoff.conversation.models import Message
from handoff.conversation.state_machine import TicketRefused
from handoff.conversation.tickets import TicketDesk
from handoff.customer.texts import load_texts
from handoff.realtime.hub import Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from handoff.web.metrics import Metrics
from stack.settings import PROJECT_ROOT

TEXTS = load_texts(PROJECT_ROOT / "data" / "gateway_texts.yml")


class Recorded:
    """A delivery that remembers what it was given (as an email channel would be)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[dict[str, Any], list[Message]]] = []
        self.fail = fail

    async def deliver_ticket_reply(self, ticket: dict[str, Any], messages: list[Message]) -> None:
        self.sent.append((ticket, messages))
        if self.fail:
            raise ConnectionError("the mail server is away")


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, HandoffStore]]:
    store = await SQLiteStore.open(tmp_path / "desk.sqlite3")
    handoffs = HandoffStore(store.connection)
    for name in ("kim", "lee"):
        await handoffs.upsert_agent(name, "pw-" + name * 4, ["ko", "ja", "en"], [], 2)
    yield store, handoffs
    handoffs.hasher.close()
    await store.close()


def desk(stores: tuple[SQLiteStore, HandoffStore], hub: Hub, delivery: Recorded) -> TicketDesk:
    store, handoffs = stores
    return TicketDesk(store, handoffs, hub, TEXTS, Metrics(), lambda n: f"agent:{n}", delivery)


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_reply_is_a_line_in_the_customers_language_and_the_agents_message(
    stores: tuple[SQLiteStore, HandoffStore], language: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, handoffs = stores
    hub, delivery = Hub(), Recorded()
    tickets = desk(stores, hub, delivery)
    conversation, _ = await store.create_conversation(language, {})
    ticket = await handoffs.create_ticket(
        conversation.id, language, {"email": "mina@example.com"}, "refund?"
    )
    customer = hub.subscribe(conversation.id)
    kims_console, lees_console = hub.subscribe("agent:kim"), hub.subscribe("agent:lee")
    caplog.set_level(logging.INFO)

    await tickets.change(ticket, "claim", "kim")
    answered, message = await tickets.reply(ticket, "kim", "카드 4111 1111 1111 1111 환불 완료")

    assert answered["state"] == "answered"
    assert message.role == "agent" and "4111 1111" not in message.text
    assert message.text.endswith("1111 환불 완료")  # masked, the rest kept
    [(sent_ticket, sent)] = delivery.sent
    assert sent_ticket["ticket_id"] == ticket
    notice = TEXTS.say("ticket_answered", language, ticket=ticket)
    assert [(m.role, m.text) for m in sent] == [("system", notice), ("agent", message.text)]
    assert customer.empty()  # the recording delivery replaced the websocket one
    for console in (kims_console, lees_console):
        frames = [console.get_nowait() for _ in range(console.qsize())]
        assert [(f["type"], f["state"], f["claimed_by"]) for f in frames] == [  # type: ignore[index]
            ("ticket", "claimed", "kim"),
            ("ticket", "answered", "kim"),
        ]
    logged = caplog.text
    assert "환불 완료" not in logged and "mina@example.com" not in logged and "4111" not in logged
    assert f"ticket {ticket}: reply by kim" in logged


async def test_the_default_delivery_is_the_customers_websocket(
    stores: tuple[SQLiteStore, HandoffStore],
) -> None:
    store, handoffs = stores
    hub = Hub()
    tickets = TicketDesk(store, handoffs, hub, TEXTS, Metrics(), lambda n: f"agent:{n}")
    conversation, _ = await store.create_conversation("ja", {})
    ticket = await handoffs.create_ticket(conversation.id, "ja", {"phone": "090"}, "?")
    customer = hub.subscribe(conversation.id)
    await tickets.change(ticket, "claim", "lee")
    await tickets.reply(ticket, "lee", "ご連絡ありがとうございます")
    frames = [customer.get_nowait() for _ in range(customer.qsize())]
    assert [(f["role"], f["type"]) for f in frames] == [  # type: ignore[index]
        ("system", "message"),
        ("agent", "message"),
    ]


async def test_a_failed_delivery_keeps_the_stored_reply(
    stores: tuple[SQLiteStore, HandoffStore], caplog: pytest.LogCaptureFixture
) -> None:
    store, handoffs = stores
    tickets = desk(stores, Hub(), Recorded(fail=True))
    conversation, _ = await store.create_conversation("en", {})
    ticket = await handoffs.create_ticket(conversation.id, "en", {"email": "a@b.example"}, "?")
    await tickets.change(ticket, "claim", "kim")
    answered, _ = await tickets.reply(ticket, "kim", "done")
    assert answered["state"] == "answered"
    assert [m.text for m in await store.messages(conversation.id)][-1] == "done"
    assert "stored but could not be delivered" in caplog.text


async def test_refusals_and_unknown_tickets_pass_on_and_resolutions_are_masked(
    stores: tuple[SQLiteStore, HandoffStore],
) -> None:
    store, handoffs = stores
    tickets = desk(stores, Hub(), Recorded())
    conversation, _ = await store.create_conversation("ko", {})
    ticket = await handoffs.create_ticket(conversation.id, "ko", {"email": "a@b.example"}, "?")
    with pytest.raises(KeyError):
        await tickets.reply(ticket + 1, "kim", "hi")
    await tickets.change(ticket, "claim", "kim")
    with pytest.raises(TicketRefused):
        await tickets.change(ticket, "close", "lee")
    closed = await tickets.change(ticket, "close", "kim", "card 4111 1111 1111 1111 refunded")
    assert closed["resolution"] is not None and "4111 1111" not in closed["resolution"]

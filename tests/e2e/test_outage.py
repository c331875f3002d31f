"""When Rasa or the action server is down, customers are told in their language that their
message is kept, readiness names the part that is down, the way to a person stays open,
and every kept message is answered exactly once when the part is back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from common.language import detect_language
from handoff.conversation.rasa_client import effective_events
from stack.launcher import Stack
from tests.e2e.client import AgentClient, Customer, accepted

pytestmark = pytest.mark.e2e

QUESTIONS = {
    "ko": "배송 얼마나 걸려요?",
    "ja": "配送に何日かかりますか",
    "en": "how long is shipping",
}
KEPT = {"ko": "저장", "ja": "保存", "en": "kept"}


async def readiness(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with session.get(f"{url}/readyz") as r:
        return r.status, await r.json()


async def ready_within(session: aiohttp.ClientSession, url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await readiness(session, url))[0] == 200:
            return True
        await asyncio.sleep(0.5)
    return False


async def answers_to(customer: Customer, seq: int, timeout: float = 90.0) -> list[dict[str, Any]]:
    """The bot's replies to the customer message `seq`, once there are any."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = (await customer.transcript())["messages"]
        found = [m for m in messages if m.get("reply_to") == seq and m["role"] == "bot"]
        if found:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"message {seq} of {customer.conversation_id} was never answered")


async def rasa_turns(
    stack: Stack, session: aiohttp.ClientSession, customer: Customer, seq: int
) -> int:
    """How many times Rasa's tracker holds the customer message `seq` (should be once)."""
    async with session.get(
        f"{stack.settings.rasa_url}/conversations/{customer.conversation_id}/tracker",
        params={"token": stack.settings.rasa_auth_token},
    ) as r:
        events = (await r.json())["events"]
    wanted = f"{customer.conversation_id}:{seq}"
    return sum(
        1
        for e in effective_events(events)
        if e["event"] == "user" and e.get("message_id") == wanted
    )


@pytest.mark.parametrize("part", ["actions", "rasa"])
async def test_messages_sent_while_a_part_is_down_are_kept_and_answered_once(
    live_stack: Stack, part: str
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        customers = {lang: await Customer(session, url).start(language=lang) for lang in QUESTIONS}
        live_stack.stop_process(part)
        try:
            status, body = await readiness(session, url)
            assert status == 503
            assert body["down"] == [part]
            async with session.get(f"{url}/healthz") as alive:
                assert alive.status == 200  # the gateway itself is alive
            kept: dict[str, int] = {}
            for lang, question in QUESTIONS.items():
                sent = await customers[lang].say(question)
                assert sent["pending"] is True
                [notice] = sent["replies"]
                assert notice["role"] == "system"
                assert detect_language(notice["text"]) == lang
                assert KEPT[lang] in notice["text"]
                assert notice["buttons"][0]["payload"] == "/request_human"
                kept[lang] = sent["seq"]
            # A second message in the same outage is kept without another notice.
            again = await customers["en"].say("and what about returns?")
            assert again["pending"] is True and again["replies"] == []
        finally:
            live_stack.start_process(part)
        # Ready again, once the gateway's own health check sees the part (its 3 s probe
        # can miss an action server still busy loading its model on a loaded machine).
        assert await ready_within(session, url, 60)
        for lang, seq in kept.items():
            replies = await answers_to(customers[lang], seq)
            assert detect_language(replies[0]["text"]) == lang
            assert await rasa_turns(live_stack, session, customers[lang], seq) == 1
        later = await answers_to(customers["en"], again["seq"])
        assert later[0]["role"] == "bot"
        # In order: the first kept message is answered before the second one.
        messages = (await customers["en"].transcript())["messages"]
        first = next(
            m["seq"] for m in messages if m.get("reply_to") == kept["en"] and m["role"] == "bot"
        )
        assert first < later[0]["seq"]
        # And the conversation goes on as usual.
        replies = (await customers["ko"].say("배송 얼마나 걸려요?"))["replies"]
        assert replies[0]["role"] == "bot"


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_a_person_can_take_over_while_rasa_is_down(
    live_stack: Stack, agents: dict[str, str], language: str
) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        customer = await Customer(session, url).start(language=language)
        agent = await AgentClient(session, url).login("alice", agents["alice"])
        live_stack.stop_process("rasa")
        try:
            notice = (await customer.say(QUESTIONS[language]))["replies"][0]
            button = notice["buttons"][0]
            queued = await customer.say(button["title"], payload=button["payload"])
            assert queued["state"] == "queued"
            assert detect_language(queued["replies"][-1]["text"]) == language
            view = await accepted(agent, customer)
            # The agent sees what the customer asked while the bot was down.
            assert QUESTIONS[language] in [t["text"] for t in view["transcript"]]
            status, _ = await agent.write(customer.conversation_id, "Hello, I can help.")
            assert status == 201
            roles = [m["role"] for m in (await customer.transcript())["messages"]]
            assert roles[-1] == "agent"
            status, _ = await agent.resolve(customer.conversation_id)
            assert status == 200  # resolving does not need the bot
        finally:
            live_stack.start_process("rasa")
        # Back with the bot: Rasa is told, and asks for the rating in the customer's language.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            last = (await customer.transcript())["messages"][-1]
            if last["role"] == "bot":
                break
            await asyncio.sleep(0.3)
        assert last["role"] == "bot"
        assert any(b["payload"].startswith("/rate") for b in last.get("buttons", []))
        assert detect_language(last["text"]) == language


def test_action_server_loads_its_model_before_the_first_customer(live_stack: Stack) -> None:
    # The launcher's warm-up asks one question as soon as the action server is
    # healthy (and again after a restart), so no customer waits for the load.
    log = live_stack.log_path("actions").read_text(encoding="utf-8", errors="replace")
    assert "kb query='warm-up'" in log

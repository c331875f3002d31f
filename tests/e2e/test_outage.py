"""When the action server or Rasa is down, customers get a clear message in their
language (never silence), health names the part that is down, and the
conversation carries on once it is back."""

from __future__ import annotations

import aiohttp
import pytest

from bot.language import detect_language
from stack.launcher import Stack
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e


async def health(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(f"{url}/healthz") as r:
        return r.status, await r.json()


@pytest.mark.parametrize("part", ["actions", "rasa"])
async def test_customer_is_told_when_a_part_is_down(live_stack: Stack, part: str) -> None:
    url = live_stack.settings.gateway_url
    questions = {
        "ko": "배송 얼마나 걸려요?",
        "ja": "配送に何日かかりますか",
        "en": "how long is shipping",
    }
    async with aiohttp.ClientSession() as session:
        customers = {lang: await Customer(session, url).start(language=lang) for lang in questions}
        live_stack.stop_process(part)
        try:
            status, body = await health(session, url)
            assert status == 503
            assert body["down"] == [part]
            for lang, question in questions.items():
                [reply] = (await customers[lang].say(question))["replies"]
                assert reply["role"] == "system"
                assert detect_language(reply["text"]) == lang
                assert "support@" in reply["text"]
        finally:
            live_stack.restart_process(part)
        status, _ = await health(session, url)
        assert status == 200
        # the same conversation goes on, and nothing was lost
        replies = (await customers["ko"].say("배송 얼마나 걸려요?"))["replies"]
        transcript = await customers["ko"].transcript()
    assert replies[0]["role"] == "bot"
    assert [m["role"] for m in transcript["messages"]][:2] == ["customer", "system"]


def test_action_server_loads_its_model_before_the_first_customer(live_stack: Stack) -> None:
    # The launcher's warm-up asks one question as soon as the action server is
    # healthy (and again after a restart), so no customer waits for the load.
    log = live_stack.log_path("actions").read_text(encoding="utf-8", errors="replace")
    assert "kb query='warm-up'" in log

"""GET /metrics scrapes cleanly (prometheus-client's own parser) and counts what happened."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stack.launcher import Stack
from tests.e2e.client import Customer

pytestmark = pytest.mark.e2e


async def scrape(
    session: aiohttp.ClientSession, url: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with session.get(f"{url}/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_count_messages_decisions_and_handoffs(live_stack: Stack) -> None:
    url = live_stack.settings.gateway_url
    async with aiohttp.ClientSession() as session:
        before = await scrape(session, url)
        for language, question in (
            ("ko", "배송 얼마나 걸려요?"),
            ("ja", "配送に何日かかりますか"),
            ("en", "how long does shipping take"),
        ):
            await (await Customer(session, url).start(language=language)).say(question)
        await (await Customer(session, url).start()).say("talk to a human")
        after = await scrape(session, url)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("assistant_messages_total", direction="in", role="customer") >= 4
    assert grew("assistant_messages_total", direction="out", role="bot") >= 3
    for language in ("ko", "ja", "en"):
        assert grew("assistant_bot_decisions_total", decision="answer", language=language) >= 1
    assert grew("assistant_handoffs_total", reason="requested") >= 1
    assert ("assistant_bot_reply_seconds_count", ()) in after
    assert ("assistant_queue_length", ()) in after

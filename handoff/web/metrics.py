"""What the gateway counts for an operator's Prometheus (GET /metrics, prometheus-client).

One registry per application (not the library's global one), so two gateways in one
process — the tests — never share counters. Labels stay few and bounded: languages,
decision kinds, handoff reasons and error kinds, never conversation ids or text.

    assistant_messages_total{direction="in"|"out", role}         customer messages in, replies out
    assistant_bot_decisions_total{decision, language}            answer / clarify / abstain
    assistant_handoffs_total{reason}                             chats queued for a person
    assistant_queue_length                                       chats waiting for a person now
    assistant_waiting_for_bot                                    conversations with messages kept for the bot
    assistant_queue_wait_seconds                                 queued -> an agent accepts
    assistant_bot_reply_seconds                                  a message to Rasa -> its replies
    assistant_errors_total{kind}                                 bot_unavailable, message_failed, 4xx codes
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LANGUAGES = ("ko", "ja", "en")


def _language(value: object) -> str:
    return value if isinstance(value, str) and value in LANGUAGES else "other"


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "assistant_messages",
            "Customer messages in and replies out",
            ["direction", "role"],
            registry=r,
        )
        self.decisions = Counter(
            "assistant_bot_decisions",
            "Knowledge-base decisions of the bot",
            ["decision", "language"],
            registry=r,
        )
        self.handoffs = Counter(
            "assistant_handoffs", "Chats queued for a person, by reason", ["reason"], registry=r
        )
        self.queue_length = Gauge(
            "assistant_queue_length", "Chats waiting for a person", registry=r
        )
        self.waiting_for_bot = Gauge(
            "assistant_waiting_for_bot",
            "Conversations with messages kept for the bot (it is down or restarting)",
            registry=r,
        )
        self.queue_wait = Histogram(
            "assistant_queue_wait_seconds",
            "From queued to accepted by an agent",
            buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 3600),
            registry=r,
        )
        self.bot_reply = Histogram(
            "assistant_bot_reply_seconds",
            "From a customer message sent to Rasa to its replies",
            buckets=(0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20),
            registry=r,
        )
        self.errors = Counter("assistant_errors", "Errors by kind", ["kind"], registry=r)

    def decision(self, meta: dict[str, object], language: str) -> None:
        kb = meta.get("kb")
        if isinstance(kb, dict) and kb.get("decision") in {"answer", "clarify", "abstain"}:
            self.decisions.labels(str(kb["decision"]), _language(language)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

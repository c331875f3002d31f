"""action_handoff, and `escalate` for the other actions: hand the chat to a person.

The action tells the customer a person is coming, attaches `{"handoff": {reason,
priority, skill}}` to that message for the gateway, and pauses the Rasa
conversation. From then on the gateway owns the chat until an agent resolves it.

A typed request for a person that NLU is unsure of (under data/handoff.yml's
`request_human_confidence`: "book me a doctors apointment", "기자인데 인터뷰 요청 드려요")
goes to the KB like any question instead: it answers, or says it cannot with a person
one click away. The "talk to a person" button is always sure.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from stack.settings import Settings


@functools.lru_cache(maxsize=1)
def handoff_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        Settings.from_env().handoff_config_path.read_text(encoding="utf-8")
    )
    return config


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    """NLU's intent for the latest message, and its confidence."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0)


def certainty(tracker: Tracker, intent: str, setting: str) -> str:
    """Whether NLU read the latest message as `intent`: "sure" (at least data/handoff.yml's
    `setting`, 0.6 if unset), "unsure" or "no"."""
    name, confidence = latest_intent(tracker)
    if name != intent:
        return "no"
    return "sure" if confidence >= float(handoff_config().get(setting, 0.6)) else "unsure"


def skill_for(intent: str | None) -> str | None:
    """The agent skill data/handoff.yml names for an always-human intent."""
    rules = handoff_config().get("always_human_intents") or {}
    return (rules.get(intent) or {}).get("skill") if intent else None


def escalate(
    dispatcher: CollectingDispatcher,
    reason: str,
    skill: str | None = None,
    kb: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Say a person is coming, tell the gateway why, and pause the bot.
    `kb` (the retrieval decision that led here, if any) travels along for the agent."""
    priority = int(handoff_config().get("reasons", {}).get(reason, {}).get("priority", 1))
    payload: dict[str, Any] = {"handoff": {"reason": reason, "priority": priority, "skill": skill}}
    if kb is not None:
        payload["kb"] = kb
    dispatcher.utter_message(response="utter_handoff", json_message=payload)
    return [
        SlotSet("kb_misses", 0.0),
        SlotSet("kb_not_helpful", 0.0),
        SlotSet("kb_feedback_for", None),
        SlotSet("kb_answered_over", None),
        ConversationPaused(),
    ]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent, _ = latest_intent(tracker)
        if intent in (handoff_config().get("always_human_intents") or {}):
            return escalate(dispatcher, "always_human", skill_for(intent))
        if intent == "complain":
            return escalate(dispatcher, "complaint")
        if certainty(tracker, "request_human", "request_human_confidence") == "unsure":
            # Answered here, within this action: as a follow-up action Rasa's policies
            # would not know what comes after it and add "Sorry, I didn't get that".
            from actions.faq import ActionAnswerFaq  # actions.faq imports this module

            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        return escalate(dispatcher, "requested")

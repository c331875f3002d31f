"""FAQ actions: answer from the knowledge base, clarify, or say honestly that it can't;
and react to "did that help?".

Flow (all in the customer's language):
- answer   -> the article's answer, then "did that help?" (yes / no)
- clarify  -> "did you mean one of these?" with the top articles as buttons + "none of these"
- abstain  -> "I couldn't find a reliable answer" with a button to a person
- under an answer, the close runners-up are offered as "related" buttons
- a complaint is answered the same way when the KB is confident, offered the options
  when it is unsure which article, and otherwise the bot empathises and offers a person;
  it hands over at once when NLU is sure it is a complaint (data/handoff.yml) or the
  message before was not answered either
- a typed request for a person NLU is unsure of is answered by action_handoff with this
  action, as any question (data/handoff.yml `request_human_confidence`)
- an always-human intent (data/handoff.yml, e.g. billing_dispute): NLU sure of it hands
  over at once; NLU fairly confident asks the KB first (a confident answer wins, else a
  person with the skill); NLU unsure treats it as any question
- "no" after an answer -> the other candidates as buttons; "none of these" ->
  apologise and offer a person; "no" a second time -> hand over to a person. A "no" to
  an answer that won over a fairly confident always-human intent hands over at once,
  with that intent's skill: a real billing dispute costs one click, not three.
- two questions in a row the KB could not answer -> hand over to a person.
- greetings, thanks, goodbyes, "are you a bot?" and yes / no get their fixed reply or
  handling, unless NLU was unsure of that reading and the message is nearly word for
  word one of the KB's questions: "비번" or "wrong item" is a question, not a goodbye
  or a "no" (also right after an answer).
Every abstain, clarify, "no" and "none of these" is recorded for designers.

Besides the customer-facing text the answer carries a custom payload: `links`
for the widget and `kb` (the decision and its numbers) for the gateway, which
keeps it with the conversation for agents.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, ClassVar

import numpy as np
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import certainty, escalate, handoff_config, latest_intent, skill_for
from kb_index import unanswered
from kb_index.decision import Decision
from kb_index.embedders import EmbedderError, make_embedder
from kb_index.index import KBIndex, KBIndexError
from kb_index.retriever import Retriever
from stack.settings import Settings

log = logging.getLogger(__name__)

NONE_OF_THESE = {"ko": "해당 없음", "ja": "どれでもない", "en": "None of these"}
ARTICLE_ENTITY = "kb_article"


@functools.lru_cache(maxsize=1)
def get_retriever() -> Retriever:
    """One retriever (and so one loaded model) per action-server process.

    Created on first use, never at import: rasa-sdk's server starts workers with
    the "spawn" method and crashes if a model is built while it imports actions.
    """
    settings = Settings.from_env()
    return Retriever(settings.kb_index_dir, make_embedder(settings.embedder))


def record_unanswered(
    kind: str,
    tracker: Tracker,
    query: str,
    candidates: list[dict[str, Any]],
    vector: np.ndarray | None,
) -> None:
    """Appends the record (a small write, off the event loop: the caller's thread).
    `vector`: the question's embedding, so that grouping needs no model time."""
    try:
        unanswered.record(
            Settings.from_env().unanswered_path,
            kind,
            query,
            tracker.get_slot("language") or "en",
            candidates,
            tracker.sender_id,
            vector=vector,
            # A vector came from the retriever, which therefore exists.
            embedder_identity=get_retriever().embedder.identity if vector is not None else "",
        )
    except OSError:
        log.exception("could not record an unanswered question")  # never fail the customer


async def feedback_vector(query: str) -> np.ndarray | None:
    """The embedding of a question answered earlier (its vector was not kept then)."""
    if not query:
        return None
    try:
        return await asyncio.to_thread(get_retriever().query_vector, query)
    except (KBIndexError, EmbedderError):
        log.warning("no embedding for a 'didn't help' record: the model is unavailable")
        return None


def decision_payload(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.kind,
        "reason": decision.reason,
        "numbers": {k: round(v, 4) for k, v in decision.numbers.items()},
        "candidates": [
            {"article_id": c.article_id, "score": round(c.score, 4)} for c in decision.candidates
        ],
    }


def verdict(kind: str, article_id: str | None) -> dict[str, Any]:
    """The customer's verdict on an answer (helpful / not_helpful) or on the options
    (none_of_these): a custom payload sent after the reply it belongs to."""
    return {"kb_feedback": {"kind": kind, "article_id": article_id}}


def option_buttons(index: KBIndex, article_ids: list[str], language: str) -> list[dict[str, str]]:
    buttons = [
        {
            "title": index.articles[article_id].title_in(language),
            "payload": f'/choose_article{{"{ARTICLE_ENTITY}": "{article_id}"}}',
        }
        for article_id in article_ids
        if article_id in index.articles
    ]
    buttons.append({"title": NONE_OF_THESE.get(language, NONE_OF_THESE["en"]), "payload": "/deny"})
    return buttons


def answer_article(
    dispatcher: CollectingDispatcher,
    index: KBIndex,
    article_id: str,
    language: str,
    kb: dict[str, Any],
    related: list[str] | None = None,
) -> None:
    article = index.articles[article_id]
    links = [{"title": link.title_in(language), "url": link.url} for link in article.links]
    dispatcher.utter_message(
        text=article.answer_in(language),
        json_message={"links": links, "kb": {**kb, "article_id": article.id}},
    )
    dispatcher.utter_message(response="utter_ask_helpful")
    buttons = option_buttons(index, related or [], language)[:-1]  # no "none of these"
    if buttons:
        dispatcher.utter_message(response="utter_related", buttons=buttons)


def asked(query: str, decision: Decision) -> list[dict[str, Any]]:
    """The slots every KB reply sets: what was asked and what the KB found."""
    return [
        SlotSet("kb_last_query", query),
        SlotSet("kb_options", [c.article_id for c in decision.candidates]),
        SlotSet("kb_not_helpful", 0.0),
        SlotSet("kb_answered_over", None),
    ]


def answer(
    dispatcher: CollectingDispatcher,
    index: KBIndex,
    decision: Decision,
    language: str,
    query: str,
    answered_over: str | None = None,
) -> list[dict[str, Any]]:
    """Send the KB's confident answer (with its runners-up as related buttons).
    `answered_over`: the always-human intent NLU fairly suspected, which the answer won over."""
    assert decision.best is not None
    related = [c.article_id for c in decision.related]
    kb = decision_payload(decision)
    answer_article(dispatcher, index, decision.best.article_id, language, kb, related)
    return [
        *asked(query, decision),
        SlotSet("kb_feedback_for", decision.best.article_id),
        SlotSet("kb_misses", 0.0),
        SlotSet("kb_answered_over", answered_over),
    ]


async def kb_own_question(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]] | None:
    """The KB's answer when NLU was unsure of its reading of the latest message (below
    data/handoff.yml's `small_talk_confidence`) and the message is, nearly word for word
    (`small_talk_kb_similarity`), one of the KB's questions; None, with nothing said,
    otherwise or when the KB is unavailable. Bare FAQ keywords ("비번", "보증", "wrong
    item", "hours") sit next to short dialogue acts, and NLU reads them as greetings,
    goodbyes or a yes / no at 0.4-0.75; the KB alone would answer some real small talk
    ("それじゃなくて" -> the wrong-item article), so only a near-verbatim match counts."""
    config = handoff_config()
    _, confidence = latest_intent(tracker)
    query = str(tracker.latest_message.get("text") or "").strip()
    if not query or confidence >= float(config.get("small_talk_confidence", 0.8)):
        return None
    retriever = get_retriever()
    try:
        index = await asyncio.to_thread(lambda: retriever.index)
        decision = await asyncio.to_thread(retriever.ask, query)
    except (KBIndexError, EmbedderError):
        log.exception("knowledge base unavailable; the fixed reply stands")
        return None
    near = float(config.get("small_talk_kb_similarity", 0.95))
    if decision.kind != "answer" or decision.best is None or decision.best.dense < near:
        return None
    return answer(dispatcher, index, decision, tracker.get_slot("language") or "en", query)


def always_human(tracker: Tracker) -> tuple[str, str | None]:
    """How sure NLU is that the customer wants what only a person does ("sure",
    "likely" or "no"; data/handoff.yml), and that intent's name."""
    name, confidence = latest_intent(tracker)
    config = handoff_config()
    if name is None or name not in (config.get("always_human_intents") or {}):
        return "no", None
    if confidence >= float(config.get("always_human_sure_confidence", 0.95)):
        return "sure", name
    if confidence >= float(config.get("always_human_min_confidence", 0.6)):
        return "likely", name
    return "no", None


def complaint(tracker: Tracker) -> str:
    """Whether NLU read the latest message as a complaint: "sure" (at least
    data/handoff.yml's `complaint_handoff_confidence`), "unsure" or "no"."""
    return certainty(tracker, "complain", "complaint_handoff_confidence")


def chosen_article(tracker: Tracker) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == ARTICLE_ENTITY and entity.get("value"):
            return str(entity["value"])
    return None


# English first: tests/e2e/test_outage.py waits for it in the log.
WARM_UP_QUESTIONS = ("warm-up", "배송 문의")


class ActionWarmUp(Action):
    """Loads the embedding model and the KB index, and the Korean typo reader (Kiwi's
    typo model and the KB's words). Rasa never predicts it: the launcher calls it once
    the action server is up, so that the first customer does not wait for them (~2 s
    and ~3 s)."""

    def name(self) -> str:
        return "action_warm_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            for question in WARM_UP_QUESTIONS:
                await asyncio.to_thread(get_retriever().ask, question)
        except (KBIndexError, EmbedderError):
            log.exception("warm-up failed; the first question will report the problem")
        return []


class ActionKBSuggest(Action):
    """KB articles for an agent (the console's suggested answers). Rasa never predicts
    it: the gateway calls it with the customer's latest message and language, so the
    one loaded model serves agents too (the gateway keeps no model of its own)."""

    def name(self) -> str:
        return "action_kb_suggest"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "").strip()
        language = tracker.get_slot("language") or "en"
        suggestions: list[dict[str, Any]] = []
        if text:
            retriever = get_retriever()
            try:
                decision = await asyncio.to_thread(retriever.ask, text)
                index = retriever.index
            except (KBIndexError, EmbedderError):
                log.exception("knowledge base unavailable for agent suggestions")
                decision, index = None, None
            if decision is not None and index is not None:
                suggestions = [
                    {
                        "article_id": c.article_id,
                        "title": index.articles[c.article_id].title_in(language),
                        "answer": index.articles[c.article_id].answer_in(language),
                        "score": round(c.score, 4),
                    }
                    for c in decision.candidates[:3]
                    if c.article_id in index.articles
                ]
        dispatcher.utter_message(json_message={"suggestions": suggestions})
        return []


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = tracker.get_slot("language") or "en"
        retriever = get_retriever()
        try:
            index = await asyncio.to_thread(lambda: retriever.index)
            article_id = chosen_article(tracker)
            if article_id is not None and article_id in index.articles:
                # The customer picked one of the options we offered.
                answer_article(dispatcher, index, article_id, language, {"decision": "chosen"})
                return [SlotSet("kb_feedback_for", article_id)]
            query = (tracker.latest_message.get("text") or "").strip()
            # Embedding is CPU work: keep the action server's event loop free.
            decision = await asyncio.to_thread(retriever.ask, query)
        except (KBIndexError, EmbedderError):
            log.exception("knowledge base unavailable")
            dispatcher.utter_message(response="utter_kb_unavailable")
            return []

        kb = decision_payload(decision)
        options = [c.article_id for c in decision.candidates]
        human, intent = always_human(tracker)
        events = asked(query, decision)
        if human == "sure":
            return [*events, *escalate(dispatcher, "always_human", skill_for(intent), kb=kb)]
        if decision.kind == "answer" and decision.best is not None:
            answered_over = intent if human == "likely" else None
            return answer(dispatcher, index, decision, language, query, answered_over)
        if human == "likely":
            return [*events, *escalate(dispatcher, "always_human", skill_for(intent), kb=kb)]
        misses = float(tracker.get_slot("kb_misses") or 0) + 1
        upset = complaint(tracker)
        if upset != "no" and decision.kind == "abstain":
            # The apology offers a person; a complaint NLU is sure of, or one after
            # another unanswered message, is handed over at once.
            dispatcher.utter_message(response="utter_empathize", json_message={"kb": kb})
            if upset == "sure" or misses >= 2:
                return [*events, *escalate(dispatcher, "complaint")]
            return [*events, SlotSet("kb_feedback_for", None), SlotSet("kb_misses", misses)]
        await asyncio.to_thread(
            record_unanswered,
            # a question the KB lists as not covered: designers see it is already known
            "not_covered" if decision.reason == "not_covered" else decision.kind,
            tracker,
            query,
            kb["candidates"],
            decision.query_vector,
        )
        if decision.kind == "clarify":
            dispatcher.utter_message(
                response="utter_clarify",
                buttons=option_buttons(index, options, language),
                json_message={"kb": kb},
            )
            return [*events, SlotSet("kb_feedback_for", "clarify")]
        if misses >= 2:
            return [*events, *escalate(dispatcher, "misses", kb=kb)]
        dispatcher.utter_message(response="utter_faq_no_match", json_message={"kb": kb})
        return [*events, SlotSet("kb_feedback_for", None), SlotSet("kb_misses", misses)]


class ActionSmallTalk(Action):
    """Greetings, thanks, goodbyes and "are you a bot?": the fixed reply, unless the
    message is one of the KB's own questions NLU was unsure of (`kb_own_question`)."""

    REPLIES: ClassVar[dict[str, str]] = {
        "greet": "utter_greet",
        "goodbye": "utter_goodbye",
        "thanks": "utter_youre_welcome",
        "bot_challenge": "utter_iamabot",
    }

    def name(self) -> str:
        return "action_small_talk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        answered = await kb_own_question(dispatcher, tracker)
        if answered is not None:
            return answered
        intent, _ = latest_intent(tracker)
        dispatcher.utter_message(response=self.REPLIES.get(intent or "", "utter_greet"))
        return []


class ActionFaqFeedback(Action):
    """Handles yes / no after an answer, and "none of these" after options."""

    def name(self) -> str:
        return "action_faq_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # "wrong item" or "보증" after an answer is a new question, not a yes / no.
        answered = await kb_own_question(dispatcher, tracker)
        if answered is not None:
            return answered
        intent, _ = latest_intent(tracker)
        feedback_for = tracker.get_slot("kb_feedback_for")
        answered_over = tracker.get_slot("kb_answered_over")
        if intent == "affirm":
            dispatcher.utter_message(response="utter_glad")
            if feedback_for and feedback_for != "clarify":
                dispatcher.utter_message(json_message=verdict("helpful", feedback_for))
            return [
                SlotSet("kb_feedback_for", None),
                SlotSet("kb_not_helpful", 0.0),
                SlotSet("kb_answered_over", None),
            ]
        if not feedback_for:  # a "no" that answers nothing we asked
            dispatcher.utter_message(response="utter_sorry_not_helpful")
            return []

        query = tracker.get_slot("kb_last_query") or ""
        options = [a for a in tracker.get_slot("kb_options") or [] if a != feedback_for]
        misses = float(tracker.get_slot("kb_not_helpful") or 0) + 1
        kind = "none_of_these" if feedback_for == "clarify" else "not_helpful"
        candidates = [{"article_id": a, "score": None} for a in options]
        vector = await feedback_vector(query)
        await asyncio.to_thread(record_unanswered, kind, tracker, query, candidates, vector)
        events = [
            SlotSet("kb_not_helpful", misses),
            SlotSet("kb_feedback_for", None),
            SlotSet("kb_answered_over", None),
        ]
        # The gateway stores the verdict with the reply it follows (analytics).
        said = verdict(kind, None if kind == "none_of_these" else feedback_for)
        if kind == "not_helpful" and answered_over:
            # NLU fairly suspected a billing dispute and the KB answered instead: that
            # did not help, so the person it needs, now, rather than more articles.
            handed_over = escalate(dispatcher, "always_human", skill_for(answered_over))
            dispatcher.utter_message(json_message=said)
            return [*events, *handed_over]
        if kind == "not_helpful" and misses < 2 and options:
            index = get_retriever().index
            language = tracker.get_slot("language") or "en"
            dispatcher.utter_message(
                response="utter_clarify_after_no",
                buttons=option_buttons(index, options[:3], language),
            )
            dispatcher.utter_message(json_message=said)
            return [
                SlotSet("kb_not_helpful", misses),
                SlotSet("kb_feedback_for", "clarify"),
                SlotSet("kb_options", options),
            ]
        if kind == "not_helpful":  # the second "that did not help"
            handed_over = escalate(dispatcher, "not_helpful")
            dispatcher.utter_message(json_message=said)
            return [*events, *handed_over]
        dispatcher.utter_message(response="utter_sorry_not_helpful")
        dispatcher.utter_message(json_message=said)
        return events

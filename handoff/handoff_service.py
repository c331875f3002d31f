"""People in the loop: escalation, the queue, agents, and giving the chat back to the bot.

The gateway owns a conversation from the moment an action asks for a person
(its reply carries `{"handoff": {reason, priority, skill}}` and Rasa is paused)
until an agent resolves it: then Rasa gets `resume` + `action_listen` and the
bot asks the customer for a rating.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handoff.coverage import Coverage, format_reopening
from handoff.handoff_store import Agent, Handoff, HandoffStore
from handoff.hub import Hub
from handoff.models import Conversation, Message, Reply
from handoff.rasa_client import BotUnavailable, RasaClient
from handoff.state_machine import InvalidTransition
from handoff.store import Store
from handoff.texts import localized
from kb_index.retriever import Retriever

log = logging.getLogger(__name__)

# An agent counts as online while a console is connected, or for this long
# after their last API call.
ONLINE_SECONDS = 300.0
DEFAULT_HANDLING_SECONDS = 240.0
# A waiting customer with no open connection who has said nothing for this long
# has left: the chat is marked abandoned and goes back to the bot.
ABANDON_AFTER_SECONDS = 600.0
CANCEL_PAYLOAD = "/cancel_handoff"
CANCEL_WORDS = {"cancel", "취소", "キャンセル", "取り消し"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d\s-]{7,}\d")
SMALL_TALK_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "rate", "handoff_done"}

QUEUED = {
    "ko": "상담원 연결을 기다리는 중이에요. 대기 순서: {position}번째, 예상 대기 시간: 약 {minutes}분.",
    "ja": "担当者の対応をお待ちください。順番: {position}番目、予想待ち時間: 約{minutes}分。",
    "en": "Waiting for a person. You are number {position} in the queue, about {minutes} min.",
}
CLOSED = {
    "ko": "지금은 상담 시간이 아니에요. 상담원은 {reopening}부터 연결됩니다. "
    "문의 내용과 이메일 또는 전화번호를 남겨주시면 담당자가 연락드릴게요.",
    "ja": "ただいま営業時間外です。担当者の対応は{reopening}からです。"
    "お問い合わせ内容とメールアドレスまたは電話番号を残していただければ、担当者からご連絡します。",
    "en": "Our team is away right now and back {reopening}. "
    "Leave your message with an email or phone number and we'll get back to you.",
}
NOBODY = {
    "ko": "지금은 상담 가능한 상담원이 없어요. "
    "문의 내용과 이메일 또는 전화번호를 남겨주시면 담당자가 연락드릴게요.",
    "ja": "ただいま対応できる担当者がいません。"
    "お問い合わせ内容とメールアドレスまたは電話番号を残していただければ、担当者からご連絡します。",
    "en": "Nobody from our team is available right now. "
    "Leave your message with an email or phone number and we'll get back to you.",
}
ASK_CONTACT = {
    "ko": "연락받으실 이메일 주소나 전화번호도 함께 남겨주세요.",
    "ja": "ご連絡先のメールアドレスか電話番号もお知らせください。",
    "en": "Please add an email address or phone number we can reach you at.",
}
TICKET_CREATED = {
    "ko": "접수되었습니다 (문의 번호 #{ticket}). 담당자가 {contact}(으)로 연락드릴게요.",
    "ja": "承りました（お問い合わせ番号 #{ticket}）。担当者から{contact}にご連絡します。",
    "en": "Got it (ticket #{ticket}). Our team will contact you at {contact}.",
}
CANCELLED = {
    "ko": "상담원 연결을 취소했어요. 계속 챗봇이 도와드릴게요.",
    "ja": "担当者への接続をキャンセルしました。引き続きチャットボットがお手伝いします。",
    "en": "Cancelled. You're back with the assistant.",
}
AGENT_JOINED = {
    "ko": "상담원 {name}님이 연결되었어요.",
    "ja": "担当者の{name}がチャットに参加しました。",
    "en": "{name} from our team has joined the chat.",
}
CANCEL_BUTTON = {"ko": "대기 취소", "ja": "キャンセル", "en": "Cancel"}


class HandoffError(Exception):
    """An agent action that cannot be done; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class QueueSnapshot:
    queued: list[Handoff]
    load: dict[str, int]  # open chats per agent
    handling_seconds: float


@dataclass
class Presence:
    last_seen: dict[str, float] = field(default_factory=dict)
    sockets: dict[str, int] = field(default_factory=dict)

    def seen(self, username: str) -> None:
        self.last_seen[username] = time.time()

    def online(self, username: str) -> bool:
        recent = time.time() - self.last_seen.get(username, 0.0) < ONLINE_SECONDS
        return self.sockets.get(username, 0) > 0 or recent


class HandoffService:
    def __init__(
        self,
        store: Store,
        handoffs: HandoffStore,
        rasa: RasaClient,
        hub: Hub,
        config: dict[str, Any],
        coverage: Coverage | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        self.store = store
        self.handoffs = handoffs
        self.rasa = rasa
        self.hub = hub
        self.config = config
        self.coverage = coverage
        self.retriever = retriever
        self.presence = Presence()
        self._agents: list[Agent] = []

    # -- escalation -------------------------------------------------------------

    async def escalate(self, conversation: Conversation, info: dict[str, Any]) -> list[Message]:
        """Queue the conversation for a person (or take an offline ticket)."""
        reason = str(info.get("reason") or "requested")
        skill = info.get("skill") or None
        priority = int(info.get("priority") or 1)
        context = await self.build_context(conversation)
        await self.refresh_agents()
        try:
            await self.store.transition(conversation.id, "escalate", {"reason": reason})
        except InvalidTransition:
            return []  # already with people
        handoff = await self.handoffs.enqueue(
            conversation.id,
            reason,
            priority,
            conversation.language,
            skill,
            context["summary"],
            context,
        )
        language = conversation.language
        unavailable = self._unavailable_notice(language, skill)
        if unavailable is not None:
            # Still queued (an agent who comes online can take it), but the
            # customer's next message becomes an offline ticket.
            handoff.context["offline"] = True
            await self.handoffs.save_context(handoff)
            text = unavailable
        else:
            status = self.queue_status(handoff, await self.snapshot())
            text = localized(QUEUED, language).format(
                position=status["position"],
                minutes=max(1, math.ceil(status["estimated_wait_seconds"] / 60)),
            )
        notice = await self._system(conversation.id, text, cancel_button=language)
        self.hub.publish(conversation.id, await self.state_frame(conversation.id))
        await self.broadcast_queue()
        return [notice]

    def _unavailable_notice(self, language: str, skill: str | None) -> str | None:
        """None when someone can take the chat now; else what to tell the customer."""
        now = datetime.now(UTC)
        if self.coverage is not None and not self.coverage.is_open(language, now):
            opening = self.coverage.next_opening(language, now)
            if opening is not None:
                return localized(CLOSED, language).format(
                    reopening=format_reopening(opening, language, now=now)
                )
            return localized(NOBODY, language)
        if not self._eligible_online(language, skill):
            return localized(NOBODY, language)
        return None

    def _eligible_online(self, language: str, skill: str | None) -> list[Agent]:
        return [
            a
            for a in self._agents
            if a.can_take(language, skill) and self.presence.online(a.username)
        ]

    async def refresh_agents(self) -> None:
        self._agents = await self.handoffs.agents()

    # -- while people own the conversation ----------------------------------------

    async def customer_message(
        self, conversation: Conversation, message: Message, payload: str | None
    ) -> list[Message]:
        """A customer message while queued or assigned: to the agent, or a ticket."""
        handoff = await self.handoffs.open_handoff(conversation.id)
        if handoff is None:
            return []
        text = message.text.strip()
        wants_to_cancel = payload == CANCEL_PAYLOAD or text.casefold() in CANCEL_WORDS
        if wants_to_cancel and handoff.status == "queued":
            return await self.cancel(conversation, handoff)
        if handoff.status == "assigned" and handoff.agent:
            self.hub.publish(
                agent_channel(handoff.agent),
                {"type": "message", "conversation_id": conversation.id, **message.public()},
            )
            return []
        if handoff.context.get("offline"):
            return await self._offline_message(conversation, handoff, message)
        await self.broadcast_queue()  # the summary shows the latest message
        return []

    async def _offline_message(
        self, conversation: Conversation, handoff: Handoff, message: Message
    ) -> list[Message]:
        language = conversation.language
        pending = handoff.context.setdefault("ticket_lines", [])
        pending.append(message.text)
        joined = "\n".join(pending)
        contact: dict[str, str] = {}
        if match := _EMAIL.search(joined):
            contact["email"] = match.group(0)
        if match := _PHONE.search(joined):
            contact["phone"] = match.group(0).strip()
        if not contact and conversation.customer.get("email"):
            contact["email"] = str(conversation.customer["email"])
        if not contact:
            await self.handoffs.save_context(handoff)
            return [await self._system(conversation.id, localized(ASK_CONTACT, language))]
        if conversation.customer.get("name"):
            contact["name"] = str(conversation.customer["name"])
        ticket = await self.handoffs.create_ticket(conversation.id, language, contact, joined)
        await self.handoffs.close(handoff.id, "offline_ticket")
        await self.store.transition(conversation.id, "take_ticket", {"ticket": ticket})
        reach = contact.get("email") or contact.get("phone") or ""
        notice = await self._system(
            conversation.id,
            localized(TICKET_CREATED, language).format(ticket=ticket, contact=reach),
        )
        await self._back_to_bot(conversation.id, ask_rating=False)
        await self.broadcast_queue()
        return [notice]

    async def cancel(self, conversation: Conversation, handoff: Handoff) -> list[Message]:
        await self.store.transition(conversation.id, "cancel")
        await self.handoffs.close(handoff.id, "cancelled")
        notice = await self._system(conversation.id, localized(CANCELLED, conversation.language))
        await self._back_to_bot(conversation.id, ask_rating=False)
        await self.broadcast_queue()
        return [notice]

    async def _back_to_bot(self, conversation_id: str, ask_rating: bool) -> list[Message]:
        """Give the conversation back to Rasa; optionally the bot asks for a rating."""
        await self.store.transition(conversation_id, "return_to_bot")
        self.hub.publish(conversation_id, await self.state_frame(conversation_id))
        try:
            await self.rasa.resume(conversation_id)
            if not ask_rating:
                return []
            replies = await self.rasa.trigger_intent(conversation_id, "handoff_done")
        except BotUnavailable:
            log.exception("could not hand %s back to Rasa", conversation_id)
            return []
        stored = await self.store.add_replies(conversation_id, replies)
        for message in stored:
            self.hub.publish(conversation_id, {"type": "message", **message.public()})
        return stored

    async def _system(
        self, conversation_id: str, text: str, cancel_button: str | None = None
    ) -> Message:
        buttons = (
            [{"title": localized(CANCEL_BUTTON, cancel_button), "payload": CANCEL_PAYLOAD}]
            if cancel_button
            else []
        )
        [message] = await self.store.add_replies(
            conversation_id, [Reply(text=text, buttons=buttons, role="system")]
        )
        self.hub.publish(conversation_id, {"type": "message", **message.public()})
        return message

    async def abandon_stale(self, now: float | None = None) -> list[str]:
        """Mark as abandoned the queued chats whose customer has gone; returns their ids."""
        now = time.time() if now is None else now
        gone = []
        for handoff in await self.handoffs.queued():
            if self.hub.has_subscribers(handoff.conversation_id):
                continue
            conversation = await self.store.get_conversation(handoff.conversation_id)
            if conversation is None:
                continue
            last = datetime.fromisoformat(conversation.updated_at.replace("Z", "+00:00"))
            if now - last.timestamp() < ABANDON_AFTER_SECONDS:
                continue
            try:
                await self.store.transition(conversation.id, "abandon")
            except InvalidTransition:
                continue
            await self.handoffs.close(handoff.id, "abandoned")
            await self._back_to_bot(conversation.id, ask_rating=False)
            gone.append(conversation.id)
        if gone:
            await self.broadcast_queue()
        return gone

    # -- the queue ----------------------------------------------------------------------

    async def snapshot(self) -> QueueSnapshot:
        """The queue, each agent's load and recent handling time, read once."""
        recent = await self.handoffs.recent_handling_seconds()
        return QueueSnapshot(
            queued=await self.handoffs.queued(),
            load=await self.handoffs.assigned_counts(),
            handling_seconds=sum(recent) / len(recent) if recent else DEFAULT_HANDLING_SECONDS,
        )

    def queue_status(self, handoff: Handoff, snapshot: QueueSnapshot) -> dict[str, int]:
        """Position among chats waiting for the same kind of agent, and a wait estimate."""
        waiting = [
            h.id
            for h in snapshot.queued
            if h.language == handoff.language and h.skill == handoff.skill
        ]
        position = waiting.index(handoff.id) + 1 if handoff.id in waiting else 1
        agents = self._eligible_online(handoff.language, handoff.skill)
        free = sum(max(0, a.capacity - snapshot.load.get(a.username, 0)) for a in agents)
        if position <= free:
            estimate = 30.0  # someone can pick it up right away
        else:
            rounds = math.ceil((position - free) / max(1, len(agents)))
            estimate = rounds * snapshot.handling_seconds
        return {"position": position, "estimated_wait_seconds": int(estimate)}

    async def state_frame(
        self, conversation_id: str, snapshot: QueueSnapshot | None = None
    ) -> dict[str, Any]:
        conversation = await self.store.get_conversation(conversation_id)
        state = conversation.state if conversation else "bot"
        frame: dict[str, Any] = {"type": "state", "state": state}
        if state != "queued":
            return frame
        snapshot = snapshot or await self.snapshot()
        handoff = next((h for h in snapshot.queued if h.conversation_id == conversation_id), None)
        if handoff is not None and not handoff.context.get("offline"):
            frame["queue"] = self.queue_status(handoff, snapshot)
        return frame

    async def queue_for(
        self, agent: Agent, snapshot: QueueSnapshot | None = None
    ) -> list[dict[str, Any]]:
        now = time.time()
        queued = snapshot.queued if snapshot else await self.handoffs.queued()
        return [h.queue_item(now) for h in queued if agent.can_take(h.language, h.skill)]

    async def broadcast_queue(self) -> None:
        """Every connected agent gets their queue; every waiting customer their position."""
        await self.refresh_agents()
        snapshot = await self.snapshot()
        for agent in self._agents:
            if self.presence.sockets.get(agent.username):
                self.hub.publish(
                    agent_channel(agent.username),
                    {"type": "queue", "items": await self.queue_for(agent, snapshot)},
                )
        for handoff in snapshot.queued:
            if not handoff.context.get("offline") and self.hub.has_subscribers(
                handoff.conversation_id
            ):
                self.hub.publish(
                    handoff.conversation_id,
                    {
                        "type": "state",
                        "state": "queued",
                        "queue": self.queue_status(handoff, snapshot),
                    },
                )

    # -- agents -------------------------------------------------------------------------

    async def accept(self, agent: Agent, conversation_id: str) -> dict[str, Any]:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None:
            raise HandoffError("not_waiting", "this conversation is not waiting for a person")
        if handoff.status == "assigned":
            raise HandoffError("already_assigned", f"{handoff.agent} already took this chat")
        if not agent.can_take(handoff.language, handoff.skill):
            raise HandoffError("not_eligible", "this chat needs another language or skill")
        if len(await self.handoffs.assigned_to(agent.username)) >= agent.capacity:
            raise HandoffError("at_capacity", f"you already have {agent.capacity} chats")
        if not await self.handoffs.assign(handoff.id, agent.username):
            raise HandoffError("already_assigned", "another agent took this chat first")
        await self.store.transition(conversation_id, "assign", {"agent": agent.username})
        conversation = await self.store.get_conversation(conversation_id)
        assert conversation is not None
        await self._system(
            conversation_id,
            localized(AGENT_JOINED, conversation.language).format(name=agent.display_name),
        )
        self.hub.publish(conversation_id, await self.state_frame(conversation_id))
        await self.broadcast_queue()
        return await self.agent_view(agent, conversation_id)

    async def agent_view(self, agent: Agent, conversation_id: str) -> dict[str, Any]:
        handoff = await self.handoffs.latest_handoff(conversation_id)
        if handoff is None or handoff.agent != agent.username:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        conversation = await self.store.get_conversation(conversation_id)
        assert conversation is not None
        context = await self.build_context(conversation)
        return {
            "conversation_id": conversation_id,
            "state": conversation.state,
            "language": conversation.language,
            "reason": handoff.reason,
            "summary": handoff.summary,
            "transcript": context["transcript"],
            "bot_attempts": context["bot_attempts"],
            "customer": context["customer"],
        }

    async def agent_message(self, agent: Agent, conversation_id: str, text: str) -> Message:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None or handoff.status != "assigned" or handoff.agent != agent.username:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        message, _ = await self.store.add_message(conversation_id, "agent", text)
        self.hub.publish(conversation_id, {"type": "message", **message.public()})
        self.hub.publish(
            agent_channel(agent.username),
            {"type": "message", "conversation_id": conversation_id, **message.public()},
        )
        return message

    async def agent_typing(self, agent: Agent, conversation_id: str, on: bool) -> None:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is not None and handoff.agent == agent.username:
            self.hub.publish(conversation_id, {"type": "typing", "on": on})

    async def resolve(self, agent: Agent, conversation_id: str) -> None:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None or handoff.status != "assigned" or handoff.agent != agent.username:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        await self.store.transition(conversation_id, "resolve", {"agent": agent.username})
        await self.handoffs.close(handoff.id, "resolved")
        self.hub.publish(
            agent_channel(agent.username),
            {"type": "state", "conversation_id": conversation_id, "state": "resolved"},
        )
        await self._back_to_bot(conversation_id, ask_rating=True)
        await self.broadcast_queue()

    async def suggestions(self, conversation_id: str) -> list[dict[str, Any]]:
        """KB answers for the customer's latest message, in the customer's language."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None or self.retriever is None:
            return []
        customer_lines = [
            m for m in await self.store.messages(conversation_id) if m.role == "customer"
        ]
        if not customer_lines:
            return []
        retriever = self.retriever
        decision = await asyncio.to_thread(retriever.ask, customer_lines[-1].text)
        index = retriever.index
        return [
            {
                "article_id": c.article_id,
                "title": index.articles[c.article_id].title_in(conversation.language),
                "answer": index.articles[c.article_id].answer_in(conversation.language),
                "score": round(c.score, 4),
            }
            for c in decision.candidates[:3]
            if c.article_id in index.articles
        ]

    # -- context ------------------------------------------------------------------------

    async def build_context(self, conversation: Conversation) -> dict[str, Any]:
        """Everything an agent needs so the customer never repeats themselves."""
        messages = await self.store.messages(conversation.id)
        intents = await self._intents(conversation.id)
        transcript: list[dict[str, Any]] = []
        cursor = 0
        for message in messages:
            entry = message.public()
            if message.role == "customer":
                said = message.payload or message.text
                for i in range(cursor, len(intents)):
                    if intents[i][0] == said:
                        entry["intent"] = intents[i][1]
                        cursor = i + 1
                        break
            transcript.append(entry)
        attempts = self._bot_attempts(messages)
        customer_lines = [t for t in transcript if t["role"] == "customer"]
        first = next(
            (
                t["text"]
                for t in customer_lines
                if (t.get("intent") or {}).get("name") not in SMALL_TALK_INTENTS
            ),
            customer_lines[0]["text"] if customer_lines else "",
        )
        last = customer_lines[-1]["text"] if customer_lines else ""
        summary = first if first == last else f"{first} … {last}"
        earlier = await self.store.conversations_of_customer(conversation.customer, conversation.id)
        earlier_items = []
        for other in earlier:
            lines = [m.text for m in await self.store.messages(other.id) if m.role == "customer"]
            earlier_items.append(
                {
                    "conversation_id": other.id,
                    "created_at": other.created_at,
                    "summary": lines[0] if lines else "",
                }
            )
        return {
            "summary": summary[:300],
            "language": conversation.language,
            "transcript": transcript,
            "bot_attempts": attempts,
            "customer": {**conversation.customer, "earlier_conversations": earlier_items},
        }

    async def _intents(self, conversation_id: str) -> list[tuple[str, dict[str, Any]]]:
        try:
            events = await self.rasa.tracker_events(conversation_id)
        except BotUnavailable:
            return []
        found = []
        for event in events:
            if event.get("event") == "user":
                intent = (event.get("parse_data") or {}).get("intent") or {}
                found.append(
                    (
                        str(event.get("text") or ""),
                        {
                            "name": intent.get("name"),
                            "confidence": round(float(intent.get("confidence") or 0), 3),
                        },
                    )
                )
        return found

    def _bot_attempts(self, messages: list[Message]) -> list[dict[str, Any]]:
        attempts: list[dict[str, Any]] = []
        last_customer = ""
        for message in messages:
            if message.role == "customer":
                feedback = {"/affirm": "helpful", "/deny": "not_helpful"}.get(message.payload or "")
                if feedback and attempts and "feedback" not in attempts[-1]:
                    attempts[-1]["feedback"] = feedback
                if not feedback:
                    last_customer = message.text
                continue
            kb = message.meta.get("kb")
            if not isinstance(kb, dict):
                continue
            articles = [
                {
                    "article_id": c.get("article_id"),
                    "title": self._title(str(c.get("article_id")), message),
                    "score": c.get("score"),
                }
                for c in kb.get("candidates") or []
            ]
            if kb.get("article_id") and not articles:
                articles = [
                    {
                        "article_id": kb["article_id"],
                        "title": self._title(kb["article_id"], message),
                        "score": None,
                    }
                ]
            attempts.append(
                {"query": last_customer, "decision": kb.get("decision"), "articles": articles}
            )
        return attempts

    def _title(self, article_id: str, message: Message) -> str:
        if self.retriever is None:
            return article_id
        try:
            article = self.retriever.index.articles.get(article_id)
        except Exception:
            return article_id
        return article.title_in("en") if article else article_id


def agent_channel(username: str) -> str:
    return f"agent:{username}"

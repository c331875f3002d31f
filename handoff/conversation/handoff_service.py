"""People in the loop: escalation, the queue, agents, and giving the chat back to the bot.

The gateway owns a conversation from the moment an action asks for a person
(its reply carries `{"handoff": {reason, priority, skill}}` and Rasa is paused), or
the customer asks for one while the bot is down, until an agent resolves it: then the
relay (bot_relay.py) gives Rasa `resume` + `action_listen` and the bot asks the
customer for a rating, as soon as Rasa is reachable.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import monotonic  # (tests replace the `time` module here)
from typing import Any, Literal

from common.jsonlog import conversation_context
from common.pii import find_emails, find_phones, mask_secrets, redact_strings
from handoff.agent.assist import AssistUnavailable, KBAssist
from handoff.conversation.bot_relay import BotRelay, for_bot
from handoff.conversation.coverage import Coverage, format_reopening
from handoff.conversation.models import (
    Agent,
    Availability,
    Conversation,
    Handoff,
    Message,
    Note,
    Reply,
)
from handoff.conversation.queue_broadcast import (
    AGENT_INTERVAL,
    CUSTOMER_INTERVAL,
    AgentKind,
    Capacity,
    Coalescer,
    EncodedFrame,
    QueueFeed,
    QueueKey,
    queue_key,
    queue_positions,
    wait_estimate,
)
from handoff.conversation.rasa_client import BotUnavailable, RasaClient
from handoff.conversation.state_machine import InvalidTransition
from handoff.conversation.tickets import TicketDesk
from handoff.customer.texts import GatewayTexts
from handoff.realtime.hub import Realtime
from handoff.store.interface import Handoffs, Store, note_text
from handoff.web.metrics import Metrics
from kb_index.retriever import IndexReader

log = logging.getLogger(__name__)

# An agent is here (Presence) while a console is connected, or for this long after
# their last API call; a console closing counts as one. This is the grace period: a
# reload or a dropped connection is not leaving. After it they count as away
# (`HandoffService.status_of`), whatever they set, until a console opens again.
ONLINE_SECONDS = 300.0
DEFAULT_HANDLING_SECONDS = 240.0
# A waiting customer with no open connection who has said nothing for this long
# has left: the chat is marked abandoned and goes back to the bot.
ABANDON_AFTER_SECONDS = 600.0
CANCEL_PAYLOAD = "/cancel_handoff"
SMALL_TALK_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "rate", "handoff_done"}


# How many handoffs' first agent reply a gateway remembers having recorded.
_FIRST_REPLIES_KEPT = 10_000
# What supervisors see of an agent (`HandoffService.status_of`): what they set, unless
# they are not here (away) or not signed in at all (offline).
AgentStatus = Literal["online", "away", "busy", "offline"]
# The events of an agent passing a chat on (state_machine.py), listed in the agent's view.
TRANSFERS = ("transfer", "transfer_to_queue")
# The queue frame of a console whose agent takes no new chats (away or busy).
_NO_NEW_CHATS = EncodedFrame(type="queue", items=[])
# The hub channel on which a gateway replica tells the others that the queue changed,
# so that they update their own consoles and waiting customers now.
QUEUE_CHANGES = "queue:changes"
_QUEUE_CHANGED = {"type": "queue_changed"}


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
    """Who is here, whatever they set: a console open here (`sockets`), a console open on
    another gateway replica (`elsewhere`: the hub knows who listens on the agent's
    channel), or an API call to this replica in the last ONLINE_SECONDS (the grace
    period). Availability (online / away / busy) is the agent's own word on top of it."""

    last_seen: dict[str, float] = field(default_factory=dict)
    sockets: dict[str, int] = field(default_factory=dict)
    elsewhere: Callable[[str], bool] = lambda username: False

    def seen(self, username: str) -> None:
        self.last_seen[username] = time.time()

    def forget(self, username: str) -> None:
        """Signed out: no grace period (a console still open keeps them here)."""
        self.last_seen.pop(username, None)

    def online(self, username: str) -> bool:
        if self.sockets.get(username, 0) > 0 or self.elsewhere(username):
            return True
        return time.time() - self.last_seen.get(username, 0.0) < ONLINE_SECONDS


class HandoffService:
    def __init__(
        self,
        store: Store,
        handoffs: Handoffs,
        rasa: RasaClient,
        relay: BotRelay,
        hub: Realtime,
        texts: GatewayTexts,
        config: dict[str, Any],
        coverage: Coverage | None = None,
        assist: KBAssist | None = None,
        catalog: IndexReader | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.store = store
        self.handoffs = handoffs
        self.rasa = rasa
        self.relay = relay
        self.hub = hub
        self.texts = texts
        self.config = config
        self.coverage = coverage
        self.assist = assist  # suggested answers (the action server's retrieval)
        self.catalog = catalog  # article titles for the console (no model needed)
        self.presence = Presence(elsewhere=lambda name: hub.has_subscribers(agent_channel(name)))
        self._agents: list[Agent] = []
        # Queue frames, coalesced (queue_broadcast.py): what each waiting customer on this
        # replica was last told, and the inputs of the wait estimate, read at most 1/s.
        self._told: dict[str, tuple[int, int]] = {}
        self._load_cache: dict[str, int] = {}
        self._load_read_at = -math.inf
        self._handling_seconds = DEFAULT_HANDLING_SECONDS
        # Handoffs whose first agent reply this gateway has recorded: later replies need
        # no write (the store keeps the first time only; another replica may write it
        # once more, harmlessly). Bounded: forgotten all at once when full.
        self._first_reply_noted: set[int] = set()
        self._agents_saw = 0
        self.position_frames = Coalescer(
            CUSTOMER_INTERVAL, self._flush_customers, name="queue positions"
        )
        self.queue_frames = Coalescer(AGENT_INTERVAL, self._flush_agents, name="agent queues")
        self.queue_feed = QueueFeed()  # what each console here was sent of its queue
        # Called (cheaply: they coalesce) whenever the queue, an assignment or an agent's
        # presence changes: the supervisors' live view (handoff/agent/live_view.py) listens.
        self.watchers: list[Callable[[], None]] = []
        # Offline tickets at the agents' desk (tickets.py): claim, reply, release, close.
        self.tickets = TicketDesk(store, handoffs, hub, texts, self.metrics, agent_channel)

    # -- escalation -------------------------------------------------------------

    async def escalate(self, conversation: Conversation, info: dict[str, Any]) -> list[Message]:
        """Queue the conversation for a person (or take an offline ticket)."""
        reason = str(info.get("reason") or "requested")
        skill = info.get("skill") or None
        priority = int(info.get("priority") or 1)
        context = await self.build_context(conversation)
        if info.get("bot_unavailable"):
            context["bot_unavailable"] = True  # the customer asked while the bot was down
        await self.refresh_agents()
        try:
            await self.store.transition(conversation.id, "escalate", {"reason": reason})
        except InvalidTransition:
            return []  # already with people
        self.metrics.handoffs.labels(reason).inc()
        log.info("queued for a person: reason %s, language %s", reason, conversation.language)
        kept = stored_context(context)
        handoff = await self.handoffs.enqueue(
            conversation.id,
            reason,
            priority,
            conversation.language,
            skill,
            kept["summary"],
            kept,
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
            status = await self.position_of(handoff)
            text = self.texts.say(
                "queued",
                language,
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
                return self.texts.say(
                    "closed", language, reopening=format_reopening(opening, language, now=now)
                )
            return self.texts.say("nobody", language)
        if not self._eligible_online(language, skill):
            return self.texts.say("nobody", language)
        return None

    def _eligible_online(self, language: str, skill: str | None) -> list[Agent]:
        return [a for a in self._agents if a.can_take(language, skill) and self.takes_new_chats(a)]

    # -- availability -------------------------------------------------------------------

    def takes_new_chats(self, agent: Agent) -> bool:
        """Whether `agent` is offered new chats (queue frames, GET queue), may accept one,
        and counts in the capacity behind the customers' wait estimate and the "nobody is
        available" notice: set online, and here (a console open, or within the grace period)."""
        return agent.availability == "online" and self.presence.online(agent.username)

    def status_of(self, agent: Agent, signed_in: Collection[str]) -> AgentStatus:
        """What the supervisors' live view shows. Here (Presence): what they set, so
        `online` is exactly `takes_new_chats`. Not here: `away` while signed in (auto-away:
        the last console closed more than ONLINE_SECONDS ago, whatever they set), `offline`
        without a live session (signed out, or it expired)."""
        if self.presence.online(agent.username):
            return agent.availability
        return "away" if agent.username in signed_in else "offline"

    async def set_availability(self, agent: Agent, availability: Availability) -> Agent:
        """The agent sets their availability in the console's header.

        - `online`: offered new chats and counted in the wait estimate while here.
        - `away`: not at the desk. Offered no new chats, cannot accept one, not counted
          in the wait estimate, and a supervisor cannot give them one either (nobody
          would answer: `agent_away`, even with force).
        - `busy`: at the desk, working the chats they have, taking no new ones: like
          away, except that a supervisor may still give them a chat with `force`.
          Shown as busy (not away) to supervisors.

        Either way they keep, and can still work and resolve, the chats they already
        have. Stored with the agent (every replica routes by it); pushed to the agent's
        consoles (an `availability` frame) and, through the queue flush, to customers'
        wait estimates and the supervisors' live view."""
        updated = await self.handoffs.set_availability(agent.username, availability)
        if updated is None:  # removed meanwhile; the session check let the request in
            raise HandoffError("unknown_agent", f"there is no agent called {agent.username!r}")
        log.info("%s set their availability to %s", agent.username, availability)
        self.hub.publish(
            agent_channel(agent.username), {"type": "availability", "availability": availability}
        )
        await self.refresh_agents()
        await self.broadcast_queue()
        return updated

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
        wants_to_cancel = payload == CANCEL_PAYLOAD or self.texts.is_word("cancel", text)
        if wants_to_cancel and handoff.status == "queued":
            return await self.cancel(conversation, handoff)
        if handoff.status == "assigned" and handoff.agent:
            self.relay_to_agent(handoff.agent, conversation.id, message)
            return []
        if handoff.context.get("offline"):
            return await self._offline_message(conversation, handoff, message)
        await self.broadcast_queue()  # the summary shows the latest message
        return []

    def relay_to_agent(self, agent: str, conversation_id: str, message: Message) -> None:
        """A customer message to the agent who has the chat (on whichever replica)."""
        self.hub.publish(
            agent_channel(agent),
            {"type": "message", "conversation_id": conversation_id, **message.public()},
        )

    async def _offline_message(
        self, conversation: Conversation, handoff: Handoff, message: Message
    ) -> list[Message]:
        language = conversation.language
        # The context keeps which messages make the ticket, not their text: they may hold
        # the contact details, which stay in the transcript and the ticket only.
        seqs = handoff.context.setdefault("ticket_seqs", [])
        seqs.append(message.seq)
        said = {m.seq: m.text for m in await self.store.messages(conversation.id)}
        joined = "\n".join(said.get(seq, "") for seq in seqs)
        contact: dict[str, str] = {}
        if emails := find_emails(joined):
            contact["email"] = emails[0]
        if phones := find_phones(joined):
            contact["phone"] = phones[0].strip()
        if not contact and conversation.customer.get("email"):
            contact["email"] = str(conversation.customer["email"])
        if not contact:
            await self.handoffs.save_context(handoff)
            return [await self._system(conversation.id, self.texts.say("ask_contact", language))]
        if conversation.customer.get("name"):
            contact["name"] = str(conversation.customer["name"])
        ticket = await self.handoffs.create_ticket(conversation.id, language, contact, joined)
        await self.handoffs.close(handoff.id, "offline_ticket")
        await self.store.transition(conversation.id, "take_ticket", {"ticket": ticket})
        reach = contact.get("email") or contact.get("phone") or ""
        notice = await self._system(
            conversation.id,
            self.texts.say("ticket_created", language, ticket=ticket, contact=reach),
        )
        await self._back_to_bot(conversation.id, ask_rating=False)
        await self.broadcast_queue()
        return [notice]

    async def cancel(self, conversation: Conversation, handoff: Handoff) -> list[Message]:
        await self.store.transition(conversation.id, "cancel")
        await self.handoffs.close(handoff.id, "cancelled")
        notice = await self._system(
            conversation.id, self.texts.say("cancelled", conversation.language)
        )
        await self._back_to_bot(conversation.id, ask_rating=False)
        await self.broadcast_queue()
        return [notice]

    async def _back_to_bot(self, conversation_id: str, ask_rating: bool) -> None:
        """Give the conversation back to the bot. The transition queues Rasa's `resume`
        (and, with `ask_rating`, the rating question) in the relay's outbox; whoever
        holds the conversation's lock delivers it (`relay.drain`)."""
        await self.store.transition(conversation_id, "return_to_bot", {"ask_rating": ask_rating})
        self.hub.publish(conversation_id, await self.state_frame(conversation_id))

    async def _system(
        self, conversation_id: str, text: str, cancel_button: str | None = None
    ) -> Message:
        buttons = (
            [{"title": self.texts.say("cancel_button", cancel_button), "payload": CANCEL_PAYLOAD}]
            if cancel_button
            else []
        )
        [message] = await self.store.add_replies(
            conversation_id, [Reply(text=text, buttons=buttons, role="system")]
        )
        self.metrics.messages.labels("out", "system").inc()
        self.hub.publish(conversation_id, {"type": "message", **message.public()})
        return message

    async def abandon_stale(self, now: float | None = None) -> list[str]:
        """Mark as abandoned the queued chats whose customer has gone; returns their ids."""
        now = time.time() if now is None else now
        gone = []
        for handoff in await self.handoffs.queue_entries():
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
            # A background sweep: name the conversation in what it and the bot log.
            with conversation_context(conversation.id):
                log.info("abandoned: the customer left the queue")
                await self.handoffs.close(handoff.id, "abandoned")
                await self._back_to_bot(conversation.id, ask_rating=False)
                await self.relay.drain_when_free(conversation.id)
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

    async def _light_snapshot(self) -> QueueSnapshot:
        """As `snapshot`, without the chats' stored contexts; load and handling time are
        read at most once per `CUSTOMER_INTERVAL` (they only feed the wait estimate)."""
        return QueueSnapshot(
            queued=await self.handoffs.queue_entries(),
            load=await self._load(),
            handling_seconds=self._handling_seconds,
        )

    async def _load(self) -> dict[str, int]:
        now = monotonic()
        if now - self._load_read_at >= CUSTOMER_INTERVAL:
            self._load_read_at = now
            self._load_cache = await self.handoffs.assigned_counts()
            recent = await self.handoffs.recent_handling_seconds()
            self._handling_seconds = (
                sum(recent) / len(recent) if recent else DEFAULT_HANDLING_SECONDS
            )
        return self._load_cache

    def _capacity(self, key: QueueKey, load: dict[str, int]) -> Capacity:
        agents = self._eligible_online(*key)
        free = sum(max(0, a.capacity - load.get(a.username, 0)) for a in agents)
        return Capacity(agents=len(agents), free_seats=free)

    def _status(self, position: int, capacity: Capacity, handling: float) -> dict[str, int]:
        estimate = wait_estimate(position, capacity.free_seats, capacity.agents, handling)
        return {"position": position, "estimated_wait_seconds": estimate}

    def queue_status(self, handoff: Handoff, snapshot: QueueSnapshot) -> dict[str, int]:
        """Position among chats waiting for the same kind of agent, and a wait estimate."""
        position = queue_positions(snapshot.queued).get(handoff.id, 1)
        capacity = self._capacity(queue_key(handoff), snapshot.load)
        return self._status(position, capacity, snapshot.handling_seconds)

    async def position_of(self, handoff: Handoff) -> dict[str, int]:
        """`queue_status` of one chat with one indexed count, not a read of the queue."""
        position = await self.handoffs.queue_position(handoff)
        load = await self._load()
        status = self._status(
            position, self._capacity(queue_key(handoff), load), self._handling_seconds
        )
        self._told[handoff.conversation_id] = (status["position"], status["estimated_wait_seconds"])
        return status

    async def state_frame(
        self, conversation_id: str, snapshot: QueueSnapshot | None = None
    ) -> dict[str, Any]:
        conversation = await self.store.get_conversation(conversation_id)
        state = conversation.state if conversation else "bot"
        frame: dict[str, Any] = {"type": "state", "state": state}
        if state == "assigned":
            # Who the customer is talking to (after a reassign: the new person), by the
            # name the "joined" notice gave them.
            handoff = await self.handoffs.open_handoff(conversation_id)
            person = await self.handoffs.agent(handoff.agent) if handoff and handoff.agent else None
            if person is not None:
                frame["agent"] = person.display_name
        if state != "queued":
            return frame
        if snapshot is not None:
            handoff = next(
                (h for h in snapshot.queued if h.conversation_id == conversation_id), None
            )
            if handoff is not None and not handoff.context.get("offline"):
                frame["queue"] = self.queue_status(handoff, snapshot)
            return frame
        handoff = await self.handoffs.open_handoff(conversation_id)
        if (
            handoff is not None
            and handoff.status == "queued"
            and not handoff.context.get("offline")
        ):
            frame["queue"] = await self.position_of(handoff)
        return frame

    async def queue_for(
        self, agent: Agent, snapshot: QueueSnapshot | None = None
    ) -> list[dict[str, Any]]:
        if agent.availability != "online":  # away or busy: no new chats offered
            return []
        now = time.time()
        queued = snapshot.queued if snapshot else await self.handoffs.queue_entries()
        mine = [h for h in queued if agent.can_take(h.language, h.skill)]
        labels = await self.handoffs.labels_of([h.conversation_id for h in mine])
        return [{**h.queue_item(now), "labels": labels.get(h.conversation_id, [])} for h in mine]

    async def broadcast_queue(self) -> None:
        """The queue changed: every connected agent gets their queue, every waiting
        customer whose position or estimate changed gets it, coalesced (queue_broadcast.py).
        O(1) here; each flush reads the queue once. The other replicas are told too."""
        self._queue_touched()
        self.hub.publish_elsewhere(QUEUE_CHANGES, _QUEUE_CHANGED)

    def _queue_touched(self) -> None:
        self.position_frames.touch()
        self.queue_frames.touch()
        self.changed()

    async def follow_queue_changes(self) -> None:
        """Runs for the gateway's life: each queue change another replica announces
        (`broadcast_queue` there) updates this replica's consoles and waiting customers,
        coalesced like its own. A subscription closed for falling behind is renewed."""
        while True:
            news = self.hub.subscribe(QUEUE_CHANGES)
            try:
                while await news.get() is not None:
                    self._queue_touched()
            finally:
                self.hub.unsubscribe(QUEUE_CHANGES, news)
            self._queue_touched()  # whatever the closed subscription dropped

    def changed(self) -> None:
        """Tell the watchers (the supervisors' live view) that something they show changed."""
        for watcher in self.watchers:
            watcher()

    async def console_opened(self, username: str) -> None:
        """An agent's console socket opened here: it gets its whole queue next."""
        self.queue_feed.forget(username)
        await self.broadcast_queue()

    async def resync_queue(self) -> None:
        """Periodically: pick up queue changes made by another gateway replica that
        `follow_queue_changes` did not hear of (Redis was away)."""
        self.position_frames.touch()

    async def queue_idle(self) -> None:
        """Wait until every pending queue frame is sent (tests, shutdown)."""
        while self.position_frames.pending or self.queue_frames.pending:
            await self.position_frames.idle()
            await self.queue_frames.idle()

    async def aclose(self) -> None:
        await self.position_frames.aclose()
        await self.queue_frames.aclose()

    async def _flush_customers(self) -> None:
        """Each waiting customer on this replica whose numbers changed gets them, once."""
        await self.refresh_agents()
        snapshot = await self._light_snapshot()
        self.metrics.queue_length.set(len(snapshot.queued))
        positions = queue_positions(snapshot.queued)
        capacities: dict[QueueKey, Capacity] = {}
        told: dict[str, tuple[int, int]] = {}
        for handoff in snapshot.queued:
            conversation_id = handoff.conversation_id
            if handoff.context.get("offline") or not self.hub.has_subscribers(conversation_id):
                continue
            key = queue_key(handoff)
            if key not in capacities:
                capacities[key] = self._capacity(key, snapshot.load)
            status = self._status(positions[handoff.id], capacities[key], snapshot.handling_seconds)
            now = (status["position"], status["estimated_wait_seconds"])
            told[conversation_id] = now
            if self._told.get(conversation_id) != now:
                self.hub.publish(
                    conversation_id, {"type": "state", "state": "queued", "queue": status}
                )
        self._told = told  # chats that left the queue (or this replica) are forgotten
        if self._fingerprint(snapshot.queued) != self._agents_saw:
            self.queue_frames.touch()  # e.g. a change made on another replica

    async def _flush_agents(self) -> None:
        """Every agent with a console open on this replica gets what changed in their
        queue (or the whole of it, if their console has nothing to build on: QueueFeed);
        computed once per kind of agent (languages and skills)."""
        await self.refresh_agents()
        queued = await self.handoffs.queue_entries()
        self._agents_saw = self._fingerprint(queued)
        now = time.time()
        # Labels ride along (the console filters the queue by them): one read per flush.
        labels = await self.handoffs.labels_of([h.conversation_id for h in queued])
        items = [{**h.queue_item(now), "labels": labels.get(h.conversation_id, [])} for h in queued]
        updated: set[AgentKind] = set()
        for agent in self._agents:
            if not self.presence.sockets.get(agent.username):
                continue
            channel = agent_channel(agent.username)
            if agent.availability != "online":
                if self.queue_feed.pause(agent.username):
                    self.hub.publish_local(channel, _NO_NEW_CHATS)
                continue
            kind = (agent.languages, agent.skills)
            if kind not in updated:
                mine = [
                    item
                    for item, h in zip(items, queued, strict=True)
                    if agent.can_take(h.language, h.skill)
                ]
                self.queue_feed.update(kind, mine)
                updated.add(kind)
            frame = self.queue_feed.frame_for(agent.username, kind)
            if frame is not None:
                self.hub.publish_local(channel, frame)

    def _fingerprint(self, queued: Iterable[Handoff]) -> int:
        """What the agents' queue frames show: the chats, and who takes new ones (an
        availability set on another replica changes a console's frame here too)."""
        chats = tuple((h.id, h.summary) for h in queued)
        return hash((chats, tuple((a.username, a.availability) for a in self._agents)))

    # -- agents -------------------------------------------------------------------------

    async def accept(self, agent: Agent, conversation_id: str) -> dict[str, Any]:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None:
            raise HandoffError("not_waiting", "this conversation is not waiting for a person")
        if handoff.status == "assigned":
            raise HandoffError("already_assigned", f"{handoff.agent} already took this chat")
        if agent.availability != "online":
            raise HandoffError(
                "not_available",
                f"you are {agent.availability}: set yourself online to take new chats",
            )
        if not agent.can_take(handoff.language, handoff.skill):
            raise HandoffError("not_eligible", "this chat needs another language or skill")
        if len(await self.handoffs.assigned_to(agent.username)) >= agent.capacity:
            raise HandoffError("at_capacity", f"you already have {agent.capacity} chats")
        if not await self.handoffs.assign(handoff.id, agent.username):
            raise HandoffError("already_assigned", "another agent took this chat first")
        self.metrics.queue_wait.observe(max(0.0, time.time() - handoff.queued_at))
        await self.store.transition(conversation_id, "assign", {"agent": agent.username})
        conversation = await self.store.get_conversation(conversation_id)
        assert conversation is not None
        await self._system(
            conversation_id,
            self.texts.say("agent_joined", conversation.language, name=agent.display_name),
        )
        self.hub.publish(conversation_id, await self.state_frame(conversation_id))
        # The agent's other consoles (another tab, another machine) list it at once.
        self.hub.publish(
            agent_channel(agent.username),
            {"type": "state", "conversation_id": conversation_id, "state": "assigned"},
        )
        await self.broadcast_queue()
        return await self.agent_view(agent, conversation_id)

    # -- moving a chat: a supervisor's reassign, an agent's transfer ----------------------

    async def reassign(
        self, supervisor: Agent, conversation_id: str, username: str, force: bool = False
    ) -> dict[str, Any]:
        """A supervisor gives a waiting chat to `username` (as if that agent accepted it)
        or moves an assigned chat from its agent to `username`.

        The target must exist, be online (here, and not set away) and not have the chat
        already. Unless `force`, they must also not be busy, speak the chat's language,
        have its skill and have a free seat: `force` is the supervisor knowing better (one
        more chat, a second language, a busy agent who is there), but never skips presence
        or away, since a chat given to someone who is not there leaves the customer alone.
        HandoffError (409) says which check refused it."""
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None:
            raise HandoffError("not_waiting", "this conversation is not with people now")
        target = await self._target(handoff, username, force)
        by = {"by": supervisor.username, "forced": force}
        if handoff.status == "queued":
            if not await self.handoffs.assign(handoff.id, target.username):
                raise HandoffError("already_assigned", "an agent took this chat meanwhile")
            self.metrics.queue_wait.observe(max(0.0, time.time() - handoff.queued_at))
            await self._transition_or_conflict(
                conversation_id, "assign", {"agent": target.username, **by}
            )
            joined = "agent_joined"
        else:
            data = {"from_agent": str(handoff.agent), "to_agent": target.username, **by}
            await self._move(handoff, target, "reassign", data, {"by": supervisor.username})
            joined = "agent_transferred"
        log.info(
            "%s gave %s's chat to %s (forced: %s)",
            supervisor.username,
            handoff.agent or "the queue",
            target.username,
            force,
        )
        await self._hand_over(conversation_id, target, joined, {"by": supervisor.username})
        return {
            "conversation_id": conversation_id,
            "state": "assigned",
            "agent": target.username,
            "from_agent": handoff.agent,
            "forced": force,
        }

    async def transfer(
        self,
        agent: Agent,
        conversation_id: str,
        reason: str,
        *,
        to_agent: str | None = None,
        to_skill: str | None = None,
    ) -> dict[str, Any]:
        """The agent who has the chat passes it on, with a reason, to a colleague
        (`to_agent`) or to a team (`to_skill`); exactly one of the two.

        To a colleague: the checks of a supervisor's reassign without force (online and
        here, not away or busy, the chat's language and skill, a free seat); the chat moves
        at once. To a team: some agent with that skill who speaks the customer's language
        must take new chats now (else the customer would wait for nobody); the chat goes
        back to the queue with that skill, keeping its original queued time, so it is
        ahead of chats that came after it, and the team's agents see it in their queue.

        Either way: an event (`transfer` / `transfer_to_queue`) records from, to and the
        reason (card numbers and ids masked, as notes); the old console drops the chat
        (the reassign's frame); the customer is told politely in their language, never
        the reason; the new agent's view lists the transfer (`agent_view`: `transfers`).
        HandoffError: `not_yours` (403), or 409 with the check that refused it."""
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None or handoff.status != "assigned" or handoff.agent != agent.username:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        note = note_text(reason)
        # Where the next agent's transcript shows it: after the last message written so far.
        said = await self.store.messages(conversation_id)
        after_seq = said[-1].seq if said else 0
        if to_agent is not None:
            target = await self._target(handoff, to_agent, force=False)
            data = {
                "from_agent": agent.username,
                "to_agent": target.username,
                "reason": note,
                "after_seq": after_seq,
            }
            told = {"by": agent.username, "transfer": True}
            await self._move(handoff, target, "transfer", data, told)
            log.info("%s transferred a chat to %s", agent.username, target.username)  # no reason
            given = {
                "by": agent.username,
                "transfer": {"from_agent": agent.username, "reason": note},
            }
            await self._hand_over(conversation_id, target, "agent_transferred", given)
            return {
                "conversation_id": conversation_id,
                "state": "assigned",
                "agent": target.username,
                "from_agent": agent.username,
            }
        if to_skill is None:
            raise HandoffError("bad_request", "send 'to_agent' or 'to_skill'")
        return await self._transfer_to_team(agent, handoff, to_skill, note, after_seq)

    async def _transfer_to_team(
        self, agent: Agent, handoff: Handoff, skill: str, note: str, after_seq: int
    ) -> dict[str, Any]:
        conversation_id = handoff.conversation_id
        await self.refresh_agents()
        if skill not in self.teams():
            raise HandoffError("unknown_skill", f"no agent has the skill {skill!r}")
        if not self._eligible_online(handoff.language, skill):
            raise HandoffError(
                "team_unavailable",
                f"nobody with the skill {skill} who speaks {handoff.language} is online now",
            )
        if not await self.handoffs.requeue(handoff.id, agent.username, skill):
            raise HandoffError("moved", "the chat was moved or closed meanwhile")
        data = {
            "from_agent": agent.username,
            "to_skill": skill,
            "reason": note,
            "after_seq": after_seq,
        }
        try:
            await self.store.transition(conversation_id, "transfer_to_queue", data)
        except InvalidTransition as exc:  # closed meanwhile: the agent keeps what they had
            await self.handoffs.assign(handoff.id, agent.username)
            raise HandoffError("moved", "the chat was closed meanwhile") from exc
        queued = await self.handoffs.handoff(handoff.id)
        assert queued is not None
        if queued.context.pop("offline", None):
            # Queued when nobody was there: now someone is, so no offline ticket.
            await self.handoffs.save_context(queued)
        self._drop(agent.username, conversation_id, {"skill": skill, "by": agent.username})
        log.info("%s transferred a chat to the %s queue", agent.username, skill)  # no reason
        conversation = await self.store.get_conversation(conversation_id)
        assert conversation is not None
        status = await self.position_of(queued)
        text = self.texts.say(
            "transferred_to_team",
            conversation.language,
            position=status["position"],
            minutes=max(1, math.ceil(status["estimated_wait_seconds"] / 60)),
        )
        await self._system(conversation_id, text, cancel_button=conversation.language)
        self.hub.publish(conversation_id, await self.state_frame(conversation_id))
        await self.broadcast_queue()
        return {
            "conversation_id": conversation_id,
            "state": "queued",
            "skill": skill,
            "from_agent": agent.username,
            "queue": status,
        }

    def teams(self) -> set[str]:
        """Every skill some agent has: the teams a chat can be transferred to."""
        return {skill for a in self._agents for skill in a.skills}

    async def transfer_options(self, agent: Agent, conversation_id: str) -> dict[str, Any]:
        """Where the agent who has the chat may transfer it now: colleagues who would pass
        `transfer`'s checks, and teams with someone online who speaks its language."""
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None or handoff.status != "assigned" or handoff.agent != agent.username:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        await self.refresh_agents()
        load = await self.handoffs.assigned_counts()
        colleagues = [
            {"username": a.username, "display_name": a.display_name or a.username}
            for a in self._agents
            if self._refusal(handoff, a, load.get(a.username, 0), force=False) is None
        ]
        teams = sorted(s for s in self.teams() if self._eligible_online(handoff.language, s))
        return {"agents": colleagues, "teams": teams}

    async def _target(self, handoff: Handoff, username: str, force: bool) -> Agent:
        """The agent `username` if they may get the chat now, else the HandoffError saying why."""
        target = await self.handoffs.agent(username)
        if target is None:
            raise HandoffError("unknown_agent", f"there is no agent called {username!r}")
        load = (await self.handoffs.assigned_counts()).get(target.username, 0)
        refusal = self._refusal(handoff, target, load, force)
        if refusal is not None:
            raise refusal
        return target

    def _refusal(
        self, handoff: Handoff, target: Agent, load: int, force: bool
    ) -> HandoffError | None:
        """Why `target` may not get the chat (None: they may). Presence and away always
        hold; `force` skips busy, language, skill and capacity (see `reassign`)."""
        username = target.username
        if handoff.agent == username:
            return HandoffError("already_assigned", f"{username} already has this chat")
        if not self.presence.online(username):
            return HandoffError("agent_offline", f"{username} is not online (no console open)")
        if target.availability == "away":
            return HandoffError("agent_away", f"{username} is away")
        if force:
            return None
        if target.availability == "busy":
            return HandoffError(
                "agent_busy", f"{username} is busy (takes no new chats); force to give it"
            )
        if not target.can_take(handoff.language, handoff.skill):
            needs = handoff.language + (f" and the skill {handoff.skill}" if handoff.skill else "")
            return HandoffError(
                "agent_not_eligible", f"{username} cannot take this chat: it needs {needs}"
            )
        if load >= target.capacity:
            return HandoffError(
                "agent_at_capacity", f"{username} already has {load} of {target.capacity} chats"
            )
        return None

    async def _move(
        self,
        handoff: Handoff,
        target: Agent,
        event: str,
        data: dict[str, Any],
        told: dict[str, Any],
    ) -> None:
        """Move an assigned chat from its agent to `target` and record `event` with `data`;
        the old console drops it (`told`: what its frame says besides the new agent)."""
        previous = str(handoff.agent)
        if not await self.handoffs.reassign(handoff.id, previous, target.username):
            raise HandoffError("moved", "the chat was moved or closed meanwhile")
        try:
            await self.store.transition(handoff.conversation_id, event, data)
        except InvalidTransition as exc:
            # Resolved meanwhile: the record keeps the agent who resolved it.
            await self.handoffs.reassign(handoff.id, target.username, previous, only_open=False)
            raise HandoffError("moved", "the chat was resolved meanwhile") from exc
        self._drop(previous, handoff.conversation_id, {"agent": target.username, **told})

    def _drop(self, previous: str, conversation_id: str, told: dict[str, Any]) -> None:
        """The old console drops the chat (its replies are refused from now on)."""
        self.hub.publish(
            agent_channel(previous),
            {"type": "state", "conversation_id": conversation_id, "state": "reassigned", **told},
        )

    async def _hand_over(
        self, conversation_id: str, target: Agent, joined: str, told: dict[str, Any]
    ) -> None:
        """After a chat went to `target`: the customer is told (`joined`, in their language)
        and sees the new name; the new console gets the chat with everything an accept
        would have shown (`told`: what else its frame says)."""
        conversation = await self.store.get_conversation(conversation_id)
        assert conversation is not None
        await self._system(
            conversation_id,
            self.texts.say(joined, conversation.language, name=target.display_name),
        )
        self.hub.publish(conversation_id, await self.state_frame(conversation_id))
        self.hub.publish(
            agent_channel(target.username),
            {
                "type": "assigned",
                "conversation_id": conversation_id,
                **told,
                "view": await self.agent_view(target, conversation_id),
            },
        )
        await self.broadcast_queue()

    async def _transition_or_conflict(
        self, conversation_id: str, name: str, data: dict[str, Any]
    ) -> None:
        try:
            await self.store.transition(conversation_id, name, data)
        except InvalidTransition as exc:  # the customer left (cancel, abandon) meanwhile
            raise HandoffError("not_waiting", str(exc)) from exc

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
            # Private: the agent who takes the chat over (accept, reassign) reads them too.
            "notes": [note.public() for note in await self.handoffs.notes(conversation_id)],
            "labels": await self.handoffs.labels(conversation_id),  # agents' side only
            # Private too: who passed the chat on, and why (the customer never sees it).
            "transfers": await self.transfers(conversation_id),
        }

    async def transfers(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's transfers, oldest first, each placed in the transcript:
        `after_seq` is the last message written before it (0: none)."""
        found = []
        for event in await self.store.events(conversation_id):
            if event.name not in TRANSFERS:
                continue
            found.append(
                {
                    "from_agent": event.data.get("from_agent"),
                    "to_agent": event.data.get("to_agent"),
                    "to_skill": event.data.get("to_skill"),
                    "reason": event.data.get("reason", ""),
                    "ts": event.ts,
                    "after_seq": event.data.get("after_seq", 0),
                }
            )
        return found

    async def agent_message(
        self,
        agent: Agent,
        conversation_id: str,
        text: str,
        *,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        # An agent who pastes a card number or an id does not store it either. Whether
        # the chat is still this agent's is checked by the store, with the write. `meta`:
        # the message's extra fields (an attachment's description).
        stored = await self.store.add_agent_message(
            conversation_id, agent.username, mask_secrets(text), meta=meta
        )
        return await self._sent_by_agent(agent, conversation_id, stored)

    async def agent_message_as(
        self, token: str, conversation_id: str, text: str
    ) -> tuple[Agent, Message] | None:
        """`agent_message` for whoever holds the agent session `token`, the session checked
        with the write (one trip to the store); None: no such session, nothing written."""
        write = await self.store.add_agent_message_as(token, conversation_id, mask_secrets(text))
        if write.agent is None:
            return None
        self.presence.seen(write.agent.username)
        return write.agent, await self._sent_by_agent(write.agent, conversation_id, write.stored)

    async def _sent_by_agent(
        self, agent: Agent, conversation_id: str, stored: tuple[Message, int] | None
    ) -> Message:
        """After an agent's message was stored (None: it was not theirs to write)."""
        if stored is None:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        message, handoff_id = stored
        if handoff_id not in self._first_reply_noted:
            await self.handoffs.note_agent_reply(handoff_id)
            if len(self._first_reply_noted) >= _FIRST_REPLIES_KEPT:
                self._first_reply_noted.clear()
            self._first_reply_noted.add(handoff_id)
        self.metrics.messages.labels("out", "agent").inc()
        self.hub.publish(conversation_id, {"type": "message", **message.public()})
        self.hub.publish(
            agent_channel(agent.username),
            {"type": "message", "conversation_id": conversation_id, **message.public()},
        )
        return message

    # -- private notes -------------------------------------------------------------------

    async def _note_access(self, agent: Agent, conversation_id: str) -> None:
        """Whether `agent` may read and add the conversation's private notes. Supervisors:
        any conversation. Agents: one whose latest handoff is theirs (assigned now, or the
        last to have it: what `agent_view` opens), or one waiting in
        the queue that they could accept (`queue_for` shows it to them). HandoffError:
        `not_found` (no such conversation), `not_yours`."""
        if await self.store.get_conversation(conversation_id) is None:
            raise HandoffError("not_found", "there is no conversation with this id")
        if agent.is_supervisor:
            return
        handoff = await self.handoffs.latest_handoff(conversation_id)
        if handoff is not None and (
            handoff.agent == agent.username
            or (handoff.status == "queued" and agent.can_take(handoff.language, handoff.skill))
        ):
            return
        raise HandoffError("not_yours", "this conversation is not assigned to you")

    async def check_desk_access(self, agent: Agent, conversation_id: str) -> None:
        """Who may label a chat (handoff/agent/labels.py): whoever may read and add its
        private notes (`_note_access`)."""
        await self._note_access(agent, conversation_id)

    async def notes(self, agent: Agent, conversation_id: str) -> list[Note]:
        await self._note_access(agent, conversation_id)
        return await self.handoffs.notes(conversation_id)

    async def add_note(self, agent: Agent, conversation_id: str, text: str) -> Note:
        """Store a private note (card numbers and ids masked by the store) and push it to
        the consoles that have the conversation open: the author's and those of the agent
        the chat is (or was last) with, over their agent channels, on whichever replica.
        Never on the conversation's own channel: that is the customer's."""
        await self._note_access(agent, conversation_id)
        try:
            note = await self.handoffs.add_note(conversation_id, agent.username, text)
        except KeyError as exc:
            raise HandoffError("not_found", "there is no conversation with this id") from exc
        log.info("%s added a note", agent.username)  # never its text
        # Read after the write: a chat moved meanwhile reaches its new agent here, or has
        # the note in the view its move sent (built after this write).
        holder = await self.handoffs.latest_handoff(conversation_id)
        readers = {agent.username}
        if holder is not None and holder.agent:
            readers.add(holder.agent)
        frame = {"type": "note", **note.public()}
        for username in sorted(readers):
            self.hub.publish(agent_channel(username), frame)
        return note

    async def agent_typing(self, agent: Agent, conversation_id: str, on: bool) -> None:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is not None and handoff.agent == agent.username:
            self.hub.publish(conversation_id, {"type": "typing", "on": on})

    async def customer_typing(self, conversation_id: str, on: bool) -> bool:
        """To the agent who has the chat, if one has it (the bot needs no hint): told?"""
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None or handoff.status != "assigned" or not handoff.agent:
            return False
        frame = {"type": "typing", "conversation_id": conversation_id, "on": on}
        self.hub.publish(agent_channel(handoff.agent), frame)
        return True

    async def resolve(self, agent: Agent, conversation_id: str) -> None:
        handoff = await self.handoffs.open_handoff(conversation_id)
        if handoff is None or handoff.status != "assigned" or handoff.agent != agent.username:
            raise HandoffError("not_yours", "this conversation is not assigned to you")
        # The row decides, not the read above: a supervisor's reassign landing in between
        # moves it (then this finds it no longer the agent's) or is refused (it moves only
        # a chat still assigned), never both.
        if not await self.handoffs.resolve_handoff(handoff.id, agent.username):
            raise HandoffError("not_yours", "this conversation was moved or closed meanwhile")
        await self._transition_or_conflict(conversation_id, "resolve", {"agent": agent.username})
        self.hub.publish(
            agent_channel(agent.username),
            {"type": "state", "conversation_id": conversation_id, "state": "resolved"},
        )
        await self._back_to_bot(conversation_id, ask_rating=True)
        await self.relay.drain_when_free(conversation_id)
        await self.broadcast_queue()

    async def suggestions(self, conversation_id: str) -> list[dict[str, Any]]:
        """KB answers for the customer's latest message, in the customer's language."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None or self.assist is None:
            return []
        customer_lines = [
            m for m in await self.store.messages(conversation_id) if m.role == "customer"
        ]
        if not customer_lines:
            return []
        try:
            # The action server needs no contact details (and would log them).
            return await self.assist.suggest(
                for_bot(customer_lines[-1].text), conversation.language
            )
        except AssistUnavailable as exc:
            raise HandoffError("assist_unavailable", f"no suggestions right now: {exc}") from exc

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
                said = for_bot(message.payload or message.text)  # as Rasa got it
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
            "customer": {
                **conversation.customer,
                # True only when the host site signed the identity (handoff/customer/identity.py);
                # else the fields are what the customer typed, shown as unverified.
                "verified": conversation.customer.get("verified") is True,
                "earlier_conversations": earlier_items,
            },
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
        if self.catalog is None:
            return article_id
        try:
            article = self.catalog.index.articles.get(article_id)
        except Exception:  # no index yet: the id is still informative
            return article_id
        return article.title_in("en") if article else article_id


def stored_context(context: dict[str, Any]) -> dict[str, Any]:
    """The context as kept with the handoff (queue lists, analytics): no emails or phone
    numbers. The agent who takes the chat reads them in the transcript
    (`agent_view` builds the context afresh)."""
    kept: dict[str, Any] = redact_strings(context)
    return kept


def agent_channel(username: str) -> str:
    return f"agent:{username}"

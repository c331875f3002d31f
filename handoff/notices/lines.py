"""The notice lines the gateway adds to the bot's replies (BotRelay.add_lines), so that the
bot mentions a notice without Rasa knowing of it (no retraining, no new response).

- An answer from an article whose tags or category (data/kb/shipping.yml: `shipping`) are
  among an active notice's topics gets the notice's line just before it.
- The bot's greeting (the turn's intent is `greet`, read from Rasa's tracker) gets every
  active notice's line after it, general ones included.

Each notice is said at most once per conversation, whichever came first: a customer who
was greeted with "deliveries are late today" is not told again before each shipping answer.
What was said is read from the conversation's own messages (a line's meta `notice`), so
every replica agrees on it without any state of its own; the store picks those lines out
(Store.said_notices), so a long chat during an outage is not read whole on every turn. A
line is a `system` message in the conversation's language, as the gateway's other words to
customers are.

The tracker is read only when an active notice has not been said yet in the conversation:
with no notices, a turn costs nothing more.
"""

from __future__ import annotations

import logging
from typing import Any

from handoff.conversation.bot_events import ANSWERS
from handoff.conversation.models import Conversation, Reply
from handoff.conversation.rasa_client import BotUnavailable, RasaClient, effective_events
from handoff.notices.board import NoticeBoard
from handoff.notices.model import Notice
from handoff.notices.topics import article_topics
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.store.interface import Store

log = logging.getLogger(__name__)

GREET_INTENT = "greet"


def notice_line(notice: Notice, language: str) -> Reply:
    return Reply(
        text=notice.text_in(language),
        role="system",
        meta={"notice": {"id": notice.id, "severity": notice.severity}},
    )


def answered_article(meta: dict[str, Any]) -> str | None:
    """The article a reply shows (the action server's `kb` payload), if it shows one."""
    kb = meta.get("kb")
    if isinstance(kb, dict) and kb.get("decision") in ANSWERS and kb.get("article_id"):
        return str(kb["article_id"])
    return None


class NoticeLines:
    def __init__(self, board: NoticeBoard, store: Store, rasa: RasaClient) -> None:
        self.board = board
        self.store = store
        self.rasa = rasa

    async def __call__(
        self, conversation: Conversation, turn_id: str, replies: list[Reply]
    ) -> list[Reply]:
        """`replies` with the lines they need; the replies alone if anything goes wrong
        (a notice is never worth losing the bot's answer)."""
        if not self.board.active() or not replies:
            return replies
        try:
            return await self._add(conversation, turn_id, replies)
        except STORE_UNAVAILABLE:
            raise  # the replies cannot be stored either: the relay keeps the message
        except Exception:
            log.exception("could not add the notice lines; the replies go without them")
            return replies

    async def _add(
        self, conversation: Conversation, turn_id: str, replies: list[Reply]
    ) -> list[Reply]:
        said = await self.store.said_notices(conversation.id)
        untold = [n for n in self.board.active() if n.id not in said]
        if not untold:
            return replies
        language = conversation.language
        lines: list[Reply] = []
        for reply in replies:
            article = answered_article(reply.meta)
            if article is not None:
                topics = article_topics(await self.board.knowledge_base(), article)
                first = [n for n in untold if n.concerns(topics)]
                lines += [notice_line(n, language) for n in first]
                untold = [n for n in untold if n not in first]
            lines.append(reply)
        if untold and await self._is_greeting(conversation.id, turn_id):
            lines += [notice_line(n, language) for n in untold]
        return lines

    async def _is_greeting(self, conversation_id: str, turn_id: str) -> bool:
        try:
            events = await self.rasa.tracker_events(conversation_id)
        except BotUnavailable as exc:
            log.warning("no greeting check for the notices: %s", exc)
            return False
        for event in reversed(effective_events(events)):
            if event.get("event") == "user" and event.get("message_id") == turn_id:
                intent = (event.get("parse_data") or {}).get("intent") or {}
                return bool(intent.get("name") == GREET_INTENT)
        return False

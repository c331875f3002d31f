"""What the bot did in a conversation, kept in a table analytics can aggregate.

The action server attaches its knowledge-base decision to a reply (`meta["kb"]`:
`decision` and, when an article was shown, `article_id`) and the customer's verdict on
an answer to the bot's next reply (`meta["kb_feedback"]`: `kind`, `article_id`). The
store writes one `bot_events` row per fact in the same transaction as the reply:

    bot_events(conversation_id, seq, kind, article_id, language, ts, day, started_at)
    kind: answer | clarify | abstain | chosen       the KB decision (chosen: the customer
                                                    picked one of the offered articles)
          helpful | not_helpful | none_of_these     the customer's verdict

`started_at` is when the conversation started (analytics count an event on that day, in
the report's time zone); `day` is its UTC day. The conversation itself gets `kb_answered` / `kb_rejected` (analytics.outcomes). Reading
`meta_json` at query time would need JSON functions that differ between SQLite and
PostgreSQL, and no index could serve them.
"""

from __future__ import annotations

from typing import Any

from handoff.conversation.models import Message
from handoff.store.sqlite_connection import OneTripConnection

DECISIONS = ("answer", "clarify", "abstain", "chosen")
FEEDBACK = ("helpful", "not_helpful", "none_of_these")
ANSWERS = ("answer", "chosen")  # an article's answer was shown
REJECTIONS = ("not_helpful", "none_of_these")


def bot_events(meta: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(kind, article_id) facts carried by one bot reply's meta."""
    found: list[tuple[str, str | None]] = []
    kb = meta.get("kb")
    if isinstance(kb, dict) and kb.get("decision") in DECISIONS:
        article = kb.get("article_id")
        found.append((str(kb["decision"]), str(article) if article else None))
    feedback = meta.get("kb_feedback")
    if isinstance(feedback, dict) and feedback.get("kind") in FEEDBACK:
        article = feedback.get("article_id")
        found.append((str(feedback["kind"]), str(article) if article else None))
    return found


async def record_bot_events(db: OneTripConnection, messages: list[Message]) -> None:
    """Insert the facts of stored bot replies, and note on the conversation that an answer
    was shown or rejected; the caller commits (one transaction with the replies)."""
    facts = [
        (m.conversation_id, m.seq, kind, article, m.ts)
        for m in messages
        if m.role == "bot"
        for kind, article in bot_events(m.meta)
    ]
    if not facts:
        return
    await db.executemany(
        "INSERT INTO bot_events (conversation_id, seq, kind, article_id, language, ts, day,"
        " started_at) SELECT ?, ?, ?, ?, language, ?, SUBSTR(created_at, 1, 10), created_at"
        " FROM conversations WHERE id = ? ON CONFLICT DO NOTHING",
        [(*fact, fact[0]) for fact in facts],
    )
    for conversation_id, _, kind, article, _ in facts:
        if kind in ANSWERS and article is not None:
            await db.execute(
                "UPDATE conversations SET kb_answered = 1 WHERE id = ? AND kb_answered = 0",
                (conversation_id,),
            )
        elif kind in REJECTIONS:
            await db.execute(
                "UPDATE conversations SET kb_rejected = 1 WHERE id = ? AND kb_rejected = 0",
                (conversation_id,),
            )

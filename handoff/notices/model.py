"""A notice: what customers are told about an outage or a maintenance window, per language.

Two sources make them: designers schedule windows in data/notices.yml (loader.py), and
supervisors post them through the API (routes.py), kept in the store so every gateway
replica sees them. Both become this one type.

Times are kept as UTC text in one fixed shape (`2026-12-05T22:00:00.000Z`, as the store's
`utc_now`), so comparing two of them as strings compares the instants, in Python and in SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

LANGUAGES = ("ko", "ja", "en")
SEVERITIES = ("info", "outage")
Severity = Literal["info", "outage"]
Source = Literal["file", "supervisor"]
# Longest notice text in one language: a banner line, not an article.
MAX_NOTICE_CHARS = 500
MAX_TOPICS = 20


def instant(moment: datetime) -> str:
    """`moment` (time-zone aware) as the UTC text notices are kept and compared in."""
    if moment.tzinfo is None:
        raise ValueError("a time needs its time zone (Z or +09:00)")
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_instant() -> str:
    return instant(datetime.now(UTC))


@dataclass(frozen=True)
class Notice:
    id: str
    texts: dict[str, str]  # language -> text; ko, ja and en always
    starts_at: str  # instant()
    ends_at: str | None  # instant(); None: until a supervisor ends it
    topics: tuple[str, ...] = ()  # KB tags or categories; empty: about everything
    severity: str = "info"
    source: Source = "supervisor"
    created_by: str = ""  # the supervisor's username; empty for the file's
    ended_by: str | None = None
    # Not part of what a notice says: two reads of one notice compare equal without it.
    created_at: str = field(default="", compare=False)

    def active_at(self, now: str) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    def text_in(self, language: str) -> str:
        return self.texts.get(language) or self.texts["en"]

    def concerns(self, topics: set[str]) -> bool:
        """Whether an answer about `topics` (an article's tags and category) needs this
        notice first. A general notice (no topics) is for the greeting and the banner only:
        before every answer it would be noise."""
        return bool(topics.intersection(self.topics))

    def for_customer(self, language: str) -> dict[str, Any]:
        """What GET /api/notices says of it, in one language."""
        return {
            "id": self.id,
            "severity": self.severity,
            "text": self.text_in(language),
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "topics": list(self.topics),
        }

    def for_socket(self) -> dict[str, Any]:
        """What a `notices` frame says of it: every language, the widget picks its own."""
        return {**self.for_customer("en"), "text": dict(self.texts)}

    def for_supervisor(self, now: str) -> dict[str, Any]:
        status = "active" if self.active_at(now) else "scheduled"
        if self.ends_at is not None and self.ends_at <= now:
            status = "ended"
        return {
            **self.for_socket(),
            "source": self.source,
            "status": status,
            "created_by": self.created_by,
            "ended_by": self.ended_by,
        }


def notice_from_row(row: Any) -> Notice:
    """A `notices` row (store migrations 0007; sqlite and asyncpg rows alike) as a Notice."""
    return Notice(
        id=row["id"],
        texts=dict(json.loads(row["texts_json"])),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        topics=tuple(json.loads(row["topics_json"])),
        severity=row["severity"],
        source="supervisor",
        created_by=row["created_by"],
        ended_by=row["ended_by"],
        created_at=row["created_at"],
    )

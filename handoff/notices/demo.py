"""The notice `make run` shows, so that a first look at the product shows a notice too:
the widget's banner, the line after the greeting and before a shipping answer. Posted
as a supervisor would, for DEMO_HOURS; a supervisor ends it sooner with
POST /api/supervisor/notices/{id}/end. A start while one is still in force posts none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.notices.model import Notice, instant
from handoff.store.interface import Handoffs

DEMO_PREFIX = "demo-"
DEMO_HOURS = 8
DEMO_TEXTS = {
    "ko": "연말 주문이 많아 배송이 평소보다 1~2일 늦어질 수 있어요.",
    "ja": "年末のご注文が多いため、配送が通常より1〜2日遅れる場合があります。",
    "en": "Year-end orders are high: deliveries may take 1-2 days longer than usual.",
}


async def ensure_demo_notice(handoffs: Handoffs, now: datetime | None = None) -> Notice:
    """The demo notice in force, posted now if none is."""
    moment = now or datetime.now(UTC)
    for notice in await handoffs.notices(instant(moment)):
        if notice.id.startswith(DEMO_PREFIX) and notice.active_at(instant(moment)):
            return notice
    return await handoffs.add_notice(
        Notice(
            id=f"{DEMO_PREFIX}{moment:%Y%m%d-%H%M%S}",
            texts=dict(DEMO_TEXTS),
            starts_at=instant(moment),
            ends_at=instant(moment + timedelta(hours=DEMO_HOURS)),
            topics=("shipping",),
            severity="info",
            created_by="make run",
        )
    )

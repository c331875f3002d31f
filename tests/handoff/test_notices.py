"""Notices (handoff/notices/): the designers' file is checked as the gateway starts, time
windows open and close by the clock alone, each replica's board tells its customers when
the set changes, and the lines the gateway adds to the bot's replies (before an answer on
a notice's topic, after the greeting; once per conversation)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.conversation.models import Conversation, Message, Reply
from handoff.helpcentre.catalog import HelpCatalog, read_kb
from handoff.notices.board import NoticeBoard
from handoff.notices.demo import DEMO_HOURS, DEMO_PREFIX, ensure_demo_notice
from handoff.notices.lines import NoticeLines
from handoff.notices.loader import NoticesError, load_notices, parse_notices
from handoff.notices.model import Notice, instant, now_instant
from handoff.notices.topics import article_topics, known_topics
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from kb_index.articles import kb_files
from stack.settings import Settings

SETTINGS = Settings()
KB = read_kb(kb_files(SETTINGS.kb_dir))
TOPICS = known_topics(KB)
TEXTS = {
    "ko": "배송이 지연되고 있어요.",
    "ja": "配送が遅れています。",
    "en": "Deliveries are late.",
}


def at(minutes: float) -> str:
    """An instant `minutes` after 2026-12-05 12:00 UTC."""
    return instant(datetime(2026, 12, 5, 12, tzinfo=UTC) + timedelta(minutes=minutes))


def notice(notice_id: str, start: float, end: float | None, topics: tuple[str, ...] = ()) -> Notice:
    return Notice(
        id=notice_id,
        texts=dict(TEXTS),
        starts_at=at(start),
        ends_at=None if end is None else at(end),
        topics=topics,
    )


def window(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "w1",
        "starts_at": "2026-11-30T01:00:00+09:00",
        "ends_at": "2026-11-30T03:00:00+09:00",
        "topics": ["payment"],
        "text": dict(TEXTS),
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


# -- the file ----------------------------------------------------------------------


def test_the_shipped_file_loads_and_covers_nothing_now() -> None:
    """The example in data/notices.yml is checked like any window, and is a past one: the
    demo is not covered in banners."""
    notices = load_notices(SETTINGS.notices_path, TOPICS)
    assert notices, "the file ships an example for designers"
    now = now_instant()
    assert not any(n.active_at(now) for n in notices)
    assert all(n.source == "file" and set(n.texts) == {"ko", "ja", "en"} for n in notices)


def test_a_window_is_read_in_utc_whatever_zone_it_was_written_in() -> None:
    notices, problems = parse_notices({"notices": [window()]}, TOPICS)
    assert problems == []
    assert notices[0].starts_at == "2026-11-29T16:00:00.000Z"
    assert notices[0].ends_at == "2026-11-29T18:00:00.000Z"
    assert notices[0].topics == ("payment",)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"notices": [window(text={"ko": "a", "en": "b"})]}, "notice w1.text.ja is missing"),
        ({"notices": [window(text={**TEXTS, "en": "x" * 501})]}, "text.en is 501 characters"),
        ({"notices": [window(ends_at="2026-11-30T00:00:00+09:00")]}, "ends_at must be after"),
        ({"notices": [window(starts_at="2026-11-30T01:00:00")]}, "needs its time zone"),
        ({"notices": [window(starts_at="tomorrow")]}, "starts_at is not a date and time"),
        ({"notices": [window(ends_at=None)]}, "ends_at is missing"),
        ({"notices": [window(topics=["shiping"])]}, "shiping is no KB tag or category"),
        ({"notices": [window(severity="urgent")]}, "severity must be one of info, outage"),
        ({"notices": [window(id="a b")]}, "id must be 1-64 letters"),
        ({"notices": [window(colour="red")]}, "unknown key `colour`"),
        ({"notices": [window(), window()]}, "notice w1: the id is used twice"),
        ({"notices": "w1"}, "a `notices:` list"),
    ],
)
def test_a_broken_file_is_refused_with_what_to_fix(raw: object, says: str) -> None:
    _, problems = parse_notices(raw, TOPICS)
    assert any(says in p for p in problems), problems


def test_a_broken_file_stops_the_start_and_no_file_means_no_windows(tmp_path: Path) -> None:
    path = tmp_path / "notices.yml"
    assert load_notices(path, TOPICS) == ()
    path.write_text(yaml.safe_dump({"notices": [window(topics=["nope"])]}), encoding="utf-8")
    with pytest.raises(NoticesError, match="nope is no KB tag or category"):
        load_notices(path, TOPICS)
    path.write_text("notices: [", encoding="utf-8")
    with pytest.raises(NoticesError, match="not valid YAML"):
        load_notices(path, TOPICS)


def test_topics_are_the_kbs_tags_and_categories() -> None:
    assert {"shipping", "payment", "returns", "tracking"} <= TOPICS
    shipping = next(a for a, c in KB.category_of.items() if c == "shipping")
    assert "shipping" in article_topics(KB, shipping)
    assert article_topics(KB, "no-such-article") == set()


# -- time windows --------------------------------------------------------------------


def test_a_window_is_active_from_its_start_until_its_end() -> None:
    n = notice("n", 0, 60)
    assert not n.active_at(at(-0.001))
    assert n.active_at(at(0))
    assert n.active_at(at(59.99))
    assert not n.active_at(at(60))
    assert notice("open", 0, None).active_at(at(10_000))


def test_times_need_their_zone_and_compare_as_text() -> None:
    with pytest.raises(ValueError, match="time zone"):
        instant(datetime(2026, 12, 5, 12))
    seoul = instant(datetime(2026, 12, 5, 21, tzinfo=timezone(timedelta(hours=9))))
    assert seoul == at(0) and at(0) < at(0.001) < at(60)


# -- the board -------------------------------------------------------------------------


class FakeNotices:
    """The store's notices, as the board reads them."""

    def __init__(self) -> None:
        self.posted: list[Notice] = []

    async def notices(self, after: str) -> list[Notice]:
        return [n for n in self.posted if n.ends_at is None or n.ends_at > after]


class Clock:
    def __init__(self) -> None:
        self.now = at(0)

    def __call__(self) -> str:
        return self.now


def board_with(scheduled: tuple[Notice, ...] = ()) -> tuple[NoticeBoard, FakeNotices, Clock]:
    store, clock = FakeNotices(), Clock()
    board = NoticeBoard(scheduled, store, HelpCatalog(SETTINGS.kb_dir), clock)  # type: ignore[arg-type]
    return board, store, clock


async def test_a_scheduled_window_opens_and_closes_by_the_clock_alone() -> None:
    board, _, clock = board_with((notice("window", 5, 10),))
    listener: asyncio.Queue[Any] = asyncio.Queue()
    board.listen(listener)
    assert listener.empty()  # nothing in force: no frame
    assert not await board.refresh()
    clock.now = at(5)
    assert await board.refresh()
    frame = listener.get_nowait()
    assert [n["id"] for n in frame["notices"]] == ["window"]
    assert frame["notices"][0]["text"] == TEXTS  # every language: the widget picks its own
    assert not await board.refresh()  # nothing changed, nobody is told
    assert listener.empty()
    clock.now = at(10)
    assert await board.refresh()
    assert listener.get_nowait() == {"type": "notices", "notices": []}
    assert board.active() == ()


async def test_a_posted_notice_shows_and_an_ended_one_goes_for_listeners_only() -> None:
    board, store, clock = board_with()
    listener: asyncio.Queue[Any] = asyncio.Queue()
    gone: asyncio.Queue[Any] = asyncio.Queue()
    board.listen(gone)
    board.forget(gone)
    store.posted.append(notice("posted", 0, None, ("shipping",)))
    assert await board.refresh()
    assert [n.id for n in board.active()] == ["posted"]
    assert gone.empty()
    board.listen(listener)  # a socket opening while a notice is in force is told at once
    assert listener.get_nowait()["notices"][0]["id"] == "posted"
    store.posted[0] = notice("posted", 0, 1, ("shipping",))  # a supervisor ended it
    clock.now = at(1)
    assert await board.refresh()
    assert listener.get_nowait()["notices"] == []
    assert gone.empty()


async def test_the_supervisors_list_has_both_sources_not_the_ended() -> None:
    board, store, clock = board_with((notice("file-past", -60, -30), notice("file-next", 30, 90)))
    store.posted += [notice("now", -5, None), notice("ended", -10, -1)]
    assert [n.id for n in await board.upcoming()] == ["now", "file-next"]
    now = clock()
    assert notice("file-next", 30, 90).for_supervisor(now)["status"] == "scheduled"
    assert notice("now", -5, None).for_supervisor(now)["status"] == "active"


# -- the lines said with the bot's replies ------------------------------------------------


def stored(seq: int, reply: Reply) -> Message:
    return Message(
        conversation_id="c1",
        seq=seq,
        role=reply.role,
        text=reply.text,
        ts="2026-12-05T12:00:00.000Z",
        meta=reply.meta,
    )


class FakeStore:
    """The conversation's stored messages; the real stores' said_notices is checked on both
    backends in test_store_contract.py."""

    def __init__(self) -> None:
        self.said: list[Message] = []
        self.transcript_reads = 0

    async def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]:
        self.transcript_reads += 1
        return list(self.said)

    async def said_notices(self, conversation_id: str) -> set[str]:
        return {
            str(m.meta["notice"]["id"])
            for m in self.said
            if m.role == "system" and isinstance(m.meta.get("notice"), dict)
        }


class FakeRasa:
    def __init__(self, intent: str) -> None:
        self.intent = intent
        self.reads = 0

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        self.reads += 1
        return [
            {"event": "user", "message_id": "c1:1", "parse_data": {"intent": {"name": "x"}}},
            {
                "event": "user",
                "message_id": "c1:3",
                "parse_data": {"intent": {"name": self.intent}},
            },
        ]


def conversation(language: str) -> Conversation:
    ts = "2026-12-05T12:00:00.000Z"
    return Conversation(
        id="c1", language=language, state="bot", customer={}, created_at=ts, updated_at=ts
    )


def answer(article_id: str) -> Reply:
    return Reply(text="the answer", meta={"kb": {"decision": "answer", "article_id": article_id}})


SHIPPING_ARTICLE = next(a for a, c in KB.category_of.items() if c == "shipping")
PAYMENT_ARTICLE = next(a for a, c in KB.category_of.items() if c == "payment")


async def lines_with(
    *active: Notice, intent: str = "faq"
) -> tuple[NoticeLines, FakeStore, FakeRasa]:
    board, store, _ = board_with()
    store.posted += active
    await board.refresh()
    messages, rasa = FakeStore(), FakeRasa(intent)
    return NoticeLines(board, messages, rasa), messages, rasa  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_an_answer_on_a_notices_topic_gets_the_notice_first_once(language: str) -> None:
    lines, messages, rasa = await lines_with(
        notice("late", 0, None, ("shipping",)), notice("general", 0, None)
    )
    out = await lines(conversation(language), "c1:3", [answer(SHIPPING_ARTICLE)])
    assert [r.text for r in out] == [TEXTS[language], "the answer"]
    assert out[0].role == "system" and out[0].meta["notice"] == {"id": "late", "severity": "info"}
    assert rasa.reads == 1  # "general" is still unsaid: was this turn a greeting?
    messages.said += [stored(i, r) for i, r in enumerate(out, 4)]
    again = await lines(conversation(language), "c1:5", [answer(SHIPPING_ARTICLE)])
    assert [r.text for r in again] == ["the answer"]  # once per conversation
    assert messages.transcript_reads == 0  # only the notice lines are read, not the chat


async def test_an_answer_on_another_topic_and_a_general_notice_get_no_line() -> None:
    lines, _, _ = await lines_with(
        notice("late", 0, None, ("shipping",)), notice("general", 0, None)
    )
    out = await lines(conversation("en"), "c1:3", [answer(PAYMENT_ARTICLE)])
    assert [r.text for r in out] == ["the answer"]


@pytest.mark.parametrize("language", ["ko", "ja", "en"])
async def test_the_greeting_mentions_every_notice_in_force(language: str) -> None:
    lines, messages, _ = await lines_with(
        notice("late", 0, None, ("shipping",)), notice("general", 0, None), intent="greet"
    )
    hello = Reply(text="Hi!")
    out = await lines(conversation(language), "c1:3", [hello])
    assert [r.text for r in out] == ["Hi!", TEXTS[language], TEXTS[language]]
    assert [r.meta["notice"]["id"] for r in out[1:]] == ["general", "late"]  # by start, id
    messages.said += [stored(i, r) for i, r in enumerate(out, 4)]
    assert [r.text for r in await lines(conversation(language), "c1:3", [hello])] == ["Hi!"]


async def test_no_notice_costs_no_read() -> None:
    lines, _, rasa = await lines_with()
    replies = [Reply(text="Hi!")]
    assert await lines(conversation("en"), "c1:3", replies) is replies
    assert rasa.reads == 0


async def test_make_runs_demo_notice_is_posted_once_while_in_force(tmp_path: Path) -> None:
    """`make run` shows a notice on a first look: posted if none of its own is in force
    (a restart posts no second one), in ko, ja and en, on shipping, for a working day;
    once it ended, the next start posts a new one."""
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    try:
        start = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
        first = await ensure_demo_notice(handoffs, start)
        assert first.id.startswith(DEMO_PREFIX) and first.topics == ("shipping",)
        assert set(first.texts) == {"ko", "ja", "en"} and all(first.texts.values())
        assert first.active_at(instant(start + timedelta(hours=DEMO_HOURS - 1)))
        assert not first.active_at(instant(start + timedelta(hours=DEMO_HOURS)))
        again = await ensure_demo_notice(handoffs, start + timedelta(minutes=5))
        assert again.id == first.id
        assert [n.id for n in await handoffs.notices(instant(start))] == [first.id]
        await handoffs.end_notice(first.id, "lead", instant(start + timedelta(minutes=10)))
        later = await ensure_demo_notice(handoffs, start + timedelta(minutes=20))
        assert later.id != first.id and later.active_at(instant(start + timedelta(minutes=21)))
    finally:
        await store.close()

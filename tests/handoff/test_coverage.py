"""Team business hours: open/closed, next opening, routing, wording, config errors."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays as public_holiday_data
import pytest

from handoff.conversation.coverage import (
    DAYS,
    Coverage,
    CoverageError,
    Team,
    format_reopening,
    is_open,
    load_coverage,
    next_opening,
    public_holidays,
)

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "coverage.yml"
SEOUL = ZoneInfo("Asia/Seoul")
TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NEW_YORK = ZoneInfo("America/New_York")

# December 2026: Mon 21, Tue 22, ..., Fri 25 (a Korean holiday only), Sat 26, Sun 27, Mon 28.
# February 2027: Seollal is Sat 6 - Tue 9, so Seoul is closed Sat 6 through Tue 9.
CONFIG = """\
teams:
  default:
    time_zone: Asia/Seoul
    hours:
      mon: [["09:00", "18:00"]]
      tue: [["09:00", "18:00"]]
      wed: [["09:00", "18:00"]]
      thu: [["09:00", "18:00"]]
      fri: [["09:00", "18:00"]]
    holidays: ["2026-12-25", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09"]
    contact: {email: support@maru-store.example, phone: "1600-0000"}
  japan:
    time_zone: Asia/Tokyo
    hours:
      mon: [["10:00", "17:00"]]
      tue: [["10:00", "17:00"]]
      wed: [["10:00", "17:00"]]
      thu: [["10:00", "17:00"]]
      fri: [["10:00", "17:00"]]
    holidays: ["2026-11-23"]
routing:
  ja: japan
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "coverage.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def coverage(tmp_path: Path) -> Coverage:
    return load_coverage(write(tmp_path, CONFIG))


def seoul(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=SEOUL)


# --- is_open ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (seoul(2026, 12, 22, 8, 59), False),
        (seoul(2026, 12, 22, 9, 0), True),
        (seoul(2026, 12, 22, 12, 30), True),
        (seoul(2026, 12, 22, 17, 59), True),
        (seoul(2026, 12, 22, 17, 59, 59, 999_999), True),
        (seoul(2026, 12, 22, 18, 0), False),
        (seoul(2026, 12, 22, 23, 59), False),
        (seoul(2026, 12, 21, 9, 0), True),  # Monday
        (seoul(2026, 12, 18, 17, 59), True),  # Friday
        (seoul(2026, 12, 19, 12, 0), False),  # Saturday
        (seoul(2026, 12, 20, 12, 0), False),  # Sunday
        (seoul(2026, 12, 25, 9, 0), False),  # Christmas, a Friday
        (seoul(2026, 12, 25, 12, 0), False),
        (seoul(2026, 12, 24, 17, 59), True),  # the day before the holiday
        (seoul(2027, 2, 8, 10, 0), False),  # Seollal Monday
        (seoul(2027, 2, 10, 9, 0), True),  # first working day after Seollal
    ],
)
def test_default_team_is_open(coverage: Coverage, at: datetime, expected: bool) -> None:
    assert is_open(coverage.teams["default"], at) is expected


@pytest.mark.parametrize(
    ("at", "seoul_open", "tokyo_open"),
    [
        # 00:30 UTC is 09:30 in both Seoul and Tokyo: Seoul opened at 9, Tokyo opens at 10.
        (datetime(2026, 12, 22, 0, 30, tzinfo=UTC), True, False),
        # 08:30 UTC is 17:30 local: Tokyo closed at 17, Seoul closes at 18.
        (datetime(2026, 12, 22, 8, 30, tzinfo=UTC), True, False),
        # 02:00 UTC on Christmas is 11:00 local: a holiday in Seoul, a working day in Tokyo.
        (datetime(2026, 12, 25, 2, 0, tzinfo=UTC), False, True),
        # Labor Thanksgiving Day (Japan only).
        (datetime(2026, 11, 23, 3, 0, tzinfo=UTC), True, False),
        # Sunday 17:00 in Los Angeles is Monday 10:00 in Seoul and Tokyo.
        (datetime(2026, 12, 20, 17, 0, tzinfo=LOS_ANGELES), True, True),
        # Friday 18:00 in Los Angeles is already Saturday 11:00 in Asia.
        (datetime(2026, 12, 18, 18, 0, tzinfo=LOS_ANGELES), False, False),
        # Monday 23:30 UTC is Tuesday 08:30 in Seoul: not yet.
        (datetime(2026, 12, 21, 23, 30, tzinfo=UTC), False, False),
        # A fixed offset works as well as a named zone: 09:00+09:00.
        (datetime(2026, 12, 22, 9, 0, tzinfo=timezone(timedelta(hours=9))), True, False),
    ],
)
def test_is_open_converts_to_the_team_zone(
    coverage: Coverage, at: datetime, seoul_open: bool, tokyo_open: bool
) -> None:
    assert is_open(coverage.teams["default"], at) is seoul_open
    assert is_open(coverage.teams["japan"], at) is tokyo_open


# --- next_opening -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("team", "at", "expected"),
    [
        # closed before opening on a weekday
        ("default", seoul(2026, 12, 22, 7, 0), seoul(2026, 12, 22, 9, 0)),
        # after closing: the next morning
        ("default", seoul(2026, 12, 22, 18, 0), seoul(2026, 12, 23, 9, 0)),
        # across a weekend
        ("default", seoul(2026, 12, 18, 18, 0), seoul(2026, 12, 21, 9, 0)),
        ("default", seoul(2026, 12, 19, 12, 0), seoul(2026, 12, 21, 9, 0)),
        # across a holiday (Fri 25) followed by the weekend
        ("default", seoul(2026, 12, 24, 18, 30), seoul(2026, 12, 28, 9, 0)),
        # across a weekend followed by holidays (Seollal, Sat 6 - Tue 9)
        ("default", seoul(2027, 2, 5, 18, 0), seoul(2027, 2, 10, 9, 0)),
        # Christmas in Seoul is a working day in Tokyo
        ("japan", seoul(2026, 12, 25, 8, 0), datetime(2026, 12, 25, 10, 0, tzinfo=TOKYO)),
        # an instant given in UTC
        (
            "japan",
            datetime(2026, 12, 25, 8, 30, tzinfo=UTC),  # 17:30 Fri in Tokyo
            datetime(2026, 12, 28, 10, 0, tzinfo=TOKYO),
        ),
    ],
)
def test_next_opening(coverage: Coverage, team: str, at: datetime, expected: datetime) -> None:
    opening = next_opening(coverage.teams[team], at)
    assert opening == expected
    assert opening is not None
    assert opening.utcoffset() == expected.utcoffset()  # in the team's zone
    assert opening.tzinfo is coverage.teams[team].time_zone


@pytest.mark.parametrize(
    "at",
    [
        seoul(2026, 12, 22, 9, 0),
        seoul(2026, 12, 22, 17, 59, 59),
        datetime(2026, 12, 22, 3, 15, 42, tzinfo=UTC),  # 12:15:42 in Seoul
    ],
)
def test_next_opening_when_open_now_is_now(coverage: Coverage, at: datetime) -> None:
    team = coverage.teams["default"]
    opening = next_opening(team, at)
    assert opening == at
    assert opening is not None
    assert opening.tzinfo is SEOUL


@pytest.mark.parametrize(
    "at",
    [
        seoul(2026, 12, day, hour, minute)
        for day in (18, 24, 25, 26)
        for hour in (0, 8, 9, 17, 18)
        for minute in (0, 59)
    ],
)
def test_next_opening_is_the_first_open_instant(coverage: Coverage, at: datetime) -> None:
    team = coverage.teams["default"]
    opening = next_opening(team, at)
    assert opening is not None
    assert opening >= at
    assert is_open(team, opening)
    if opening > at:
        assert not is_open(team, opening.astimezone(UTC) - timedelta(microseconds=1))
        # nothing open in between: sample every 15 minutes
        probe = at
        while probe < opening:
            assert not is_open(team, probe)
            probe += timedelta(minutes=15)


def test_next_opening_looks_366_days_ahead_and_no_further() -> None:
    mondays = {date(2026, 12, 28) + timedelta(weeks=n) for n in range(52)}  # to 2027-12-20
    assert max(mondays) == date(2027, 12, 20)
    hours = {0: [(time(9), time(18))]}
    at = seoul(2026, 12, 21, 18, 0)

    one_left = Team("mondays", SEOUL, hours, frozenset(mondays - {date(2027, 12, 20)}))
    assert next_opening(one_left, at) == seoul(2027, 12, 20, 9, 0)

    # the next Monday after that is 2027-12-27, 371 days away
    none_left = Team("mondays", SEOUL, hours, frozenset(mondays))
    assert next_opening(none_left, at) is None


def test_a_team_without_hours_never_opens(tmp_path: Path) -> None:
    coverage = load_coverage(
        write(tmp_path, "teams:\n  default: {time_zone: Asia/Seoul, hours: {}}\n")
    )
    team = coverage.teams["default"]
    assert not is_open(team, seoul(2026, 12, 22, 12, 0))
    assert next_opening(team, seoul(2026, 12, 22, 12, 0)) is None


@pytest.mark.parametrize(
    ("hours", "at", "expected_utc"),
    [
        # 2026-03-08 02:00 EST jumps to 03:00 EDT, skipping the 02:30 opening:
        # the team opens when the clock jumps, 03:00 EDT = 07:00 UTC.
        (
            {6: [(time(2, 30), time(5, 0))]},
            datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK),
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        ),
        # 2026-11-01 01:59 EDT falls back to 01:00 EST: from 01:50 EDT (closed, after the
        # first 01:30-01:45) the clock reads 01:30 again at 06:30 UTC.
        (
            {6: [(time(1, 30), time(1, 45))]},
            datetime(2026, 11, 1, 5, 50, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        ),
    ],
)
def test_next_opening_across_daylight_saving_changes(
    hours: dict[int, list[tuple[time, time]]], at: datetime, expected_utc: datetime
) -> None:
    team = Team("night", NEW_YORK, hours)
    opening = next_opening(team, at)
    assert opening is not None
    assert opening.tzinfo is NEW_YORK
    # Compare and step in UTC: wall-clock arithmetic and inter-zone == (PEP 495) do not
    # mean "one second earlier" or "same instant" around a change.
    instant = opening.astimezone(UTC)
    assert instant == expected_utc
    assert is_open(team, instant)
    assert not is_open(team, instant - timedelta(seconds=1))


@pytest.mark.parametrize(
    "call",
    [
        lambda team: is_open(team, datetime(2026, 12, 22, 12, 0)),
        lambda team: next_opening(team, datetime(2026, 12, 22, 12, 0)),
        lambda team: format_reopening(datetime(2026, 12, 22, 12, 0), "en"),
    ],
    ids=["is_open", "next_opening", "format_reopening"],
)
def test_naive_datetimes_are_rejected(coverage: Coverage, call: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(coverage.teams["default"])  # type: ignore[operator]


# --- routing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "team"),
    [
        ("ja", "japan"),
        ("JA", "japan"),
        ("ja-JP", "japan"),
        ("ja_JP", "japan"),
        (" ja ", "japan"),
        ("ko", "default"),
        ("en", "default"),
        ("en-US", "default"),
        ("zh", "default"),
        ("", "default"),
        ("jav", "default"),  # Javanese is not Japanese
    ],
)
def test_team_for_language(coverage: Coverage, language: str, team: str) -> None:
    assert coverage.team_for(language).name == team


def test_routing_prefers_the_full_language_tag(tmp_path: Path) -> None:
    config = CONFIG.replace("  ja: japan\n", "  ja: japan\n  EN_jp: japan\n  zh-TW: japan\n")
    coverage = load_coverage(write(tmp_path, config))
    assert coverage.routing == {"ja": "japan", "en-jp": "japan", "zh-tw": "japan"}
    assert coverage.team_for("en-JP").name == "japan"
    assert coverage.team_for("en").name == "default"
    assert coverage.team_for("zh-tw").name == "japan"
    assert coverage.team_for("zh-CN").name == "default"


@pytest.mark.parametrize(
    ("language", "at", "open_now", "opening"),
    [
        # 09:30 in Seoul and Tokyo: the Korean team is in, the Japanese one opens at 10:00
        (
            "ko",
            datetime(2026, 12, 22, 0, 30, tzinfo=UTC),
            True,
            datetime(2026, 12, 22, 9, 30, tzinfo=SEOUL),
        ),
        (
            "ja",
            datetime(2026, 12, 22, 0, 30, tzinfo=UTC),
            False,
            datetime(2026, 12, 22, 10, 0, tzinfo=TOKYO),
        ),
        (
            "en",
            datetime(2026, 12, 25, 2, 0, tzinfo=UTC),
            False,
            datetime(2026, 12, 28, 9, 0, tzinfo=SEOUL),
        ),
    ],
)
def test_coverage_answers_per_language(
    coverage: Coverage, language: str, at: datetime, open_now: bool, opening: datetime
) -> None:
    assert coverage.is_open(language, at) is open_now
    assert coverage.next_opening(language, at) == opening


def test_coverage_itself_needs_a_default_team(coverage: Coverage) -> None:
    with pytest.raises(ValueError, match="default"):
        Coverage({"japan": coverage.teams["japan"]})
    with pytest.raises(ValueError, match="nowhere"):
        Coverage(coverage.teams, {"ja": "nowhere"})


# --- format_reopening -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "language", "text"),
    [
        (seoul(2026, 12, 28, 9, 0), "en", "Monday 9:00 (Asia/Seoul)"),
        (seoul(2026, 12, 28, 9, 0), "ko", "월요일 오전 9:00 (한국 시간)"),
        (seoul(2026, 12, 28, 9, 0), "ja", "月曜日 9:00（韓国時間）"),
        (datetime(2026, 12, 28, 9, 0, tzinfo=TOKYO), "ja", "月曜日 9:00（日本時間）"),
        (datetime(2026, 12, 28, 10, 0, tzinfo=TOKYO), "ko", "월요일 오전 10:00 (일본 시간)"),
        (datetime(2026, 12, 28, 10, 0, tzinfo=TOKYO), "en", "Monday 10:00 (Asia/Tokyo)"),
        (seoul(2026, 12, 25, 14, 30), "ko", "금요일 오후 2:30 (한국 시간)"),
        (seoul(2026, 12, 22, 12, 0), "ko", "화요일 오후 12:00 (한국 시간)"),
        (seoul(2026, 12, 23, 0, 5), "ko", "수요일 오전 12:05 (한국 시간)"),
        (seoul(2026, 12, 24, 13, 0), "ja", "木曜日 13:00（韓国時間）"),
        (seoul(2026, 12, 26, 9, 0), "en", "Saturday 9:00 (Asia/Seoul)"),
        (seoul(2026, 12, 27, 9, 0), "ko-KR", "일요일 오전 9:00 (한국 시간)"),
        (seoul(2026, 12, 28, 9, 0), "fr", "Monday 9:00 (Asia/Seoul)"),  # unknown -> en
        (
            datetime(2026, 12, 28, 9, 0, tzinfo=ZoneInfo("Europe/Paris")),
            "ko",
            "월요일 오전 9:00 (Europe/Paris)",
        ),
        (datetime(2026, 12, 28, 0, 0, tzinfo=UTC), "en", "Monday 0:00 (UTC)"),
    ],
)
def test_format_reopening(opening: datetime, language: str, text: str) -> None:
    assert format_reopening(opening, language) == text


def test_format_reopening_of_a_next_opening(coverage: Coverage) -> None:
    opening = coverage.next_opening("ja", datetime(2026, 12, 25, 9, 0, tzinfo=UTC))
    assert opening is not None
    assert format_reopening(opening, "ja") == "月曜日 10:00（日本時間）"


# Monday 2026-12-28 17:00 in Tokyo; the Japanese team is back on Monday 2027-01-04.
TOKYO_YEAR_END = datetime(2026, 12, 28, 17, 0, tzinfo=TOKYO)
TOKYO_BACK = datetime(2027, 1, 4, 10, 0, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("opening", "now", "language", "text"),
    [
        # a week or more ahead: "Monday" alone would read as today or next Monday
        (TOKYO_BACK, TOKYO_YEAR_END, "en", "Monday, January 4, 10:00 (Asia/Tokyo)"),
        (TOKYO_BACK, TOKYO_YEAR_END, "ko", "1월 4일 월요일 오전 10:00 (일본 시간)"),
        (TOKYO_BACK, TOKYO_YEAR_END, "ja", "1月4日（月曜日）10:00（日本時間）"),
        # "now" in another zone is compared by the opening's local date
        (
            TOKYO_BACK,
            datetime(2026, 12, 28, 8, 0, tzinfo=UTC),
            "en",
            "Monday, January 4, 10:00 (Asia/Tokyo)",
        ),
        # six days ahead: the weekday is enough
        (TOKYO_BACK, datetime(2026, 12, 29, 9, 0, tzinfo=TOKYO), "en", "Monday 10:00 (Asia/Tokyo)"),
        (TOKYO_BACK, datetime(2026, 12, 29, 9, 0, tzinfo=TOKYO), "ja", "月曜日 10:00（日本時間）"),
        (
            seoul(2026, 12, 28, 9, 0),
            seoul(2026, 12, 24, 18, 0),
            "ko",
            "월요일 오전 9:00 (한국 시간)",
        ),
    ],
)
def test_format_reopening_adds_the_date_a_week_or_more_ahead(
    opening: datetime, now: datetime, language: str, text: str
) -> None:
    assert format_reopening(opening, language, now=now) == text


def test_format_reopening_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_reopening(TOKYO_BACK, "en", now=datetime(2026, 12, 28, 17, 0))


# --- loading ----------------------------------------------------------------------------


def test_loaded_team(coverage: Coverage) -> None:
    team = coverage.teams["default"]
    assert team.name == "default"
    assert team.time_zone is SEOUL
    assert team.hours == {day: [(time(9), time(18))] for day in range(5)}
    assert date(2026, 12, 25) in team.holidays
    assert team.contact == {"email": "support@maru-store.example", "phone": "1600-0000"}
    assert coverage.teams["japan"].contact == {}
    assert coverage.routing == {"ja": "japan"}


def test_unquoted_times_and_dates_are_read_as_written(tmp_path: Path) -> None:
    # Plain YAML 1.1 would read 18:00 as the number 1080 and 2026-12-25 as a date object.
    coverage = load_coverage(
        write(
            tmp_path,
            textwrap.dedent("""\
                teams:
                  default:
                    time_zone: Asia/Seoul
                    hours: {mon: [[9:00, 12:00], [13:00, 18:00]], sat: [], sun: }
                    holidays: [2026-12-25]
                    contact: {phone: 0212345678}
            """),
        )
    )
    team = coverage.teams["default"]
    assert team.hours == {0: [(time(9), time(12)), (time(13), time(18))], 5: [], 6: []}
    assert team.holidays == frozenset({date(2026, 12, 25)})
    assert team.contact == {"phone": "0212345678"}


def test_shifts_are_sorted_and_24_00_closes_at_midnight(tmp_path: Path) -> None:
    coverage = load_coverage(
        write(
            tmp_path,
            "teams:\n  default:\n    time_zone: Asia/Seoul\n    hours:\n"
            '      fri: [["22:00", "24:00"], ["09:00", "12:00"]]\n'
            '      sat: [["00:00", "02:00"]]\n',
        )
    )
    team = coverage.teams["default"]
    assert [start for start, _ in team.hours[4]] == [time(9), time(22)]
    assert is_open(team, seoul(2026, 12, 18, 23, 59, 59, 999_999))
    assert is_open(team, seoul(2026, 12, 19, 0, 0))
    assert not is_open(team, seoul(2026, 12, 19, 2, 0))
    assert next_opening(team, seoul(2026, 12, 18, 12, 0)) == seoul(2026, 12, 18, 22, 0)


DEFAULT_TEAM_YAML = 'time_zone: Asia/Seoul\nhours: {mon: [["09:00", "18:00"]]}\n'
JAPAN_HOURS = 'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n'


def config_with(japan: str, routing: str = "{ja: japan}", default: str = DEFAULT_TEAM_YAML) -> str:
    def block(text: str) -> str:
        return textwrap.indent(textwrap.dedent(text), "    ")

    return f"teams:\n  default:\n{block(default)}  japan:\n{block(japan)}routing: {routing}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: [["25:00", "17:00"]]}\n'),
            "team 'japan': hours.mon[0]: '25:00' is not a time HH:MM",
            id="bad-time",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {tue: [["10:00", "17:60"]]}\n'),
            "team 'japan': hours.tue[0]: '17:60' is not a time HH:MM",
            id="bad-minutes",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: [["10am", "5pm"]]}\n'),
            "team 'japan': hours.mon[0]: '10am' is not a time HH:MM",
            id="not-hh-mm",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: [["24:00", "24:00"]]}\n'),
            "team 'japan': hours.mon[0]: '24:00' is not a time HH:MM "
            "('24:00' is only a closing time)",
            id="24-as-opening",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {wed: [["17:00", "10:00"]]}\n'),
            "team 'japan': hours.wed[0]: close '10:00' is not after open '17:00'",
            id="close-before-open",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "10:00"]]}\n'),
            "team 'japan': hours.mon[0]: close '10:00' is not after open '10:00'",
            id="close-equals-open",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["13:00", "17:00"], ["10:00", "14:00"]]}\n'
            ),
            "team 'japan': hours.mon[0]: overlaps hours.mon[1]",
            id="overlap",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: ["10:00", "17:00"]}\n'),
            "team 'japan': hours.mon[0]: expected [open, close]",
            id="pair-not-nested",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: "10:00-17:00"}\n'),
            "team 'japan': hours.mon: expected a list of [open, close] pairs",
            id="day-not-a-list",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {monday: [["10:00", "17:00"]]}\n'),
            "team 'japan': hours: unknown day 'monday' (use mon, tue, wed, thu, fri, sat, sun)",
            id="unknown-day",
        ),
        pytest.param(
            config_with("time_zone: Asia/Tokyo\n"),
            "team 'japan': hours: missing",
            id="missing-hours",
        ),
        pytest.param(
            config_with('time_zone: Asia/Tokio\nhours: {mon: [["10:00", "17:00"]]}\n'),
            "team 'japan': time_zone: unknown time zone 'Asia/Tokio'",
            id="unknown-time-zone",
        ),
        pytest.param(
            config_with('time_zone: "../../etc/passwd"\nhours: {mon: [["10:00", "17:00"]]}\n'),
            "team 'japan': time_zone: unknown time zone '../../etc/passwd'",
            id="time-zone-path",
        ),
        pytest.param(
            config_with('hours: {mon: [["10:00", "17:00"]]}\n'),
            "team 'japan': time_zone: missing",
            id="missing-time-zone",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n'
                'holidays: ["2026-11-23", "2026-02-30"]\n'
            ),
            "team 'japan': holidays[1]: '2026-02-30' is not a date YYYY-MM-DD (once) "
            "or MM-DD (every year)",
            id="impossible-date",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n'
                "holidays: [23/11/2026]\n"
            ),
            "team 'japan': holidays[0]: '23/11/2026' is not a date YYYY-MM-DD",
            id="date-format",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\nholidays: 2026-11-23\n'
            ),
            "team 'japan': holidays: expected a mapping like {country: KR, ",
            id="holidays-not-a-list",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + "holidays: {country: XX}\n"),
            "team 'japan': holidays.country: unknown country code 'XX'. Use a two-letter "
            "ISO 3166-1 code that the holidays package ",
            id="unknown-country",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + "holidays: {country: Japan}\n"),
            "team 'japan': holidays.country: unknown country code 'Japan' (did you mean JP?). ",
            id="country-name-not-code",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + "holidays: {country: [JP, JPN]}\n"),
            "team 'japan': holidays.country[1]: unknown country code 'JPN' (did you mean JP?)",
            id="unknown-country-in-list",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + "holidays: {country: NO}\n"),
            "team 'japan': holidays.country: False is not a country code like KR, JP or US-CA "
            "(quote it: YAML reads a bare NO as false)",
            id="country-bare-no",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + "holidays: {country: US-XX}\n"),
            "team 'japan': holidays.country: US has no subdivision 'XX' in the holidays package "
            "(known: AK, AL, ",
            id="unknown-subdivision",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + "holidays: {country: KR-11}\n"),
            "team 'japan': holidays.country: KR has no subdivision '11' in the holidays package "
            "(known: none); use KR alone for the national holidays",
            id="country-without-subdivisions",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + 'holidays: {country: JP, closed: ["13-01"]}\n'),
            "team 'japan': holidays.closed[0]: '13-01' is not a date YYYY-MM-DD (once) "
            "or MM-DD (every year)",
            id="closed-bad-month-day",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + 'holidays: {country: JP, open: ["2026-5-1"]}\n'),
            "team 'japan': holidays.open[0]: '2026-5-1' is not a date YYYY-MM-DD (once) ",
            id="open-bad-date",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + 'holidays: {closed: "12-31"}\n'),
            "team 'japan': holidays.closed: expected a list of dates YYYY-MM-DD (once) "
            "or MM-DD (every year)",
            id="closed-not-a-list",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + 'holidays: {closed: ["12-31"], open: ["12-31"]}\n'),
            "team 'japan': holidays: '12-31' is under both closed and open (keep one)",
            id="closed-and-open",
        ),
        pytest.param(
            config_with(JAPAN_HOURS + 'holidays: {country: JP, closd: ["12-31"]}\n'),
            "team 'japan': holidays: unknown field 'closd' (expected country, closed, open)",
            id="misspelt-holidays-field",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n'
                "contact: {email: [a, b]}\n"
            ),
            "team 'japan': contact.email: expected text",
            id="contact-not-text",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n'
                'holiday: ["2026-11-23"]\n'
            ),
            "team 'japan': unknown field 'holiday' (expected time_zone, hours, holidays, contact)",
            id="misspelt-field",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n', "{ja: jpan}"
            ),
            "routing.ja: unknown team 'jpan' (teams: default, japan)",
            id="routing-unknown-team",
        ),
        pytest.param(
            config_with(
                'time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n', "{no: default}"
            ),
            "routing: language False is not a language code",
            id="routing-bare-no",
        ),
        pytest.param(
            'teams:\n  japan: {time_zone: Asia/Tokyo, hours: {mon: [["10:00", "17:00"]]}}\n',
            "teams: no 'default' team",
            id="missing-default",
        ),
        pytest.param("routing: {ja: japan}\n", "teams: expected a mapping", id="missing-teams"),
        pytest.param(
            config_with('time_zone: Asia/Tokyo\nhours: {mon: [["10:00", "17:00"]]}\n')
            + "team: oops\n",
            "unknown field 'team' (expected teams, routing)",
            id="unknown-top-level-field",
        ),
        pytest.param("- just\n- a list\n", "expected a mapping with 'teams:'", id="not-a-mapping"),
        pytest.param("", "expected a mapping with 'teams:'", id="empty-file"),
        pytest.param(
            "teams:\n  default: {time_zone: Asia/Seoul\n", "not valid YAML (line ", id="broken-yaml"
        ),
    ],
)
def test_config_errors_name_file_team_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CoverageError) as caught:
        load_coverage(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_file_is_a_coverage_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    with pytest.raises(CoverageError, match=r"nope\.yml: cannot read"):
        load_coverage(path)


def test_errors_show_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "coverage.yml").write_text(
        config_with('time_zone: Asia/Tokyo\nhours: {mon: [["25:00", "17:00"]]}\n'),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CoverageError) as caught:
        load_coverage(Path("data/coverage.yml"))
    assert str(caught.value) == (
        "data/coverage.yml: team 'japan': hours.mon[0]: '25:00' is not a time HH:MM"
    )


# --- the shipped file -------------------------------------------------------------------


def test_shipped_coverage_loads() -> None:
    coverage = load_coverage(SHIPPED)
    default, japan = coverage.teams["default"], coverage.teams["japan"]
    assert default.time_zone.key == "Asia/Seoul"
    assert japan.time_zone.key == "Asia/Tokyo"
    assert coverage.team_for("ja") is japan
    assert coverage.team_for("ko") is default
    assert coverage.team_for("en") is default
    for team in (default, japan):
        assert set(team.hours) == set(range(5)), team.name  # Monday to Friday
        assert team.contact["email"].endswith("@maru-store.example")
        assert team.contact["phone"]
        assert not team.holidays, "public holidays come from the package, not a dated list"
    assert default.countries == ("KR",)
    assert japan.countries == ("JP",)
    # Korean and Japanese calendars differ
    assert default.is_closed_all_day(date(2026, 10, 9))  # 한글날
    assert not japan.is_closed_all_day(date(2026, 10, 9))
    assert japan.is_closed_all_day(date(2026, 11, 3))  # 文化の日
    assert not default.is_closed_all_day(date(2026, 11, 3))


@pytest.mark.parametrize(
    ("language", "at", "expected"),
    [
        ("ko", seoul(2026, 12, 24, 18, 0), "월요일 오전 9:00 (한국 시간)"),  # Christmas + weekend
        ("ko", seoul(2027, 2, 5, 18, 0), "수요일 오전 9:00 (한국 시간)"),  # Seollal + weekend
        ("ja", TOKYO_YEAR_END, "1月4日（月曜日）10:00（日本時間）"),  # 年末年始, 7 days
        # 추석 2030 (Wed 11 - Fri 13) and the weekend after it
        ("ko", seoul(2030, 9, 10, 18, 0), "월요일 오전 9:00 (한국 시간)"),
        # 年末年始 2029/30: company closure (12-29..01-03 every year) around 元日
        ("ja", datetime(2029, 12, 28, 17, 0, tzinfo=TOKYO), "1月4日（金曜日）10:00（日本時間）"),
        # Golden Week 2027: 憲法記念日, みどりの日, こどもの日 (Mon 3 - Wed 5)
        ("ja", datetime(2027, 4, 30, 17, 0, tzinfo=TOKYO), "木曜日 10:00（日本時間）"),
        # 근로자의 날 2027 is a Saturday; its substitute day is Monday 3
        ("en", seoul(2027, 4, 30, 18, 0), "Tuesday 9:00 (Asia/Seoul)"),
        ("en", seoul(2026, 12, 22, 10, 0), "Tuesday 10:00 (Asia/Seoul)"),  # open now
    ],
)
def test_shipped_coverage_reopenings(language: str, at: datetime, expected: str) -> None:
    coverage = load_coverage(SHIPPED)
    opening = coverage.next_opening(language, at)
    assert opening is not None
    assert format_reopening(opening, language, now=at) == expected


# --- public holidays from the `holidays` package ----------------------------------------
# No dates below are written into a config: each case holds only if the package supplies
# the holiday (lunar Seollal/Chuseok, substitute days, Golden Week), for years nobody edited.


def tokyo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


HOLIDAY_CASES = [
    # New Year
    ("ko", seoul(2026, 1, 1, 12), seoul(2026, 1, 2, 9)),
    ("ko", seoul(2027, 1, 1, 12), seoul(2027, 1, 4, 9)),
    ("ko", seoul(2030, 1, 1, 12), seoul(2030, 1, 2, 9)),
    ("ja", tokyo(2027, 1, 1, 12), tokyo(2027, 1, 4, 10)),  # 元日 + closure to 01-03
    ("ja", tokyo(2030, 1, 1, 12), tokyo(2030, 1, 4, 10)),
    # Seollal (lunar): 2030 Sat 2 - Mon 4 plus a substitute Tuesday
    ("ko", seoul(2030, 2, 5, 12), seoul(2030, 2, 6, 9)),
    # Chuseok (lunar, moves every year)
    ("ko", seoul(2026, 9, 24, 12), seoul(2026, 9, 28, 9)),  # Thu 24 - Sat 26
    ("ko", seoul(2027, 9, 14, 12), seoul(2027, 9, 17, 9)),  # Tue 14 - Thu 16
    ("ko", seoul(2030, 9, 11, 12), seoul(2030, 9, 16, 9)),  # Wed 11 - Fri 13
    # Golden Week
    ("ja", tokyo(2026, 4, 29, 12), tokyo(2026, 4, 30, 10)),  # 昭和の日
    ("ja", tokyo(2026, 5, 4, 12), tokyo(2026, 5, 7, 10)),  # Mon 4 - Wed 6 (振替休日)
    ("ja", tokyo(2027, 5, 3, 12), tokyo(2027, 5, 6, 10)),  # Mon 3 - Wed 5
    ("ja", tokyo(2030, 5, 3, 12), tokyo(2030, 5, 7, 10)),  # Fri 3, weekend, Mon 6 振替
    # other moving days
    ("ja", tokyo(2030, 1, 14, 12), tokyo(2030, 1, 15, 10)),  # 成人の日, 2nd Monday
    ("ko", seoul(2027, 10, 11, 12), seoul(2027, 10, 12, 9)),  # 한글날 substitute day
]


@pytest.mark.parametrize(
    ("language", "closed_at", "reopens"),
    HOLIDAY_CASES,
    ids=[f"{language}-{at:%Y-%m-%d}" for language, at, _ in HOLIDAY_CASES],
)
def test_shipped_teams_close_on_public_holidays_of_any_year(
    language: str, closed_at: datetime, reopens: datetime
) -> None:
    coverage = load_coverage(SHIPPED)
    assert not coverage.is_open(language, closed_at)
    opening = coverage.next_opening(language, closed_at)
    assert opening == reopens
    assert opening is not None
    assert opening.utcoffset() == reopens.utcoffset()


# Teams on shift round the clock, so that the hours right after local midnight count.
ALL_WEEK = "{" + ", ".join(f'{day}: [["00:00", "24:00"]]' for day in DAYS) + "}"
ROUND_THE_CLOCK = f"""\
teams:
  default: {{time_zone: Asia/Seoul, hours: {ALL_WEEK}, holidays: {{country: KR}}}}
  japan: {{time_zone: Asia/Tokyo, hours: {ALL_WEEK}, holidays: {{country: jp}}}}
routing: {{ja: japan}}
"""


@pytest.mark.parametrize(
    ("language", "starts", "ends"),
    [
        # New Year's Day in Seoul starts at 15:00 UTC on Dec 31 and ends while it is still
        # Jan 1 in UTC.
        ("ko", datetime(2026, 12, 31, 15, 0, tzinfo=UTC), datetime(2027, 1, 1, 15, 0, tzinfo=UTC)),
        # Chuseok 2027 (Tue 14 - Thu 16 in Seoul) starts on a plain Monday in UTC.
        ("ko", datetime(2027, 9, 13, 15, 0, tzinfo=UTC), datetime(2027, 9, 16, 15, 0, tzinfo=UTC)),
        # Golden Week 2030 in Tokyo: Fri 3 - Mon 6 (振替休日), Thu 2 to Mon 6 in UTC.
        ("ja", datetime(2030, 5, 2, 15, 0, tzinfo=UTC), datetime(2030, 5, 6, 15, 0, tzinfo=UTC)),
    ],
)
def test_holidays_are_local_dates_not_utc_dates(
    tmp_path: Path, language: str, starts: datetime, ends: datetime
) -> None:
    coverage = load_coverage(write(tmp_path, ROUND_THE_CLOCK))
    assert coverage.is_open(language, starts - timedelta(seconds=1))
    assert not coverage.is_open(language, starts)
    assert not coverage.is_open(language, ends - timedelta(seconds=1))
    assert coverage.next_opening(language, starts) == ends


KOREAN_WEEKDAYS = """\
teams:
  default:
    time_zone: Asia/Seoul
    hours:
      mon: [["09:00", "18:00"]]
      tue: [["09:00", "18:00"]]
      wed: [["09:00", "18:00"]]
      thu: [["09:00", "18:00"]]
      fri: [["09:00", "18:00"]]
    holidays:
      country: KR
"""


@pytest.mark.parametrize(
    ("overrides", "open_at", "closed_at", "reopens"),
    [
        pytest.param(
            'open: ["2027-09-15"]',
            seoul(2027, 9, 15, 12),  # Chuseok itself, worked this once
            seoul(2027, 9, 14, 12),  # Chuseok eve is still a holiday
            seoul(2027, 9, 15, 9),
            id="reopen-a-holiday-once",
        ),
        pytest.param(
            'open: ["05-01"]',
            seoul(2030, 5, 1, 12),  # 근로자의 날, worked every year
            seoul(2030, 5, 6, 12),  # Children's Day falls on a Sunday: substitute Monday
            seoul(2030, 5, 7, 9),
            id="reopen-a-holiday-every-year",
        ),
        pytest.param(
            'closed: ["2026-09-23"]',
            seoul(2026, 9, 22, 12),
            seoul(2026, 9, 23, 12),  # a plain Wednesday, closed once, then Chuseok
            seoul(2026, 9, 28, 9),
            id="close-a-weekday-once",
        ),
        pytest.param(
            'closed: ["12-31"]',
            seoul(2030, 12, 30, 12),
            seoul(2030, 12, 31, 12),  # year-end closure, then New Year's Day
            seoul(2031, 1, 2, 9),
            id="close-a-weekday-every-year",
        ),
        pytest.param(
            'closed: ["12-31"]\n      open: ["2030-12-31"]',
            seoul(2030, 12, 31, 12),  # the one-off date beats the yearly one
            seoul(2029, 12, 31, 12),
            seoul(2030, 1, 2, 9),
            id="one-off-beats-yearly",
        ),
    ],
)
def test_overrides_on_top_of_public_holidays(
    tmp_path: Path, overrides: str, open_at: datetime, closed_at: datetime, reopens: datetime
) -> None:
    coverage = load_coverage(write(tmp_path, KOREAN_WEEKDAYS + f"      {overrides}\n"))
    assert coverage.is_open("ko", open_at)
    assert not coverage.is_open("ko", closed_at)
    assert coverage.next_opening("ko", closed_at) == reopens


def test_several_countries_and_a_subdivision(tmp_path: Path) -> None:
    # A Tokyo team that also serves California stays home on both calendars.
    coverage = load_coverage(
        write(tmp_path, config_with(JAPAN_HOURS + "holidays: {country: [jp, us-ca, JP]}\n"))
    )
    team = coverage.teams["japan"]
    assert team.countries == ("JP", "US-CA")
    assert team.is_closed_all_day(date(2027, 1, 11))  # 成人の日
    assert team.is_closed_all_day(date(2027, 1, 18))  # Martin Luther King Jr. Day
    assert team.is_closed_all_day(date(2027, 3, 31))  # Cesar Chavez Day (California only)
    assert not team.is_closed_all_day(date(2027, 4, 1))


def test_the_older_list_format_looks_up_no_public_holidays(coverage: Coverage) -> None:
    team = coverage.teams["default"]
    assert team.countries == ()
    assert team.is_closed_all_day(date(2026, 12, 25))  # listed
    assert not team.is_closed_all_day(date(2026, 9, 25))  # Chuseok, not listed
    assert not team.is_closed_all_day(date(2026, 12, 24))


def test_each_country_and_year_is_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tuple[str, int]] = []
    real = public_holiday_data.country_holidays

    def counting(country: str, **kwargs: Any) -> Any:
        built.append((country, kwargs["years"]))
        return real(country, **kwargs)

    public_holidays.cache_clear()
    monkeypatch.setattr(public_holiday_data, "country_holidays", counting)
    coverage = load_coverage(write(tmp_path, ROUND_THE_CLOCK))
    this_year = date.today().year
    # load_coverage builds this year and next, so the event loop does not
    assert sorted(built) == [(c, y) for c in ("JP", "KR") for y in (this_year, this_year + 1)]
    built.clear()
    start = datetime(2030, 1, 1, tzinfo=SEOUL)
    for hour in range(0, 24 * 365, 7):  # every 7 hours through 2030, Seoul time
        coverage.is_open("ko", start + timedelta(hours=hour))
        coverage.next_opening("ko", start + timedelta(hours=hour))
    # next_opening also reads the day before and up to a year ahead: 2029 and 2031
    assert sorted(built) == [("KR", 2029), ("KR", 2030), ("KR", 2031)]  # each once
    assert public_holidays("KR", 2030) is public_holidays("KR", 2030)
    assert date(2030, 9, 12) in public_holidays("KR", 2030)  # Chuseok

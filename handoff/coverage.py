"""When the live-agent teams are on shift: business hours per team, time zones, holidays.

Operations staff edit ``data/coverage.yml``::

    teams:
      default:                      # required; takes every language not routed elsewhere
        time_zone: Asia/Seoul       # IANA name; all times below are local to it
        hours:                      # mon..sun -> list of [open, close]; missing day = closed
          mon: [["09:00", "18:00"]]
        holidays: ["2026-12-25"]    # local dates on which the team is closed all day
        contact: {email: support@maru-store.example}
    routing:                        # customer language -> team
      ja: japan

Shape of the API: :func:`load_coverage` validates the file and returns one
:class:`Coverage` (teams plus the routing map), which answers per customer language
(``coverage.is_open("ja", now)``). The routing map lives in the same file as the teams,
so there is no separate ``routing`` argument to thread through callers. The per-team
functions :func:`is_open`, :func:`next_opening` and :func:`format_reopening` are plain
functions of a :class:`Team`; nothing is cached at module level.

Rules:

* An interval ``[open, close)`` includes ``open`` and excludes ``close``; ``"24:00"`` is
  allowed as a closing time and means "until midnight". A shift past midnight is two
  intervals on two days.
* Holidays are the team's local dates and close the team for the whole day.
* Datetimes passed in must be timezone-aware (``ValueError`` otherwise); they are converted
  to the team's zone. Results are in the team's zone.
* ``next_opening`` is exact across daylight-saving changes: it returns the first instant at
  which ``is_open`` becomes true, even when the opening time falls into a skipped hour.
* Time zones come from the system tz database via :mod:`zoneinfo`.

The YAML is read without YAML 1.1's implicit integers and timestamps, so unquoted
``18:00`` stays the text "18:00" (not the sexagesimal integer 1080), ``2026-12-25`` is
checked by this module like any other date, and phone numbers keep their leading zeros.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_TEAM = "default"
SEARCH_DAYS = 366
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = time.max  # what a closing time of "24:00" becomes; still counts as open

_TEAM_FIELDS = ("time_zone", "hours", "holidays", "contact")
_TOP_FIELDS = ("teams", "routing")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CoverageError(Exception):
    """coverage.yml is unusable. The message names the file, the team and the field."""


@dataclass(frozen=True)
class Team:
    name: str
    time_zone: ZoneInfo
    hours: dict[int, list[tuple[time, time]]]  # weekday (0 = Monday) -> sorted intervals
    holidays: frozenset[date] = frozenset()
    contact: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Coverage:
    """All teams plus the language routing. ``routing`` keys are lower-case language tags."""

    teams: dict[str, Team]
    routing: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if DEFAULT_TEAM not in self.teams:
            raise ValueError(f"Coverage needs a {DEFAULT_TEAM!r} team")
        for language, name in self.routing.items():
            if name not in self.teams:
                raise ValueError(f"routing {language!r} -> unknown team {name!r}")

    def team_for(self, language: str) -> Team:
        """The team for a customer language: the full tag ("pt-br"), then its primary
        subtag ("pt"), then the default team. Case and "_" vs "-" do not matter."""
        tag = _language_tag(language)
        name = self.routing.get(tag) or self.routing.get(tag.split("-")[0]) or DEFAULT_TEAM
        return self.teams[name]

    def is_open(self, language: str, at: datetime) -> bool:
        return is_open(self.team_for(language), at)

    def next_opening(self, language: str, at: datetime) -> datetime | None:
        return next_opening(self.team_for(language), at)


# --- questions about one team -----------------------------------------------------------


def is_open(team: Team, at: datetime) -> bool:
    """Whether ``team`` is on shift at the instant ``at`` (timezone-aware)."""
    local = _require_aware(at, "is_open").astimezone(team.time_zone)
    if local.date() in team.holidays:
        return False
    now = local.time()
    return any(
        start <= now and (now < end or end == END_OF_DAY)
        for start, end in team.hours.get(local.weekday(), ())
    )


def next_opening(team: Team, at: datetime) -> datetime | None:
    """The first instant at or after ``at`` at which ``team`` is open, in the team's zone.

    ``at`` itself (converted) when the team is open now; ``None`` when the team does not
    open within ``SEARCH_DAYS`` days.
    """
    start = _require_aware(at, "next_opening").astimezone(UTC)
    if is_open(team, start):
        return start.astimezone(team.time_zone)
    end = start + timedelta(days=SEARCH_DAYS)
    # Openness only changes when the local clock reads an opening time or when the zone's
    # UTC offset changes, so the first open instant is one of these candidates.
    for candidate in sorted(_opening_candidates(team, start, end)):
        if start < candidate <= end and is_open(team, candidate):
            return candidate.astimezone(team.time_zone)
    return None


def _opening_candidates(team: Team, start: datetime, end: datetime) -> Iterator[datetime]:
    """UTC instants at which the team may open between ``start`` and ``end`` (UTC)."""
    zone = team.time_zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if day not in team.holidays:
            for opening, _close in team.hours.get(day.weekday(), ()):
                for fold in (0, 1):  # a repeated hour reads the opening time twice
                    local = datetime.combine(day, opening, zone).replace(fold=fold)
                    yield local.astimezone(UTC)
        day += timedelta(days=1)
    yield from _offset_changes(zone, start, end)


def _offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Instants (UTC, whole seconds) at which ``zone`` changes its UTC offset."""

    def offset(ts: int) -> timedelta | None:
        return datetime.fromtimestamp(ts, zone).utcoffset()

    lo, stop = math.floor(start.timestamp()), math.ceil(end.timestamp())
    while lo < stop:
        hi = min(lo + 86_400, stop)
        if offset(lo) != offset(hi):
            a, b = lo, hi  # offset(a) is the old offset, offset(b) is not
            while b - a > 1:
                mid = (a + b) // 2
                if offset(mid) == offset(a):
                    a = mid
                else:
                    b = mid
            yield datetime.fromtimestamp(b, UTC)
        lo = hi


# --- wording ----------------------------------------------------------------------------

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ko": ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"),
    "ja": ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"),
}
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_ZONE_NAMES = {
    "ko": {"Asia/Seoul": "한국 시간", "Asia/Tokyo": "일본 시간"},
    "ja": {"Asia/Tokyo": "日本時間", "Asia/Seoul": "韓国時間"},
}


def format_reopening(opening: datetime, language: str, *, now: datetime | None = None) -> str:
    """A short phrase for when the team is back, in ko/ja/en (anything else gets en).

    Uses the wall time of ``opening`` in its own zone (``next_opening`` returns the team's):
    en "Monday 9:00 (Asia/Seoul)", ko "월요일 오전 9:00 (한국 시간)",
    ja "月曜日 9:00（日本時間）". A weekday alone is ambiguous a week or more ahead, so
    when ``now`` is given and the opening is 7 or more days after it, the date is added:
    en "Monday, January 4, 10:00 (Asia/Tokyo)", ko "1월 4일 월요일 오전 10:00 (일본 시간)",
    ja "1月4日（月曜日）10:00（日本時間）".
    """
    opening = _require_aware(opening, "format_reopening")
    lang = _language_tag(language).split("-")[0]
    if lang not in _WEEKDAYS:
        lang = "en"
    weekday = _WEEKDAYS[lang][opening.weekday()]
    key = getattr(opening.tzinfo, "key", None) or opening.tzname() or "UTC"
    zone = _ZONE_NAMES.get(lang, {}).get(key, key)
    hour, minute, month, day = opening.hour, opening.minute, opening.month, opening.day
    dated = False
    if now is not None:
        today = _require_aware(now, "format_reopening").astimezone(opening.tzinfo).date()
        dated = (opening.date() - today).days >= 7
    if lang == "ko":
        half = "오전" if hour < 12 else "오후"
        when = f"{month}월 {day}일 {weekday}" if dated else weekday
        return f"{when} {half} {hour % 12 or 12}:{minute:02d} ({zone})"
    if lang == "ja":
        when = f"{month}月{day}日（{weekday}）" if dated else f"{weekday} "
        return f"{when}{hour}:{minute:02d}（{zone}）"
    when = f"{weekday}, {_MONTHS_EN[month - 1]} {day}," if dated else weekday
    return f"{when} {hour}:{minute:02d} ({zone})"


# --- loading ----------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit ints and timestamps: scalars that are not bools, nulls
    or floats stay text, so this module checks times and dates itself."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_coverage(path: Path) -> Coverage:
    """Read and validate ``path``; raise CoverageError naming file, team and field."""
    file = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" (line {mark.line + 1})" if mark else ""
        raise CoverageError(f"{file}: not valid YAML{line}: {exc.problem or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise CoverageError(f"{file}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise CoverageError(f"{file}: expected a mapping with 'teams:' (and 'routing:')")
    _check_fields(data, _TOP_FIELDS, file)
    raw_teams = data.get("teams")
    if not isinstance(raw_teams, dict) or not raw_teams:
        raise CoverageError(f"{file}: teams: expected a mapping of team name -> settings")
    teams: dict[str, Team] = {}
    for name, raw in raw_teams.items():
        if not isinstance(name, str) or not name:
            raise CoverageError(f"{file}: teams: team name {name!r} is not text (quote it)")
        teams[name] = _parse_team(name, raw, f"{file}: team {name!r}")
    if DEFAULT_TEAM not in teams:
        raise CoverageError(
            f"{file}: teams: no {DEFAULT_TEAM!r} team "
            "(it serves every language that routing does not send elsewhere)"
        )
    return Coverage(teams, _parse_routing(data.get("routing"), teams, file))


def _parse_team(name: str, raw: Any, where: str) -> Team:
    if not isinstance(raw, dict):
        raise CoverageError(f"{where}: expected a mapping with {', '.join(_TEAM_FIELDS)}")
    _check_fields(raw, _TEAM_FIELDS, where)
    return Team(
        name=name,
        time_zone=_parse_zone(raw.get("time_zone"), where),
        hours=_parse_hours(raw.get("hours"), where),
        holidays=_parse_holidays(raw.get("holidays"), where),
        contact=_parse_contact(raw.get("contact"), where),
    )


def _parse_zone(value: Any, where: str) -> ZoneInfo:
    if value is None:
        raise CoverageError(f"{where}: time_zone: missing (an IANA name like Asia/Seoul)")
    if not isinstance(value, str):
        raise CoverageError(f"{where}: time_zone: {value!r} is not a time zone name")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CoverageError(
            f"{where}: time_zone: unknown time zone {value!r} (use an IANA name like Asia/Seoul)"
        ) from exc


def _parse_hours(value: Any, where: str) -> dict[int, list[tuple[time, time]]]:
    if value is None:
        raise CoverageError(f"{where}: hours: missing (weekday -> [[open, close], ...])")
    if not isinstance(value, dict):
        raise CoverageError(f"{where}: hours: expected a mapping of weekday -> [[open, close]]")
    hours: dict[int, list[tuple[time, time]]] = {}
    for key, intervals in value.items():
        if key not in DAYS:
            raise CoverageError(f"{where}: hours: unknown day {key!r} (use {', '.join(DAYS)})")
        hours[DAYS.index(key)] = _parse_day(intervals, f"hours.{key}", where)
    return hours


def _parse_day(value: Any, name: str, where: str) -> list[tuple[time, time]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CoverageError(
            f'{where}: {name}: expected a list of [open, close] pairs, e.g. [["09:00", "18:00"]]'
        )
    intervals: list[tuple[time, time, int]] = []
    for i, pair in enumerate(value):
        field_name = f"{name}[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise CoverageError(
                f'{where}: {field_name}: expected [open, close], e.g. ["09:00", "18:00"]; '
                f"got {pair!r}"
            )
        opens = _parse_time(pair[0], field_name, where, closing=False)
        closes = _parse_time(pair[1], field_name, where, closing=True)
        if closes <= opens:
            raise CoverageError(
                f"{where}: {field_name}: close {pair[1]!r} is not after open {pair[0]!r} "
                "(split a shift past midnight over two days; '24:00' closes at midnight)"
            )
        intervals.append((opens, closes, i))
    intervals.sort()
    for (_, end, first), (start, _, second) in pairwise(intervals):
        if start < end:
            raise CoverageError(f"{where}: {name}[{second}]: overlaps {name}[{first}]")
    return [(opens, closes) for opens, closes, _ in intervals]


def _parse_time(value: Any, field_name: str, where: str, *, closing: bool) -> time:
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        hour, minute = int(match[1]), int(match[2])
        if closing and (hour, minute) == (24, 0):
            return END_OF_DAY
        if hour < 24 and minute < 60:
            return time(hour, minute)
    hint = " ('24:00' is only a closing time)" if match and match[0] == "24:00" else ""
    raise CoverageError(f"{where}: {field_name}: {value!r} is not a time HH:MM{hint}")


def _parse_holidays(value: Any, where: str) -> frozenset[date]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise CoverageError(f"{where}: holidays: expected a list of dates YYYY-MM-DD")
    holidays: set[date] = set()
    for i, item in enumerate(value):
        text = item.strip() if isinstance(item, str) else None
        try:
            if text is None or not _DATE.fullmatch(text):
                raise ValueError(text)
            holidays.add(date.fromisoformat(text))
        except ValueError:
            raise CoverageError(
                f"{where}: holidays[{i}]: {item!r} is not a date YYYY-MM-DD"
            ) from None
    return frozenset(holidays)


def _parse_contact(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CoverageError(f"{where}: contact: expected a mapping like {{email: ..., phone: ...}}")
    contact: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str) or not item.strip():
            raise CoverageError(f"{where}: contact.{key}: expected text, got {item!r}")
        contact[key] = item.strip()
    return contact


def _parse_routing(value: Any, teams: Mapping[str, Team], file: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CoverageError(f"{file}: routing: expected a mapping of language -> team")
    routing: dict[str, str] = {}
    for language, name in value.items():
        if not isinstance(language, str) or not language.strip():
            raise CoverageError(
                f"{file}: routing: language {language!r} is not a language code "
                "(quote it: YAML reads a bare no as false)"
            )
        if not isinstance(name, str) or name not in teams:
            raise CoverageError(
                f"{file}: routing.{language}: unknown team {name!r} (teams: {', '.join(teams)})"
            )
        routing[_language_tag(language)] = name
    return routing


def _check_fields(raw: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in raw:
        if key not in allowed:
            raise CoverageError(f"{where}: unknown field {key!r} (expected {', '.join(allowed)})")


# --- small helpers ----------------------------------------------------------------------


def _require_aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} needs a timezone-aware datetime, got naive {at.isoformat()}")
    return at


def _language_tag(language: str) -> str:
    return language.strip().replace("_", "-").lower()

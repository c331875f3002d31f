"""When the live-agent teams are on shift: business hours per team, time zones, holidays.

Operations staff edit ``data/coverage.yml``::

    teams:
      default:                      # required; takes every language not routed elsewhere
        time_zone: Asia/Seoul       # IANA name; all times below are local to it
        hours:                      # mon..sun -> list of [open, close]; missing day = closed
          mon: [["09:00", "18:00"]]
        holidays:
          country: KR               # public holidays from the `holidays` package; or a list
                                    # [KR, US-CA] (ISO 3166 code, "-" + subdivision)
          closed: ["12-31", "2026-10-02"]  # company closures: every year (MM-DD) or once
          open: ["2026-05-01"]      # holidays worked anyway, with that weekday's hours
        contact: {email: support@maru-store.example}
    routing:                        # customer language -> team
      ja: japan

``holidays`` may also be a plain list (``["2026-12-25"]``), the older format: the same as
``{closed: [...]}``, so those dates are closed and no public holidays are looked up.

Shape of the API: :func:`load_coverage` validates the file and returns one
:class:`Coverage` (teams plus the routing map), which answers per customer language
(``coverage.is_open("ja", now)``). The routing map lives in the same file as the teams,
so there is no separate ``routing`` argument to thread through callers. The per-team
functions :func:`is_open`, :func:`next_opening` and :func:`format_reopening` are plain
functions of a :class:`Team`. The only module-level state is the cache of public holidays
per (country, year): the package builds a year's calendar in milliseconds, too slow to
repeat on every ``is_open`` on the event loop, and the answer never changes for a version.

Rules:

* An interval ``[open, close)`` includes ``open`` and excludes ``close``; ``"24:00"`` is
  allowed as a closing time and means "until midnight". A shift past midnight is two
  intervals on two days.
* Holidays are the team's local dates and close the team for the whole day. Which rule
  wins on a date: a one-off ``closed``/``open`` date, then a yearly ``MM-DD`` one, then the
  public holidays, then the weekly hours. ``open`` restores that weekday's usual hours.
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
from functools import lru_cache
from importlib.metadata import version as package_version
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as public_holiday_data
import yaml

DEFAULT_TEAM = "default"
SEARCH_DAYS = 366
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = time.max  # what a closing time of "24:00" becomes; still counts as open

_TEAM_FIELDS = ("time_zone", "hours", "holidays", "contact")
_TOP_FIELDS = ("teams", "routing")
_HOLIDAY_FIELDS = ("country", "closed", "open")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_REGION = re.compile(r"([A-Za-z]{2})(?:-([A-Za-z0-9]{1,3}))?")  # "KR", "US-CA", "JP-13"

MonthDay = tuple[int, int]  # (month, day): a date that comes back every year


class CoverageError(Exception):
    """coverage.yml is unusable. The message names the file, the team and the field."""


@dataclass(frozen=True)
class Team:
    name: str
    time_zone: ZoneInfo
    hours: dict[int, list[tuple[time, time]]]  # weekday (0 = Monday) -> sorted intervals
    holidays: frozenset[date] = frozenset()  # one-off closed dates (``closed`` or old list)
    contact: dict[str, str] = field(default_factory=dict)
    countries: tuple[str, ...] = ()  # "KR", "US-CA": public holidays looked up per year
    closed_yearly: frozenset[MonthDay] = frozenset()
    open_days: frozenset[date] = frozenset()  # worked although a holiday or closure
    open_yearly: frozenset[MonthDay] = frozenset()

    def is_closed_all_day(self, day: date) -> bool:
        """Whether ``day`` (the team's local date) is a holiday or closure for this team."""
        if day in self.holidays:
            return True
        if day in self.open_days:
            return False
        month_day = (day.month, day.day)
        if month_day in self.closed_yearly:
            return True
        if month_day in self.open_yearly:
            return False
        return any(day in public_holidays(code, day.year) for code in self.countries)


@lru_cache(maxsize=256)
def public_holidays(code: str, year: int) -> frozenset[date]:
    """Public holidays of ``code`` ("KR", or "US-CA" for a subdivision) in ``year``, from the
    ``holidays`` package, with its substitute days. ``load_coverage`` checks codes first; an
    unknown one raises ``NotImplementedError`` here."""
    # Building one year takes ~1-10 ms (lunar dates, substitute-day rules) and is_open runs
    # on the event loop, so each (code, year) is built once; keys are few (teams' countries
    # x the years asked about).
    country, _, subdivision = code.partition("-")
    calendar = public_holiday_data.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(calendar)


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
    if team.is_closed_all_day(local.date()):
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
        if not team.is_closed_all_day(day):
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
    rules = _parse_holidays(raw.get("holidays"), where)
    return Team(
        name=name,
        time_zone=_parse_zone(raw.get("time_zone"), where),
        hours=_parse_hours(raw.get("hours"), where),
        holidays=rules.closed,
        contact=_parse_contact(raw.get("contact"), where),
        countries=rules.countries,
        closed_yearly=rules.closed_yearly,
        open_days=rules.open,
        open_yearly=rules.open_yearly,
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


@dataclass(frozen=True)
class _HolidayRules:
    countries: tuple[str, ...] = ()
    closed: frozenset[date] = frozenset()
    closed_yearly: frozenset[MonthDay] = frozenset()
    open: frozenset[date] = frozenset()
    open_yearly: frozenset[MonthDay] = frozenset()


def _parse_holidays(value: Any, where: str) -> _HolidayRules:
    if value is None:
        return _HolidayRules()
    if isinstance(value, list):  # the older format: closed dates, no public holidays
        closed, closed_yearly = _parse_days(value, "holidays", where)
        return _HolidayRules(closed=closed, closed_yearly=closed_yearly)
    if not isinstance(value, dict):
        raise CoverageError(
            f"{where}: holidays: expected a mapping like "
            '{country: KR, closed: ["12-31"], open: ["2026-05-01"]} '
            "(or a list of dates YYYY-MM-DD)"
        )
    _check_fields(value, _HOLIDAY_FIELDS, f"{where}: holidays")
    closed, closed_yearly = _parse_days(value.get("closed"), "holidays.closed", where)
    opened, open_yearly = _parse_days(value.get("open"), "holidays.open", where)
    both = sorted(closed & opened) + sorted(closed_yearly & open_yearly)
    if both:
        day = both[0]
        text = day.isoformat() if isinstance(day, date) else f"{day[0]:02d}-{day[1]:02d}"
        raise CoverageError(f"{where}: holidays: {text!r} is under both closed and open (keep one)")
    return _HolidayRules(
        countries=_parse_countries(value.get("country"), where),
        closed=closed,
        closed_yearly=closed_yearly,
        open=opened,
        open_yearly=open_yearly,
    )


def _parse_days(value: Any, name: str, where: str) -> tuple[frozenset[date], frozenset[MonthDay]]:
    """A list of YYYY-MM-DD (that date only) and MM-DD (every year) items."""
    if value is None:
        return frozenset(), frozenset()
    if not isinstance(value, list):
        raise CoverageError(
            f"{where}: {name}: expected a list of dates YYYY-MM-DD (once) or MM-DD (every year)"
        )
    once: set[date] = set()
    yearly: set[MonthDay] = set()
    for i, item in enumerate(value):
        text = item.strip() if isinstance(item, str) else ""
        try:
            if _DATE.fullmatch(text):
                once.add(date.fromisoformat(text))
                continue
            month_day = _MONTH_DAY.fullmatch(text)
            if month_day:
                month, day = int(month_day[1]), int(month_day[2])
                date(2000, month, day)  # a leap year, so that 02-29 is accepted
                yearly.add((month, day))
                continue
        except ValueError:
            pass
        raise CoverageError(
            f"{where}: {name}[{i}]: {item!r} is not a date YYYY-MM-DD (once) or MM-DD (every year)"
        )
    return frozenset(once), frozenset(yearly)


def _parse_countries(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for i, item in enumerate(items):
        name = f"holidays.country[{i}]" if isinstance(value, list) else "holidays.country"
        code = _parse_country(item, name, where)
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _parse_country(value: Any, name: str, where: str) -> str:
    """ "kr" -> "KR", "us-ca" -> "US-CA", checked by looking it up in the package. Building
    this year and next here also means the first customer does not wait for it."""
    if not isinstance(value, str):
        hint = " (quote it: YAML reads a bare NO as false)" if isinstance(value, bool) else ""
        raise CoverageError(
            f"{where}: {name}: {value!r} is not a country code like KR, JP or US-CA{hint}"
        )
    match = _REGION.fullmatch(value.strip())
    country = match[1].upper() if match else ""
    this_year = date.today().year
    try:
        public_holidays(country, this_year)
    except NotImplementedError:
        suggestion = _code_for_name(value)
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        raise CoverageError(
            f"{where}: {name}: unknown country code {value!r}{hint}. Use a two-letter "
            f"ISO 3166-1 code that the holidays package {package_version('holidays')} "
            "knows (KR, JP, US, ...; 'US-CA' for a subdivision), or remove country and "
            "list the team's days off under holidays.closed"
        ) from None
    code = country
    if match and match[2]:
        # The package spells subdivisions in upper case or digits ("CA", "13"); accept
        # any case here and store its spelling.
        known = {
            sub.upper(): sub for sub in public_holiday_data.country_holidays(country).subdivisions
        }
        subdivision = known.get(match[2].upper())
        if subdivision is None:
            names = sorted(known.values())
            listed = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "") or "none"
            raise CoverageError(
                f"{where}: {name}: {country} has no subdivision {match[2]!r} in the holidays "
                f"package (known: {listed}); use {country} alone for the national holidays"
            )
        code = f"{country}-{subdivision}"
    public_holidays(code, this_year)
    public_holidays(code, this_year + 1)  # next_opening looks up to a year ahead
    return code


def _code_for_name(text: str) -> str | None:
    """The country code for a country written out ("Japan", "South Korea"), if the package
    has a class of that name; None otherwise."""
    text = text.strip()
    for name in (text, text.upper(), text.title().replace(" ", "")):
        code = getattr(getattr(public_holiday_data, name, None), "country", None)
        if isinstance(code, str) and code.isupper():
            return code
    return None


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

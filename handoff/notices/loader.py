"""Scheduled windows from data/notices.yml (the path: stack/settings.py `notices_path`).

Checked when the gateway starts, as data/gateway_texts.yml is (customer/texts.py): every
notice needs an id, a text in ko, ja and en, a start and an end with their time zone, and
topics the knowledge base knows. A broken file stops the gateway with every problem listed,
rather than showing customers a half-made banner later. An absent file means no windows.

    notices:
      - id: payment-maintenance-2026-11-30     # letters, digits, - and _
        severity: info                          # or outage
        starts_at: 2026-11-30T01:00:00+09:00
        ends_at: 2026-11-30T03:00:00+09:00
        topics: [payment]                       # KB tags or categories; [] for everything
        text: {ko: "...", ja: "...", en: "..."}
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml

from handoff.notices.model import LANGUAGES, MAX_NOTICE_CHARS, MAX_TOPICS, SEVERITIES, Notice
from handoff.notices.model import instant as to_instant

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEYS = {"id", "severity", "starts_at", "ends_at", "topics", "text"}


class NoticesError(ValueError):
    """The notices file is broken; the message lists every problem."""


def _instant(raw: object, where: str, found: list[str]) -> str | None:
    # YAML reads an unquoted time as a datetime already; a quoted one stays text.
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw)
        except ValueError:
            found.append(f"{where} is not a date and time like 2026-11-30T01:00:00+09:00")
            return None
    if not isinstance(raw, datetime):
        found.append(f"{where} is missing (a date and time like 2026-11-30T01:00:00+09:00)")
        return None
    try:
        return to_instant(raw)
    except ValueError:
        found.append(f"{where} needs its time zone (2026-11-30T01:00:00+09:00, or Z for UTC)")
        return None


def _notice(raw: object, index: int, topics: set[str], found: list[str]) -> Notice | None:
    where = f"notices[{index}]"
    if not isinstance(raw, dict):
        found.append(f"{where} must be a mapping with id, text, starts_at, ends_at")
        return None
    before = len(found)
    notice_id = raw.get("id")
    if not isinstance(notice_id, str) or not ID_PATTERN.fullmatch(notice_id):
        found.append(f"{where}.id must be 1-64 letters, digits, - or _")
    else:
        where = f"notice {notice_id}"
    for key in sorted(set(map(str, raw)) - _KEYS):
        found.append(f"{where}: unknown key `{key}` (use {', '.join(sorted(_KEYS))})")
    texts = raw.get("text")
    if not isinstance(texts, dict):
        found.append(f"{where}.text needs ko, ja and en")
        texts = {}
    for language in LANGUAGES:
        text = texts.get(language)
        if not isinstance(text, str) or not text.strip():
            found.append(f"{where}.text.{language} is missing or empty")
        elif len(text) > MAX_NOTICE_CHARS:
            found.append(
                f"{where}.text.{language} is {len(text)} characters; at most {MAX_NOTICE_CHARS}"
            )
    severity = raw.get("severity", "info")
    if severity not in SEVERITIES:
        found.append(f"{where}.severity must be one of {', '.join(SEVERITIES)}")
    starts_at = _instant(raw.get("starts_at"), f"{where}.starts_at", found)
    ends_at = _instant(raw.get("ends_at"), f"{where}.ends_at", found)
    if starts_at and ends_at and ends_at <= starts_at:
        found.append(f"{where}.ends_at must be after its starts_at")
    wanted = raw.get("topics", [])
    if not isinstance(wanted, list) or not all(isinstance(t, str) for t in wanted):
        found.append(f"{where}.topics must be a list of KB tags or categories")
        wanted = []
    elif len(wanted) > MAX_TOPICS:
        found.append(f"{where}.topics: at most {MAX_TOPICS}")
    if unknown := sorted(set(wanted) - topics):
        found.append(
            f"{where}.topics: {', '.join(unknown)} is no KB tag or category "
            f"(known: {', '.join(sorted(topics))})"
        )
    if len(found) > before or starts_at is None or ends_at is None:
        return None
    return Notice(
        id=str(notice_id),
        texts={language: str(texts[language]).strip() for language in LANGUAGES},
        starts_at=starts_at,
        ends_at=ends_at,
        topics=tuple(dict.fromkeys(wanted)),
        severity=str(severity),
        source="file",
    )


def parse_notices(raw: object, topics: set[str]) -> tuple[tuple[Notice, ...], list[str]]:
    """The file's notices and every problem with them, as sentences a designer can act on."""
    if raw is None:
        return (), []
    if not isinstance(raw, dict) or not isinstance(raw.get("notices", []), list):
        return (), ["the file must be a mapping with a `notices:` list"]
    found: list[str] = []
    notices: list[Notice] = []
    for index, item in enumerate(raw.get("notices") or []):
        notice = _notice(item, index, topics, found)
        if notice is not None:
            notices.append(notice)
    seen: set[str] = set()
    for notice in notices:
        if notice.id in seen:
            found.append(f"notice {notice.id}: the id is used twice")
        seen.add(notice.id)
    return tuple(notices), found


def load_notices(path: Path, topics: set[str]) -> tuple[Notice, ...]:
    """The scheduled windows, or NoticesError listing every problem. No file: none."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise NoticesError(f"{path}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise NoticesError(f"{path}: not valid YAML: {exc}") from exc
    notices, found = parse_notices(raw, topics)
    if found:
        raise NoticesError(f"{path}:\n  " + "\n  ".join(found))
    return notices

"""Reading and checking a ko/ja/en texts file: data/gateway_texts.yml (handoff/customer/texts.py)
and data/helpcentre_texts.yml (handoff/helpcentre/texts.py).

Each of those modules knows which keys its file must have; this one holds what they share:
how one text's languages are checked, and how a file is read and refused. A refusal names
the file, lists every problem (each names the key and the language) and ends with what to
do, so the gateway's start and `python -m handoff texts check` report both files alike.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from common.language import SUPPORTED_LANGUAGES


class TextsError(ValueError):
    """The texts file is missing, broken, or lacks a text; the message lists every problem."""


def placeholders(text: str) -> set[str]:
    """The {names} in `text`; ValueError when a brace is broken."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def language_problems(
    where: str,
    variants: Mapping[object, object],
    allowed: frozenset[str],
    *,
    same_in_every_language: bool = True,
) -> list[str]:
    """What is wrong with one text's ko/ja/en variants, each problem prefixed with `where`
    (e.g. texts.<key>): a language missing or empty, a broken brace, a placeholder outside
    `allowed`, and, with `same_in_every_language`, languages using different placeholders."""
    found: list[str] = []
    used_by_language: dict[str, set[str]] = {}
    for language in SUPPORTED_LANGUAGES:
        text = variants.get(language)
        if not isinstance(text, str) or not text.strip():
            found.append(f"{where}.{language} is missing or empty")
            continue
        try:
            used = placeholders(text)
        except ValueError as exc:
            found.append(f"{where}.{language}: broken {{placeholder}}: {exc}")
            continue
        if unknown := used - allowed:
            found.append(
                f"{where}.{language} uses {{{', '.join(sorted(unknown))}}}; "
                f"it may use only: {', '.join(sorted(allowed)) or 'no placeholders'}"
            )
        used_by_language[language] = used
    if same_in_every_language and len({frozenset(u) for u in used_by_language.values()}) > 1:
        listed = "; ".join(
            f"{language} {{{', '.join(sorted(used))}}}"
            for language, used in used_by_language.items()
        )
        found.append(f"{where} has different {{placeholders}} per language ({listed})")
    return found


def read_checked(
    path: Path,
    problems: Callable[[object], list[str]],
    what_to_do: str,
    error: type[TextsError] = TextsError,
) -> dict[str, Any]:
    """The parsed YAML of `path` once `problems` finds nothing wrong with it. Otherwise
    `error` (a TextsError) that starts with the path, lists every problem and ends with
    `what_to_do`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror})\n  {what_to_do}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}\n  {what_to_do}") from exc
    if found := problems(raw):
        raise error(f"{path}:\n  " + "\n  ".join([*found, what_to_do]))
    # Each file's `problems` reports anything but a mapping, so this holds here.
    assert isinstance(raw, dict)
    return raw

"""What the tests of both texts files (test_texts.py for data/gateway_texts.yml,
test_helpcentre.py for data/helpcentre_texts.yml) need: the file as parsed YAML, and a
copy of it with one entry changed or removed, to feed the checker a known problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path) -> dict[str, Any]:
    """The file at `path`, parsed afresh on each call so a test may change what it gets."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return raw


def with_change(path: Path, keys: list[str], value: object) -> dict[str, Any]:
    """The file at `path`, parsed, with the entry at `keys` (e.g. ["texts", "queued", "en"])
    set to `value`, or removed when `value` is None."""
    raw = read_yaml(path)
    target = raw
    for key in keys[:-1]:
        target = target[key]
    if value is None:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return raw

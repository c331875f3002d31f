"""Rebuilds and publishes the index whenever a KB file changes (a KB edit is live
in a few seconds, without `rasa train`).

The action server already swaps in a newly published index between queries;
this process only has to notice the edit and build. A broken edit is reported
with file and line, and the last good index keeps serving.

Publishing happens twice: at once with the previous calibration (the edit is live in
seconds), then again once the index has recalibrated itself on the edited KB (the
self-calibration rebuilds it five times, 10-50 s of CPU on the demo KB). An edit undone
(the KB back as it was when a calibration was fitted) takes that calibration again at
once, without the second build: the watcher remembers the last few by
`build.calibration_key`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

from kb_index.articles import KBError, kb_files
from kb_index.build import build_index, calibration_key
from kb_index.calibration import CalibrationError
from kb_index.decision import Calibration
from kb_index.embed_cache import CachingEmbedder
from kb_index.evaluate import QueryFileError
from kb_index.index import KBIndex, KBIndexError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
# Calibrations remembered by their key: the KB as it is and as it was a few edits ago.
_REMEMBERED_CALIBRATIONS = 8


class Calibrations:
    """The last few calibrations this watcher published (or found published), by key."""

    def __init__(self, capacity: int = _REMEMBERED_CALIBRATIONS) -> None:
        self.capacity = capacity
        self._by_key: dict[str, Calibration] = {}

    def remember(self, index: KBIndex) -> None:
        if index.calibration is None or index.calibration_key is None:
            return
        self._by_key.pop(index.calibration_key, None)
        self._by_key[index.calibration_key] = index.calibration
        while len(self._by_key) > self.capacity:
            del self._by_key[next(iter(self._by_key))]  # the oldest

    def get(self, key: str) -> Calibration | None:
        return self._by_key.get(key)


def snapshot(kb_dir: Path, extra: list[Path]) -> dict[str, float]:
    """Modification times of every KB file (and the calibration set)."""
    try:
        paths = kb_files(kb_dir) + [p for p in extra if p.exists()]
    except KBError:
        return {}
    state = {}
    for path in paths:
        try:
            state[str(path)] = path.stat().st_mtime
        except OSError:
            continue  # deleted between listing and stat: the next poll sees it
    return state


def rebuild(
    kb_dir: Path,
    out: Path,
    embedder: CachingEmbedder,
    calibrate_on: Path | None,
    known: Calibrations | None = None,
) -> bool:
    started = time.monotonic()
    known = known if known is not None else Calibrations()
    try:
        key = calibration_key(kb_dir, embedder.identity, calibrate_on)
        quick = build_index(kb_dir, embedder, progress=False, calibrate=False)
        if (fitted := known.get(key)) is not None:
            # These very inputs were calibrated before: that calibration, published once.
            quick.calibration, quick.calibration_key = fitted, key
            folder = quick.save(out)
            embedder.save()
            log.info(
                "published %s (%d articles), calibrated as before (the KB was like this "
                "when it was last fitted), in %.1fs",
                folder.name,
                len(quick.articles),
                time.monotonic() - started,
            )
            return True
        try:
            quick.calibration = KBIndex.load(out).calibration
        except KBIndexError:
            quick.calibration = None  # nothing published yet: fixed thresholds meanwhile
        folder = quick.save(out)
        embedder.save()
        log.info(
            "published %s (%d articles) in %.1fs",
            folder.name,
            len(quick.articles),
            time.monotonic() - started,
        )
        index = build_index(kb_dir, embedder, calibrate_on, progress=False)
    except (KBError, CalibrationError, QueryFileError) as exc:
        log.error("KB not rebuilt, the last good index keeps serving: %s", exc)
        return False
    folder = index.save(out)
    known.remember(index)
    log.info(
        "published %s, recalibrated (%s), in %.1fs",
        folder.name,
        index.calibration.fitted_on if index.calibration else "not calibrated",
        time.monotonic() - started,
    )
    return True


def watch(kb_dir: Path, out: Path, embedder: CachingEmbedder, calibrate_on: Path | None) -> None:
    extra = [calibrate_on] if calibrate_on else []
    seen = snapshot(kb_dir, extra)
    known = Calibrations()
    with contextlib.suppress(KBIndexError):  # none yet: the first edit builds one
        known.remember(KBIndex.load(out))  # `make kb-index` built it: the KB as it is now
    # One unpublished build first: it loads the libraries and fills the
    # embedding cache, so the first real edit goes live as fast as later ones.
    try:
        build_index(kb_dir, embedder, progress=False, calibrate=False)
    except (KBError, CalibrationError, QueryFileError) as exc:
        log.error("the KB has a problem (the current index keeps serving): %s", exc)
    log.info("watching %s for changes", kb_dir)
    while True:
        time.sleep(POLL_SECONDS)
        current = snapshot(kb_dir, extra)
        if current != seen:
            seen = current
            rebuild(kb_dir, out, embedder, calibrate_on, known)

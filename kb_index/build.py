"""KB folder (+ optional evaluation set) -> a calibrated index. Shared by the CLI
commands `build` and `eval`, and by the watcher.

Every build calibrates itself on the KB (calibration.py); an evaluation set, when given
and large enough, joins in and sets the thresholds.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

from kb_index.articles import kb_files, load_kb, load_not_covered, load_shop_names
from kb_index.calibration import (
    DEFAULT_TARGET_ABSTAIN_RECALL,
    DEFAULT_TARGET_ACCURACY,
    MIN_LABELLED_QUERIES,
    CalibrationError,
    describe_sources,
    embed_queries,
    fit_calibration,
    labelled_observations,
    self_observations,
)
from kb_index.embedders import Embedder
from kb_index.evaluate import load_queries
from kb_index.index import KBIndex

log = logging.getLogger(__name__)

# This package's own files: a change to the code or the shipped out-of-scope set changes
# what a calibration would come out as.
_PACKAGE = Path(__file__).resolve().parent


def build_index(
    kb_dir: Path,
    embedder: Embedder,
    calibrate_on: Path | None = None,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    progress: bool | None = None,
    target_abstain_recall: float = DEFAULT_TARGET_ABSTAIN_RECALL,
    calibrate: bool = True,
) -> KBIndex:
    show_progress = sys.stderr.isatty() if progress is None else progress
    articles, shop_names = load_kb(kb_dir), load_shop_names(kb_dir)
    not_covered = load_not_covered(kb_dir)

    def embed_kb() -> KBIndex:
        return KBIndex.build(
            articles,
            embedder,
            progress=show_progress,
            shop_names=shop_names,
            not_covered=not_covered,
        )

    if not calibrate:
        return embed_kb()
    key = calibration_key(
        kb_dir, embedder.identity, calibrate_on, target_accuracy, target_abstain_recall
    )
    index = embed_kb()
    labelled = None
    if calibrate_on is not None:
        queries = load_queries(calibrate_on)
        labelled = labelled_observations(index, embed_queries(index, embedder, queries), queries)
    # Left-out articles' questions are for calibrating without (enough) real questions.
    observed = self_observations(
        index,
        progress=show_progress,
        missing_articles=labelled is None or len(labelled.items) < MIN_LABELLED_QUERIES,
    )
    try:
        index.calibration = fit_calibration(
            observed,
            labelled,
            target_accuracy=target_accuracy,
            target_abstain_recall=target_abstain_recall,
            source=describe_sources(observed, labelled, str(calibrate_on)),
        )
    except CalibrationError as exc:
        if labelled is not None:
            raise
        # A tiny KB (a couple of articles) cannot calibrate itself: fixed thresholds.
        log.warning("not calibrated, fixed thresholds in use: %s", exc)
        return index
    # Only when no file changed while it was read and fitted (the key would then name
    # inputs the calibration never saw).
    if key == calibration_key(
        kb_dir, embedder.identity, calibrate_on, target_accuracy, target_abstain_recall
    ):
        index.calibration_key = key
    return index


def calibration_key(
    kb_dir: Path,
    embedder_identity: str,
    calibrate_on: Path | None,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    target_abstain_recall: float = DEFAULT_TARGET_ABSTAIN_RECALL,
) -> str:
    """A digest of everything a calibration depends on: the KB files' names and bytes, the
    evaluation set's bytes, the embedder, the targets and this package's code and data.
    Equal keys, equal calibrations (its folds are seeded), so the watcher reuses one rather
    than fitting it again when an edit is undone."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("embedder", embedder_identity.encode())
    add("targets", f"{target_accuracy!r} {target_abstain_recall!r}".encode())
    for path in kb_files(kb_dir):
        add(f"kb/{path.relative_to(kb_dir).as_posix()}", _read(path))
    add("eval", _read(calibrate_on) if calibrate_on is not None else b"")
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in {".py", ".yml"} and path.is_file():
            add(f"code/{path.relative_to(_PACKAGE).as_posix()}", _read(path))
    return digest.hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0missing"  # not readable now: the build itself says why, if it matters

"""KB folder (+ optional evaluation set) -> a calibrated index. Shared by the CLI
commands `build` and `eval`, and by the watcher."""

from __future__ import annotations

import sys
from pathlib import Path

from kb_index.articles import load_kb
from kb_index.calibration import (
    DEFAULT_TARGET_ABSTAIN_RECALL,
    DEFAULT_TARGET_ACCURACY,
    fit_calibration,
)
from kb_index.embedder import Embedder
from kb_index.evaluate import load_queries
from kb_index.index import KBIndex


def build_index(
    kb_dir: Path,
    embedder: Embedder,
    calibrate_on: Path | None = None,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    progress: bool | None = None,
    target_abstain_recall: float = DEFAULT_TARGET_ABSTAIN_RECALL,
) -> KBIndex:
    show_progress = sys.stderr.isatty() if progress is None else progress
    index = KBIndex.build(load_kb(kb_dir), embedder, progress=show_progress)
    if calibrate_on is not None:
        queries = load_queries(calibrate_on)
        vectors = embedder.embed([q.text for q in queries])
        index.calibration = fit_calibration(
            index,
            vectors,
            queries,
            target_accuracy,
            source=str(calibrate_on),
            target_abstain_recall=target_abstain_recall,
        )
    return index

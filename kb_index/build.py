"""KB folder (+ optional evaluation set) -> a calibrated index. Shared by the CLI
commands `build` and `eval`, and by the watcher.

Every build calibrates itself on the KB (calibration.py); an evaluation set, when given
and large enough, joins in and sets the thresholds.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from kb_index.articles import load_kb
from kb_index.calibration import (
    DEFAULT_TARGET_ABSTAIN_RECALL,
    DEFAULT_TARGET_ACCURACY,
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
    index = KBIndex.build(load_kb(kb_dir), embedder, progress=show_progress)
    if not calibrate:
        return index
    labelled = None
    if calibrate_on is not None:
        queries = load_queries(calibrate_on)
        labelled = labelled_observations(index, embed_queries(embedder, queries), queries)
    observed = self_observations(index, progress=show_progress)
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

"""Question in, decision out: the embedder, the live index and its thresholds.

One `Retriever` per process. It notices a rebuilt index (CURRENT points at a
new version) and swaps it in between queries, so a KB edit goes live without
retraining Rasa or restarting anything. If the new version cannot be loaded the
old one keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from kb_index.decision import Decision, decide
from kb_index.embedder import Embedder
from kb_index.index import KBIndex, KBIndexError, current_version

log = logging.getLogger(__name__)

# How often, at most, the CURRENT pointer is re-read: cheap, and bounds how
# long a rebuilt index takes to go live.
RELOAD_CHECK_SECONDS = 1.0


class Retriever:
    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self._index: KBIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def index(self) -> KBIndex:
        """The live index, reloaded when a newer version has been published."""
        with self._lock:
            now = time.monotonic()
            if self._index is None or now - self._checked_at >= RELOAD_CHECK_SECONDS:
                self._checked_at = now
                self._maybe_reload()
            assert self._index is not None
            return self._index

    def _maybe_reload(self) -> None:
        try:
            version = current_version(self.index_dir)
            if self._index is not None and version == self._index.version:
                return
            fresh = KBIndex.load(self.index_dir, self.embedder.identity)
        except KBIndexError:
            if self._index is None:
                raise
            log.exception("kept the previous KB index: the new one could not be loaded")
            return
        log.info(
            "loaded KB index %s: %d articles, %d variants",
            fresh.version,
            len(fresh.articles),
            len(fresh.variants),
        )
        self._index = fresh

    def ask(self, text: str, top_articles: int = 5) -> Decision:
        index = self.index
        vector = self.embedder.embed([text])[0]
        decision = decide(
            index.rank(vector, top_articles=top_articles),
            index.facts(text),
            index.calibration,
            index.thresholds,
        )
        log.info("kb query=%r %s", text[:200], decision.log_line())
        return decision

"""Question in, decision out: the embedder, the live index and its thresholds.

`IndexReader` holds the live index and notices a rebuilt one (CURRENT points at a new
version), swapping it in between queries, so a KB edit goes live without retraining
Rasa or restarting anything; if the new version cannot be loaded the old one keeps
serving. `Retriever` adds the embedder: one per process (the action server's), because
the model is the expensive part. Processes that only show articles (the gateway's agent
console: titles, answers) use an `IndexReader` and no model.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from kb_index.decision import Decision, decide
from kb_index.embedders import Embedder
from kb_index.index import KBIndex, KBIndexError, current_version

log = logging.getLogger(__name__)

# How often, at most, the CURRENT pointer is re-read: cheap, and bounds how
# long a rebuilt index takes to go live.
RELOAD_CHECK_SECONDS = 1.0


class IndexReader:
    """The live index of `index_dir`; with `embedder_identity`, refuses an index built
    by another embedder (it could not be queried), without, only reads articles."""

    def __init__(self, index_dir: Path, embedder_identity: str | None = None) -> None:
        self.index_dir = index_dir
        self.embedder_identity = embedder_identity
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
            fresh = KBIndex.load(self.index_dir, self.embedder_identity)
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


class Retriever(IndexReader):
    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        super().__init__(index_dir, embedder.identity)
        self.embedder = embedder

    def query_vector(self, text: str) -> np.ndarray:
        # Order, card and phone numbers and the shop's own name say nothing about which
        # article answers (masking.py).
        return np.asarray(self.embedder.embed([self.index.masked(text)])[0], dtype=np.float32)

    def ask(self, text: str, top_articles: int = 5) -> Decision:
        index = self.index
        vector = self.query_vector(text)
        candidates, facts = index.analyse(text, vector, top_articles=top_articles)
        decision = decide(candidates, facts, index.calibration, index.thresholds)
        log.info("kb query=%r %s", text[:200], decision.log_line())
        return replace(decision, query_vector=vector)

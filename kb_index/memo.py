"""Embeddings of recently seen texts, kept in memory and bounded.

The analytics page groups every unanswered question in the chosen range each time it is
opened; without this, reloading it would embed thousands of questions again (~700 per
second here). Unlike embed_cache.py (the KB's variants, saved to disk), this holds
customers' wordings, so it lives only in the process's memory and forgets the oldest.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

from kb_index.embedders import Embedder

# 384-d float32 vectors: 20 000 texts are ~31 MB, two busy weeks of unanswered questions.
DEFAULT_CAPACITY = 20_000


class MemoEmbedder:
    """Wraps an embedder with a least-recently-used memory of `capacity` texts.
    Safe to call from several threads (the action server's executor)."""

    def __init__(self, inner: Embedder, capacity: int = DEFAULT_CAPACITY) -> None:
        self.inner = inner
        self.capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def dim(self) -> int:
        return self.inner.dim

    def __len__(self) -> int:
        return len(self._vectors)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts not remembered, in the order given."""
        with self._lock:
            return [t for t in dict.fromkeys(texts) if t not in self._vectors]

    def remember(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Vectors computed elsewhere (recorded with the questions): no model time."""
        with self._lock:
            for text, vector in vectors.items():
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            # Outside the lock: embedding is the slow part and needs no shared state.
            fresh = np.asarray(self.inner.embed(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh):
                    found[text] = vector
                    self._vectors[text] = vector
                    self._vectors.move_to_end(text)
                while len(self._vectors) > self.capacity:
                    self._vectors.popitem(last=False)
        return np.vstack([found[t] for t in texts])

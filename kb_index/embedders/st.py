"""Any sentence-transformers model, by hub name or local path (nothing is downloaded)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from kb_index.embedders.base import EmbedderError


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local path.

    Nothing is downloaded: run with a model that is on disk (a local path, or
    a name already in the local cache with HF_HUB_OFFLINE=1).
    """

    def __init__(self, model_name_or_path: str, device: str = "cpu") -> None:
        self._name = model_name_or_path
        self._device = device
        self._model: object | None = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return f"sentence-transformers:{self._name}"

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - install problem
                    raise EmbedderError(
                        "sentence-transformers is not installed: run `make setup`"
                    ) from exc
                try:
                    model = SentenceTransformer(self._name, device=self._device)
                except Exception as exc:
                    raise EmbedderError(
                        f"cannot load sentence-transformers model '{self._name}': {exc}. "
                        "Give a local model folder; downloads are not possible here."
                    ) from exc
                # sentence-transformers 6 renamed the method; older releases have the old name.
                dimension = (
                    getattr(model, "get_embedding_dimension", None)
                    or model.get_sentence_embedding_dimension
                )
                self._dim = int(dimension() or 0)
                self._model = model
            return self._model

    @property
    def dim(self) -> int:
        self._load()
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(  # type: ignore[attr-defined]
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

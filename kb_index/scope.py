"""Is a question about this KB at all? Two signals learned at build time, no labels needed.

The KB's own question variants are examples of "in scope"; kb_index/out_of_scope.yml,
shipped with the engine, holds ~300 messages per language that no shop's FAQ answers
(other companies' accounts, weather, homework, chit-chat). From them:

- `in_kb`: a logistic regression over sentence embeddings, variants against those
  messages: P(the question looks like this KB's questions);
- `negative_top`: cosine similarity to the closest of those messages.

A message of the set that is close to one of this KB's variants is dropped first
(a KB that does answer, say, questions about a bank must not learn them as out of scope).
"""

from __future__ import annotations

import functools
from pathlib import Path

import faiss
import numpy as np
import yaml

OUT_OF_SCOPE_FILE = Path(__file__).with_name("out_of_scope.yml")
# Out-of-scope examples at least this similar to one of the KB's variants are dropped.
TOO_CLOSE_TO_KB = 0.95
_REGULARISATION_C = 10.0


@functools.cache
def out_of_scope_examples(path: Path = OUT_OF_SCOPE_FILE) -> tuple[tuple[str, str], ...]:
    """(language, text) pairs of the shipped out-of-scope set."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple((lang, str(text)) for lang, texts in raw.items() for text in texts or [])


class ScopeModel:
    def __init__(self, coef: np.ndarray, bias: float, negatives: np.ndarray) -> None:
        self.coef = coef.astype(np.float32)
        self.bias = float(bias)
        self.negatives = np.ascontiguousarray(negatives, dtype=np.float32)
        self._index = faiss.IndexFlatIP(self.negatives.shape[1])
        self._index.add(self.negatives)

    @classmethod
    def fit(cls, variants: np.ndarray, negatives: np.ndarray) -> ScopeModel | None:
        """None without examples on both sides."""
        if len(negatives):
            closest = (negatives @ variants.T).max(axis=1)
            negatives = negatives[closest < TOO_CLOSE_TO_KB]
        if len(variants) < 2 or len(negatives) < 10:
            return None
        from sklearn.linear_model import LogisticRegression

        x = np.vstack([variants, negatives])
        y = np.r_[np.ones(len(variants)), np.zeros(len(negatives))]
        model = LogisticRegression(C=_REGULARISATION_C, max_iter=3000, class_weight="balanced")
        model.fit(x, y)
        return cls(model.coef_[0], float(model.intercept_[0]), negatives)

    def signals(self, vector: np.ndarray) -> tuple[float, float]:
        """(in_kb, negative_top) for one query vector."""
        query = np.atleast_2d(vector).astype(np.float32)
        logit = float(query[0] @ self.coef + self.bias)
        in_kb = 1.0 / (1.0 + np.exp(-max(-50.0, min(50.0, logit))))
        scores, _ = self._index.search(query, 1)
        return float(in_kb), float(scores[0][0])

    def save(self, folder: Path) -> None:
        np.savez(folder / "scope.npz", coef=self.coef, bias=self.bias, negatives=self.negatives)

    @classmethod
    def load(cls, folder: Path) -> ScopeModel | None:
        path = folder / "scope.npz"
        if not path.exists():
            return None
        with np.load(path) as data:
            return cls(data["coef"], float(data["bias"]), data["negatives"])

"""The KB's own "not covered" questions (articles.load_not_covered): what its customers ask
that it does not answer, on purpose.

A question closer to one of them than to every question variant of the KB is told "not
covered" (decision.decide), whatever the calibrated models say: a designer who lists
"can i choose a delivery time slot" means that question and its close rewordings, and
nothing the KB does answer. A wording nearer to one of the KB's own questions ("can i
pick a delivery time", next to the shipping-time article's questions) still goes to the
models, so the list catches what customers repeat, not every way of asking it; listing a
few wordings per topic catches more. They are deliberately not out-of-scope examples for
the models (scope.py): measured on the project's KB, that way customers' longer,
situational questions about covered topics were turned away too (independent probes, en
answered right 70.6 -> 54.4 %), while this nearest-question rule left every in-scope
answer as it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_FILE = "not_covered.npz"


class NotCovered:
    def __init__(self, questions: list[tuple[str, str]], vectors: np.ndarray) -> None:
        self.questions = questions  # (language, text)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # a row per question

    @classmethod
    def none(cls) -> NotCovered:
        return cls([], np.zeros((0, 0), np.float32))

    def closest(self, vector: np.ndarray) -> tuple[float, str]:
        """(cosine similarity, text) of the closest not-covered question; (-1, "") if none."""
        if not self.questions:
            return -1.0, ""
        similarities = self.vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
        best = int(np.argmax(similarities))
        return float(similarities[best]), self.questions[best][1]

    def save(self, folder: Path) -> None:
        if self.questions:
            np.savez(
                folder / _FILE,
                vectors=self.vectors,
                languages=np.array([lang for lang, _ in self.questions]),
                texts=np.array([text for _, text in self.questions]),
            )

    @classmethod
    def load(cls, folder: Path) -> NotCovered:
        path = folder / _FILE
        if not path.exists():
            return cls.none()
        with np.load(path) as data:
            questions = list(zip(map(str, data["languages"]), map(str, data["texts"])))
            return cls(questions, data["vectors"])

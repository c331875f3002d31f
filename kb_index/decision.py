"""Answer, clarify or abstain: what to do with a ranked list of articles.

A confident wrong answer is worse than "let me get you a person". With a
calibration (fitted on an evaluation set, stored with the index) two small
logistic models read a handful of ranking features:

- P(in scope): does the KB cover this at all? Below `abstain_below` -> abstain.
- P(top article is right | in scope). When P(in scope) * P(right) reaches
  `answer_at` -> answer; otherwise -> clarify with the top candidates.

Without a calibration (a KB with no evaluation set yet) fixed cosine
thresholds on the best variant's similarity stand in. Every decision carries
the numbers behind it for the logs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from bot.language import detect_language

DecisionKind = Literal["answer", "clarify", "abstain"]

# How the candidates compare: both calibrated models read these.
RANKING_FEATURES = ("dense_top", "dense_margin", "head_top", "head_margin", "score_margin")
# Of the question's own text: how much wording the KB never uses, and its script
# (similarities run higher in Korean and Japanese than in English). Only
# P(in scope) reads these; which article is right depends on the ranking.
QUESTION_FEATURES = ("novelty", "script_ko", "script_ja", "script_en")
FEATURE_NAMES = RANKING_FEATURES + QUESTION_FEATURES


@dataclass(frozen=True)
class QueryFacts:
    """What the decision reads from the question's text itself."""

    novelty: float = 0.0  # see lexicon.Lexicon.novelty
    language: str | None = None  # from its script; None when too short to tell

    @classmethod
    def of(cls, text: str, novelty: float) -> QueryFacts:
        return cls(novelty=novelty, language=detect_language(text))


@dataclass(frozen=True)
class Thresholds:
    """Fallback cosine cut-offs, used only when the index has no calibration."""

    answer: float = 0.91
    clarify: float = 0.87
    margin: float = 0.01

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, float]) -> Thresholds:
        return cls(**{k: float(v) for k, v in raw.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Calibration:
    """Fitted on an evaluation set by calibration.py; stored in the index metadata."""

    head_weight: float
    feature_mean: list[float]
    feature_std: list[float]
    scope_coef: list[float]
    scope_bias: float
    correct_coef: list[float]
    correct_bias: float
    abstain_below: float
    answer_at: float
    fitted_on: str = ""
    queries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Calibration:
        return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})

    def probabilities(self, feats: np.ndarray) -> tuple[float, float]:
        """(P(in scope), P(top article right | in scope)) for one feature vector."""
        x = (feats - np.asarray(self.feature_mean)) / np.asarray(self.feature_std)
        return (
            _sigmoid(float(x @ np.asarray(self.scope_coef)) + self.scope_bias),
            _sigmoid(float(x @ np.asarray(self.correct_coef)) + self.correct_bias),
        )


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, value))))


@dataclass(frozen=True)
class Candidate:
    article_id: str
    score: float  # what ranks: dense + head_weight * head
    matched: str  # the question variant that matched best
    dense: float = 0.0  # cosine similarity of the best variant
    head: float = 0.0  # the classifier head's probability for the article


def features(candidates: list[Candidate], facts: QueryFacts) -> np.ndarray:
    """The features both calibrated models read (see FEATURE_NAMES)."""
    if not candidates:
        return np.zeros(len(FEATURE_NAMES))
    top = candidates[0]
    second = candidates[1] if len(candidates) > 1 else Candidate("", 0.0, "")
    runner_up_dense = max((c.dense for c in candidates[1:]), default=0.0)
    runner_up_head = max((c.head for c in candidates[1:]), default=0.0)
    return np.array(
        [
            top.dense,
            top.dense - runner_up_dense,
            top.head,
            top.head - runner_up_head,
            top.score - second.score,
            facts.novelty,
            facts.language == "ko",
            facts.language == "ja",
            facts.language == "en",
        ],
        dtype=float,
    )


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    candidates: list[Candidate]
    reason: str
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def top_score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0

    def log_line(self) -> str:
        top = ", ".join(
            f"{c.article_id}={c.score:.3f}(dense {c.dense:.3f} head {c.head:.2f})"
            for c in self.candidates[:3]
        )
        numbers = " ".join(f"{k}={v:.3f}" for k, v in self.numbers.items())
        return f"decision={self.kind} reason={self.reason} {numbers} candidates=[{top}]"


def decide(
    candidates: list[Candidate],
    facts: QueryFacts,
    calibration: Calibration | None,
    thresholds: Thresholds = Thresholds(),
    max_options: int = 3,
) -> Decision:
    """Pick answer / clarify / abstain from candidates sorted best first."""
    if not candidates:
        return Decision("abstain", [], "no_candidates")
    if calibration is None:
        return _decide_by_thresholds(candidates, thresholds, max_options)
    p_scope, p_right = calibration.probabilities(features(candidates, facts))
    numbers = {
        "novelty": facts.novelty,
        "p_in_scope": p_scope,
        "p_right": p_right,
        "abstain_below": calibration.abstain_below,
        "answer_at": calibration.answer_at,
    }
    options = candidates[:max_options]
    if p_scope < calibration.abstain_below:
        return Decision("abstain", options, "out_of_scope", numbers)
    if p_scope * p_right >= calibration.answer_at:
        return Decision("answer", options, "confident", numbers)
    return Decision("clarify", options, "unsure_which_article", numbers)


def _decide_by_thresholds(candidates: list[Candidate], t: Thresholds, max_options: int) -> Decision:
    top = candidates[0].dense
    margin = top - (candidates[1].dense if len(candidates) > 1 else 0.0)
    numbers = {"top": top, "margin": margin, "answer": t.answer, "clarify": t.clarify}
    if top < t.clarify:
        return Decision("abstain", candidates[:max_options], "below_clarify", numbers)
    if top >= t.answer and margin >= t.margin:
        return Decision("answer", candidates[:max_options], "confident", numbers)
    close = [c for c in candidates[:max_options] if c.dense >= t.clarify]
    return Decision("clarify", close, "close_candidates", numbers)

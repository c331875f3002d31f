"""Answer, clarify or abstain: what to do with a ranked list of articles.

A confident wrong answer is worse than "let me get you a person", so the bot
answers only when the best article is both close and clearly ahead of the
runner-up. Every decision carries the numbers behind it for the logs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

DecisionKind = Literal["answer", "clarify", "abstain"]


@dataclass(frozen=True)
class Thresholds:
    """Cosine-similarity cut-offs. Calibrated values are stored with the index."""

    answer: float = 0.91
    clarify: float = 0.87
    margin: float = 0.01

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, float]) -> Thresholds:
        return cls(**{k: float(v) for k, v in raw.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Candidate:
    article_id: str
    score: float
    matched: str  # the question variant that matched best


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    candidates: list[Candidate]
    thresholds: Thresholds
    top_score: float = 0.0
    margin: float = 0.0
    reason: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def log_line(self) -> str:
        top = ", ".join(f"{c.article_id}={c.score:.3f}" for c in self.candidates[:3])
        t = self.thresholds
        return (
            f"decision={self.kind} reason={self.reason} top={self.top_score:.3f} "
            f"margin={self.margin:.3f} thresholds(answer={t.answer:.3f} clarify={t.clarify:.3f} "
            f"margin={t.margin:.3f}) candidates=[{top}]"
        )


def decide(candidates: list[Candidate], thresholds: Thresholds, max_options: int = 3) -> Decision:
    """Pick answer / clarify / abstain from candidates sorted best first."""
    if not candidates:
        return Decision("abstain", [], thresholds, reason="no_candidates")
    top = candidates[0].score
    second = candidates[1].score if len(candidates) > 1 else 0.0
    margin = top - second
    if top < thresholds.clarify:
        return Decision("abstain", candidates, thresholds, top, margin, "below_clarify")
    if top >= thresholds.answer and margin >= thresholds.margin:
        return Decision("answer", candidates, thresholds, top, margin, "confident")
    close = [c for c in candidates[:max_options] if c.score >= thresholds.clarify]
    reason = "close_candidates" if top >= thresholds.answer else "below_answer"
    return Decision("clarify", close, thresholds, top, margin, reason)

"""Score a KB index against labelled queries: the numbers behind every quality claim.

Queries are JSONL, one per line: {"text": "...", "expected": "<article id>" | null,
"language"?: "ko"|"ja"|"en"}; null means the KB has no answer and the engine
should abstain.

Metrics (overall and per language):
- top1, recall_at_3, mrr: ranking quality on queries that have an article;
- answered_accuracy: of the queries answered outright, the share answered with
  the right article (an answered out-of-scope query counts as wrong);
- abstain_precision / abstain_recall: abstentions that were out of scope, and
  out-of-scope queries that were abstained on;
- clarify_rate, answer_rate, abstain_rate: how decisions were spread;
- the customer's first reply, over in-scope queries: right_answer (the right article's
  answer), options_with_right (a clarify whose buttons include it), wrong_answer
  (another article's answer), turned_away (an abstain); and over out-of-scope ones,
  abstain_recall (told honestly that the KB does not cover it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from common.language import detect_language
from kb_index.calibration import LabelledQuery
from kb_index.decision import decide
from kb_index.embedders import Embedder
from kb_index.index import KBIndex


class QueryFileError(Exception):
    """A query file that cannot be read; names the file and line."""


def load_queries(path: Path) -> list[LabelledQuery]:
    queries: list[LabelledQuery] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QueryFileError(f"{path}: cannot read: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QueryFileError(f"{path}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise QueryFileError(f"{path}:{number}: expected an object with a 'text' string")
        expected = raw.get("expected")
        if expected is not None and not isinstance(expected, str):
            raise QueryFileError(f"{path}:{number}: 'expected' must be an article id or null")
        language = raw.get("language") or detect_language(raw["text"]) or "unknown"
        queries.append(LabelledQuery(raw["text"], expected, str(language)))
    if not queries:
        raise QueryFileError(f"{path}: no queries")
    return queries


@dataclass(frozen=True)
class Prediction:
    text: str
    expected: str | None
    language: str
    decision: str
    ranked: list[str]
    scores: list[float]
    options: list[str] = field(default_factory=list)  # what the first reply offered
    confidence: float = 0.0  # P(in scope) * P(right): what `answer_at` cuts

    @property
    def answered_right(self) -> bool:
        return (
            self.decision == "answer"
            and self.expected is not None
            and self.ranked[:1] == [self.expected]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "expected": self.expected,
            "language": self.language,
            "decision": self.decision,
            "ranked": self.ranked,
            "scores": [round(s, 4) for s in self.scores],
            "options": self.options,
            "confidence": round(self.confidence, 4),
        }


def predict(
    index: KBIndex,
    embedder: Embedder,
    queries: list[LabelledQuery],
    vectors: np.ndarray | None = None,
    progress: bool = False,
) -> list[Prediction]:
    if vectors is None:
        vectors = embedder.embed([index.masked(q.text) for q in queries])
    predictions = []
    for query, vector in tqdm(
        list(zip(queries, vectors)), desc="asking", unit="q", disable=not progress, leave=False
    ):
        candidates, facts = index.analyse(query.text, vector, top_articles=10)
        decision = decide(candidates, facts, index.calibration, index.thresholds)
        numbers = decision.numbers
        predictions.append(
            Prediction(
                text=query.text,
                expected=query.expected,
                language=query.language or "unknown",
                decision=decision.kind,
                ranked=[c.article_id for c in candidates],
                scores=[c.score for c in candidates],
                options=[c.article_id for c in decision.candidates]
                if decision.kind == "clarify"
                else [],
                confidence=numbers.get("p_in_scope", 0.0) * numbers.get("p_right", 0.0),
            )
        )
    return predictions


def metrics(predictions: list[Prediction]) -> dict[str, Any]:
    """Overall metrics plus the same per language, under "by_language"."""
    result = _metrics(predictions)
    languages = sorted({p.language for p in predictions})
    result["by_language"] = {
        lang: _metrics([p for p in predictions if p.language == lang]) for lang in languages
    }
    return result


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _metrics(predictions: list[Prediction]) -> dict[str, Any]:
    in_scope = [p for p in predictions if p.expected is not None]
    out_of_scope = [p for p in predictions if p.expected is None]
    answered = [p for p in predictions if p.decision == "answer"]
    abstained = [p for p in predictions if p.decision == "abstain"]
    reciprocal_ranks = [
        1.0 / (p.ranked.index(p.expected) + 1) if p.expected in p.ranked else 0.0 for p in in_scope
    ]
    return {
        "queries": len(predictions),
        "in_scope": len(in_scope),
        "out_of_scope": len(out_of_scope),
        "top1": _ratio(sum(p.ranked[:1] == [p.expected] for p in in_scope), len(in_scope)),
        "recall_at_3": _ratio(sum(p.expected in p.ranked[:3] for p in in_scope), len(in_scope)),
        "mrr": round(float(np.mean(reciprocal_ranks)), 4) if reciprocal_ranks else None,
        "answered_accuracy": _ratio(
            sum(p.expected is not None and p.ranked[:1] == [p.expected] for p in answered),
            len(answered),
        ),
        "abstain_precision": _ratio(sum(p.expected is None for p in abstained), len(abstained)),
        "abstain_recall": _ratio(
            sum(p.decision == "abstain" for p in out_of_scope), len(out_of_scope)
        ),
        "right_answer": _ratio(sum(p.answered_right for p in in_scope), len(in_scope)),
        "options_with_right": _ratio(
            sum(p.decision == "clarify" and p.expected in p.options for p in in_scope),
            len(in_scope),
        ),
        "wrong_answer": _ratio(
            sum(p.decision == "answer" and not p.answered_right for p in in_scope), len(in_scope)
        ),
        "turned_away": _ratio(sum(p.decision == "abstain" for p in in_scope), len(in_scope)),
        "answer_rate": _ratio(len(answered), len(predictions)),
        "clarify_rate": _ratio(sum(p.decision == "clarify" for p in predictions), len(predictions)),
        "abstain_rate": _ratio(len(abstained), len(predictions)),
    }


RANKING_COLUMNS = (
    "queries",
    "top1",
    "recall_at_3",
    "mrr",
    "answered_accuracy",
    "abstain_precision",
)
# The first reply a customer gets: in-scope questions, then out-of-scope ones.
FIRST_REPLY_COLUMNS = (
    "right_answer",
    "options_with_right",
    "wrong_answer",
    "turned_away",
    "abstain_recall",
)


def format_table(result: dict[str, Any]) -> str:
    rows = []
    for title, columns in (("ranking", RANKING_COLUMNS), ("first reply", FIRST_REPLY_COLUMNS)):
        rows.append(f"{title:12}" + "".join(f"{c:>19}" for c in columns))
        for name, values in [("all", result), *result["by_language"].items()]:
            cells = [f"{'-' if values[c] is None else values[c]:>19}" for c in columns]
            rows.append(f"{name:12}" + "".join(cells))
        rows.append("")
    return "\n".join(rows).rstrip()

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
- clarify_rate, answer_rate, abstain_rate: how decisions were spread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.language import detect_language
from kb_index.calibration import LabelledQuery
from kb_index.decision import decide
from kb_index.embedder import Embedder
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "expected": self.expected,
            "language": self.language,
            "decision": self.decision,
            "ranked": self.ranked,
            "scores": [round(s, 4) for s in self.scores],
        }


def predict(
    index: KBIndex,
    embedder: Embedder,
    queries: list[LabelledQuery],
    vectors: np.ndarray | None = None,
) -> list[Prediction]:
    if vectors is None:
        vectors = embedder.embed([q.text for q in queries])
    predictions = []
    for query, vector in zip(queries, vectors):
        candidates = index.rank(vector, top_articles=10)
        decision = decide(candidates, index.facts(query.text), index.calibration, index.thresholds)
        predictions.append(
            Prediction(
                text=query.text,
                expected=query.expected,
                language=query.language or "unknown",
                decision=decision.kind,
                ranked=[c.article_id for c in candidates],
                scores=[c.score for c in candidates],
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
        "answer_rate": _ratio(len(answered), len(predictions)),
        "clarify_rate": _ratio(sum(p.decision == "clarify" for p in predictions), len(predictions)),
        "abstain_rate": _ratio(len(abstained), len(predictions)),
    }


_COLUMNS = (
    "queries",
    "top1",
    "recall_at_3",
    "mrr",
    "answered_accuracy",
    "abstain_precision",
    "abstain_recall",
    "answer_rate",
    "clarify_rate",
)


def format_table(result: dict[str, Any]) -> str:
    header = f"{'':8}" + "".join(f"{c:>18}" for c in _COLUMNS)
    rows = [header]
    for name, values in [("all", result), *result["by_language"].items()]:
        cells = []
        for column in _COLUMNS:
            value = values[column]
            cells.append(f"{'-' if value is None else value:>18}")
        rows.append(f"{name:8}" + "".join(cells))
    return "\n".join(rows)

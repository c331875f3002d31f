"""Fit the decision on an evaluation set instead of guessing thresholds.

Given labelled queries (an article id, or None for "should abstain"):
1. pick the head's weight in the ranking score that ranks the most queries right;
2. fit P(in scope) and P(top article right | in scope) as logistic regressions
   over the ranking features (decision.FEATURE_NAMES);
3. choose the two thresholds on cross-validated probabilities, so they are not
   flattered by the fit: `answer_at` is the lowest that keeps answered accuracy
   at the target; `abstain_below` is the one that best separates in-scope from
   out-of-scope queries (Youden's J), raised if need be until the target share
   of out-of-scope queries is abstained on. The product prefers "let me get you
   a person" to a wrong answer, and the evaluation set is usually easier than
   live traffic, so the default target (0.9) errs on the side of abstaining.
The models are nine weights each: little to over-fit, and they carry over to a
KB they were not tuned on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from kb_index.decision import FEATURE_NAMES, RANKING_FEATURES, Calibration, features

log = logging.getLogger(__name__)

HEAD_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
# Aimed above the product's 95 %: the evaluation set we calibrate on is easier
# than live questions (on the demo KB, held-out accuracy ran ~3 points below it).
DEFAULT_TARGET_ACCURACY = 0.99
DEFAULT_TARGET_ABSTAIN_RECALL = 0.9
# Guards on that target: a handful of out-of-scope examples cannot set it, and
# reaching it must not turn away more than this share of answerable questions.
MIN_OUT_OF_SCOPE_FOR_TARGET = 20
MAX_IN_SCOPE_ABSTAIN = 0.2
_FOLDS = 5
_READS_RANKING_ONLY = np.array([name in RANKING_FEATURES for name in FEATURE_NAMES])


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    expected: str | None
    language: str | None = None


class CalibrationError(Exception):
    """The evaluation set cannot calibrate this KB; the message says why."""


def fit_calibration(
    index: object,  # KBIndex; typed loosely to avoid an import cycle
    vectors: np.ndarray,
    queries: list[LabelledQuery],
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    source: str = "",
    target_abstain_recall: float = DEFAULT_TARGET_ABSTAIN_RECALL,
) -> Calibration:
    known = set(index.articles)  # type: ignore[attr-defined]
    usable = [i for i, q in enumerate(queries) if q.expected is None or q.expected in known]
    if len(usable) < len(queries):
        log.warning(
            "calibration: %d queries name articles that are not in the KB; ignored",
            len(queries) - len(usable),
        )
    if len(usable) < 20:
        raise CalibrationError(f"need at least 20 usable labelled queries, got {len(usable)}")
    queries = [queries[i] for i in usable]
    vectors = vectors[usable]
    in_scope = np.array([q.expected is not None for q in queries])
    if in_scope.sum() < 10:
        raise CalibrationError("need at least 10 queries that name an article")

    head_weight = _best_head_weight(index, vectors, queries, in_scope)
    ranked = [index.rank(v, head_weight=head_weight) for v in vectors]  # type: ignore[attr-defined]
    x = np.array([features(r, index.facts(q.text)) for r, q in zip(ranked, queries)])  # type: ignore[attr-defined]
    right = np.array([bool(r) and r[0].article_id == q.expected for r, q in zip(ranked, queries)])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = (x - mean) / std

    scope_cv = _cross_validated(xs, in_scope)
    # The second model reads the ranking features only (decision.QUESTION_FEATURES).
    xr = np.where(_READS_RANKING_ONLY, xs, 0.0)
    right_cv = _cross_validated(xr[in_scope], right[in_scope])
    right_all = np.zeros(len(queries))
    right_all[in_scope] = right_cv
    # Out-of-scope queries have no right article; use the model fitted on the
    # in-scope ones for them too, as the live decision will.
    if (~in_scope).any():
        right_all[~in_scope] = _fit_logistic(xr[in_scope], right[in_scope]).predict(xr[~in_scope])

    abstain_below = _abstain_threshold(scope_cv, in_scope, target_abstain_recall)
    answer_at = _answer_threshold(
        scope_cv * right_all, scope_cv >= abstain_below, in_scope & right, target_accuracy
    )

    scope_model = _fit_logistic(xs, in_scope)
    right_model = _fit_logistic(xr[in_scope], right[in_scope])
    calibration = Calibration(
        head_weight=head_weight,
        feature_mean=mean.tolist(),
        feature_std=std.tolist(),
        scope_coef=scope_model.coef.tolist(),
        scope_bias=scope_model.bias,
        correct_coef=right_model.coef.tolist(),
        correct_bias=right_model.bias,
        abstain_below=abstain_below,
        answer_at=answer_at,
        fitted_on=source,
        queries=len(queries),
    )
    log.info(
        "calibrated on %d queries: head_weight=%.2f abstain_below=%.3f answer_at=%.3f",
        len(queries),
        head_weight,
        abstain_below,
        answer_at,
    )
    return calibration


def _best_head_weight(
    index: object, vectors: np.ndarray, queries: list[LabelledQuery], in_scope: np.ndarray
) -> float:
    if getattr(index, "head", None) is None:
        return 0.0
    best_weight, best_hits = 0.0, -1
    for weight in HEAD_WEIGHTS:
        hits = 0
        for vector, query in zip(vectors[in_scope], np.array(queries, dtype=object)[in_scope]):
            ranked = index.rank(vector, head_weight=weight, top_articles=1)  # type: ignore[attr-defined]
            hits += bool(ranked) and ranked[0].article_id == query.expected
        if hits > best_hits:
            best_weight, best_hits = weight, hits
    return best_weight


@dataclass(frozen=True)
class _Logistic:
    coef: np.ndarray
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = 1.0 / (1.0 + np.exp(-(x @ self.coef + self.bias)))
        return result


def _fit_logistic(x: np.ndarray, y: np.ndarray) -> _Logistic:
    """A constant model when only one class is present (e.g. no out-of-scope queries)."""
    if y.all() or not y.any() or len(y) < 4:
        rate = float(np.clip(y.mean() if len(y) else 1.0, 0.02, 0.98))
        return _Logistic(np.zeros(x.shape[1]), float(np.log(rate / (1 - rate))))
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return _Logistic(model.coef_[0].astype(float), float(model.intercept_[0]))


def _cross_validated(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.zeros(len(y))
    order = np.random.default_rng(0).permutation(len(y))
    for fold in range(_FOLDS):
        test = order[fold::_FOLDS]
        train = np.setdiff1d(order, test)
        out[test] = _fit_logistic(x[train], y[train]).predict(x[test])
    return out


def _abstain_threshold(p_scope: np.ndarray, in_scope: np.ndarray, target_recall: float) -> float:
    """Maximise (out-of-scope abstained) + (in-scope not abstained) - 1, then
    raise the threshold, if need be, until `target_recall` of the out-of-scope
    queries are abstained on, but never so far that more than
    MAX_IN_SCOPE_ABSTAIN of the answerable ones are turned away, and only when
    there are enough out-of-scope queries for a share to mean something."""
    if in_scope.all():
        return 0.0  # nothing to learn from: never abstain on scope alone
    candidates = np.unique(np.concatenate([p_scope, [0.0, 1.0]]))
    best_t, best_j = 0.0, -1.0
    for t in candidates:
        abstained = p_scope < t
        j = abstained[~in_scope].mean() + (~abstained[in_scope]).mean() - 1.0
        if j > best_j:
            best_t, best_j = float(t), j
    if (~in_scope).sum() < MIN_OUT_OF_SCOPE_FOR_TARGET:
        return best_t
    chosen = best_t
    for t in candidates[candidates >= best_t]:
        if (p_scope[in_scope] < t).mean() > MAX_IN_SCOPE_ABSTAIN:
            break  # the cap wins: stay at the highest threshold within it
        chosen = float(t)
        if (p_scope[~in_scope] < t).mean() >= target_recall:
            break
    return chosen


def _answer_threshold(
    confidence: np.ndarray, eligible: np.ndarray, right: np.ndarray, target: float
) -> float:
    """The lowest confidence whose answers are right at least `target` of the time."""
    order = np.argsort(-confidence)
    best = 1.01  # answer nothing if no threshold reaches the target
    hits = answered = 0
    for i in order:
        if not eligible[i]:
            continue
        answered += 1
        hits += bool(right[i])
        if hits / answered >= target:
            best = float(confidence[i])
    return best

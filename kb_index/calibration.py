"""Fit the decision at build time, on the KB itself and, when there is one, an evaluation set.

**Self-calibration (always).** The KB's own question variants are questions with a
known answer, and kb_index/out_of_scope.yml holds questions with none. Five times over,
the index is rebuilt without a fifth of the variants and of those out-of-scope
examples (`KBIndex.from_parts`: no embedding again), and the left-out ones are asked as
questions. Then, ten times over, the index is rebuilt without a tenth of the *articles*,
and a few variants of each left-out article are asked as out-of-scope questions: they are
about the shop, in its customers' words, and the index has no answer for them, which is
what real out-of-scope questions mostly look like (a delivery time slot, points moved to
another account), and what the shipped examples (other companies, weather) do not. That
gives a few thousand labelled observations for any KB, with no labelled queries at all:
1. P(in scope) and P(top article right | in scope): logistic regressions over
   decision.FEATURE_NAMES, over the ranking at its default weights;
2. the two thresholds, on cross-validated probabilities (never flattered by the fit):
   `answer_at`, the lowest whose answers are right `target_accuracy` of the time
   (the KB's own held-out variants need `target_accuracy - SELF_TARGET_SHORTFALL`, or
   less when they rank poorly, as a KB with few variants per article does: they
   understate how often real questions are answered right; `self_target`);
   `abstain_below`, the one that best separates in- from out-of-scope (Youden's J),
   raised if need be until `target_abstain_recall` of out-of-scope questions abstain.
   Questions of a left-out article count for P(in scope) and `abstain_below`, not for
   `answer_at`: answered, they get a sibling article, which is often close enough.

**An evaluation set, when there is one (≥ 20 usable queries), wins.** Its queries join
the observations (weighted as much as all self-observations together, since real
questions are what the decision is for) and the thresholds are chosen on its own
cross-validated probabilities; it also picks the ranking weights per language (head;
lexical leg, kept only where it measurably raises top-1). Its out-of-scope questions
then stand in for the left-out articles' ones, which are not used (on dev
cross-validation they lowered en out-of-scope recall 98.9 -> 90.8 %).
`Calibration.fitted_on` says which source calibrated the index.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from kb_index.decision import (
    DEFAULT_RANKING_WEIGHTS,
    FEATURE_NAMES,
    RANKING_FEATURES,
    Calibration,
    Candidate,
    QueryFacts,
    features,
    ranking_weights_for,
)

if TYPE_CHECKING:
    from kb_index.index import KBIndex

log = logging.getLogger(__name__)

# Answers must be right this often on held-out folds (issue: first replies right, not
# menus; a wrong answer costs one click on "no", which offers the runners-up). Wrong
# first replies should stay <= 2 % of in-scope questions, and a KB with enough variants
# answers ~90 % of them outright, so the target must be ~0.98 at least; but precision on
# questions the calibration never saw runs a little under the target it was fitted to
# (dev, cross-validated, Korean at 0.98: 2.1 % wrong), so 0.985 leaves that margin.
# Dev (3 shuffles, cross-validated / self-calibrated), 0.98 -> 0.985: wrong ko 2.1 -> 1.6 /
# 1.6 -> 1.1 %, en 0.5 -> 0 / 0 %; right within half a point (ko 88.9 -> 88.4 / 88.9,
# ja 92.2 / 94.3 -> 93.8, en 89.1 / 89.6 -> 89.1). 0.99 cost 1-3 points of right on the
# probes (data/eval/probes.jsonl) for little more. (0.97 -> 0.98, earlier: ko wrong 2.6 -> 2.1 %.)
DEFAULT_TARGET_ACCURACY = 0.985
# Out-of-scope questions told "I don't know" at least this often (issue: >= 95 % of real
# ones). Set above that because the shipped out-of-scope examples, held out, are easier
# than real ones; chosen on dev (0.9/0.95/0.97/0.98/0.99: 0.97 was the highest that kept
# >= 80 % of answerable dev questions answered right when self-calibrated).
DEFAULT_TARGET_ABSTAIN_RECALL = 0.97
# A held-out variant counts as wrong whenever a sibling article ranks first, even where
# the two overlap, and its own article has lost a fifth of its variants: at the same
# confidence, real questions are answered right more often than held-out variants
# (measured 2026-12-04: at the full target the variants set answer_at ~0.9, real dev
# questions ~0.3, and answers on held-out dev folds were right 100 % of the time).
# The variants' precision is held to the target minus this; chosen on dev
# cross-validation and on dev with self-calibration, where answers stayed >= 0.95-0.98
# right (0.06 let wrong answers through).
SELF_TARGET_SHORTFALL = 0.03
# The smaller the KB, the more the held-out variants understate: a variant left out of
# an article with three has two left to be found by, and variants are written to differ
# from each other, while real questions cluster on the common wordings. So their bar is
# also lowered to this share of their top-1 errors, when that is lower. Chosen on dev
# with the KB cut to 3 / 5 / 8 variants per article and language (4 random cuts each,
# self-calibrated, at the then 0.97 target; answered precision of dev questions,
# share 0 / 0.25 / 0.35):
# 99.1 / 98.1 / 97.9 %, 98.2 / 96.7 / 95.2 %, 97.1 / 97.1 / 95.7 %: 0.25 keeps answers
# near the 97 % target and wrong answers <= 2 % at every size, while answering 15 -> 28 %
# and 42 -> 55 % of them right with 3 and 5 variants. (The project's full KB: its
# variants rank 0.914 top-1, so the shortfall wins and nothing changes.)
VARIANT_ERROR_SHARE = 0.25
# Measured down to this top-1 (3 variants per article): a KB whose variants rank worse
# is held as if they ranked this well, not extrapolated.
LOWEST_MEASURED_VARIANTS_TOP1 = 0.5
# Guards on that target: a handful of out-of-scope examples cannot set it, and
# reaching it must not turn away more than this share of answerable questions.
MIN_OUT_OF_SCOPE_FOR_TARGET = 20
MAX_IN_SCOPE_ABSTAIN = 0.2
MIN_LABELLED_QUERIES = 20
HEAD_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
LEXICAL_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
# The lexical leg is switched on for a language only if it adds this much top-1.
LEXICAL_MIN_GAIN = 0.005
SELF_FOLDS = 5
# Articles left out ten at a time (a tenth each), and how many variants per language of
# each are asked: chosen on dev self-calibration (5/10/20 groups, 3/4/6 variants: out-of-
# scope recall ko 83 -> 97 %, en 90 -> 93-97 %, right within a question or two; 6
# variants lowered en recall to 83 %).
ARTICLE_GROUPS = 10
MISSING_ARTICLE_QUESTIONS = 4
# A large KB asks a sample of its variants: enough for the models, bounded build time.
MAX_SELF_QUESTIONS = 3000
_FOLDS = 5
# Candidates kept per question for choosing weights (recombined without re-ranking).
_POOL = 30
_READS_RANKING_ONLY = np.array([name in RANKING_FEATURES for name in FEATURE_NAMES])


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    expected: str | None
    language: str | None = None


class CalibrationError(Exception):
    """The evaluation set cannot calibrate this KB; the message says why."""


@dataclass
class Observed:
    """One question asked of an index, with what is needed to re-rank it."""

    pool: list[Candidate]  # candidates with every leg, best first by (1, 1) weights
    facts: QueryFacts
    expected: str | None
    language: str
    # The article left out of the index this was asked of: out of scope there, but a
    # question about this KB (None for the other observations).
    missing_article: str | None = None


@dataclass
class Observations:
    items: list[Observed] = field(default_factory=list)

    def ranked(self, weights: dict[str, tuple[float, float]]) -> list[list[Candidate]]:
        return [rerank(o.pool, ranking_weights_for(weights, o.language)) for o in self.items]


def rerank(pool: list[Candidate], weights: tuple[float, float], top: int = 5) -> list[Candidate]:
    head, lexical = weights
    rescored = [
        Candidate(
            c.article_id,
            c.dense + head * c.head + lexical * c.lexical,
            c.matched,
            c.dense,
            c.head,
            c.lexical,
        )
        for c in pool
    ]
    rescored.sort(key=lambda c: c.score, reverse=True)
    return rescored[:top]


def observe(
    index: object, text: str, vector: np.ndarray, expected: str | None, language: str
) -> Observed:
    pool, facts = index.analyse(text, vector, top_articles=_POOL, weights=(1.0, 1.0))  # type: ignore[attr-defined]
    return Observed(pool, facts, expected, language)


def self_observations(
    index: object,
    folds: int = SELF_FOLDS,
    seed: int = 0,
    progress: bool = False,
    missing_articles: bool = True,
) -> Observations:
    """Each variant and each out-of-scope example asked of an index built without it;
    with `missing_articles`, also a few variants of each article asked of an index built
    without that article (fit_calibration uses them only when there is no evaluation set)."""
    from kb_index.index import KBIndex  # here: index.py imports this module's users

    assert isinstance(index, KBIndex) and index.parts is not None, "needs a freshly built index"
    parts = index.parts
    rng = np.random.default_rng(seed)
    variant_fold = rng.integers(0, folds, len(parts.variants))
    negative_fold = rng.integers(0, folds, len(parts.negatives))
    asked = np.zeros(len(parts.variants), bool)
    asked[rng.permutation(len(parts.variants))[:MAX_SELF_QUESTIONS]] = True
    out = Observations()
    started = time.monotonic()
    for fold in tqdm(range(folds), desc="self-calibrating", unit="fold", disable=not progress):
        held = variant_fold == fold
        if held.all() or not held.any():
            continue
        fold_index = KBIndex.from_parts(
            parts,
            index.articles,
            index.embedder_identity,
            keep=~held,
            keep_negatives=negative_fold != fold,
        )
        for i in np.flatnonzero(held & asked):
            variant = parts.variants[i]
            if variant.article_id not in {v.article_id for v in fold_index.variants}:
                continue  # its article has no variant left to be found by
            out.items.append(
                observe(
                    fold_index, variant.text, parts.vectors[i], variant.article_id, variant.language
                )
            )
        for j in np.flatnonzero(negative_fold == fold):
            language, text = parts.negatives[j]
            out.items.append(observe(fold_index, text, parts.negative_vectors[j], None, language))
    if missing_articles:
        out.items += _missing_article_observations(index, np.random.default_rng(seed + 1))
    log.info(
        "self-calibration: %d observations in %.1f s", len(out.items), time.monotonic() - started
    )
    return out


def _missing_article_observations(index: KBIndex, rng: np.random.Generator) -> list[Observed]:
    """A few variants of each article, asked of an index built without that article."""
    from kb_index.index import KBIndex  # at run time: see self_observations

    parts = index.parts
    assert parts is not None
    article_ids = sorted({v.article_id for v in parts.variants})
    if len(article_ids) < 3:
        return []  # without an article, too little is left to stand for the KB
    groups = min(ARTICLE_GROUPS, len(article_ids))
    group_of = {a: n % groups for n, a in enumerate(rng.permutation(article_ids))}
    rows_of: dict[tuple[str, str], list[int]] = {}
    for i, variant in enumerate(parts.variants):
        rows_of.setdefault((variant.article_id, variant.language), []).append(i)
    asked = [
        int(i)
        for rows in rows_of.values()
        for i in rng.permutation(rows)[:MISSING_ARTICLE_QUESTIONS]
    ]
    if len(asked) > MAX_SELF_QUESTIONS // 3:
        asked = [int(i) for i in rng.choice(asked, MAX_SELF_QUESTIONS // 3, replace=False)]
    out: list[Observed] = []
    for group in range(groups):
        mine = [i for i in asked if group_of[parts.variants[i].article_id] == group]
        if not mine:
            continue
        keep = np.array([group_of[v.article_id] != group for v in parts.variants])
        without = KBIndex.from_parts(parts, index.articles, index.embedder_identity, keep=keep)
        for i in mine:
            variant = parts.variants[i]
            observed = observe(without, variant.text, parts.vectors[i], None, variant.language)
            observed.missing_article = variant.article_id
            out.append(observed)
    return out


def labelled_observations(
    index: object, vectors: np.ndarray, queries: list[LabelledQuery]
) -> Observations:
    known = set(index.articles)  # type: ignore[attr-defined]
    usable = [(q, v) for q, v in zip(queries, vectors) if q.expected is None or q.expected in known]
    if len(usable) < len(queries):
        log.warning(
            "calibration: %d queries name articles that are not in the KB; ignored",
            len(queries) - len(usable),
        )
    return Observations(
        [observe(index, q.text, v, q.expected, q.language or "unknown") for q, v in usable]
    )


def choose_weights(observed: Observations) -> dict[str, tuple[float, float]]:
    """Per language: the head weight with the best top-1, then the lexical weight with
    the best top-1, kept only if it adds at least LEXICAL_MIN_GAIN."""
    chosen: dict[str, tuple[float, float]] = {}
    in_scope = [o for o in observed.items if o.expected is not None]
    for language in [*sorted({o.language for o in in_scope}), "*"]:
        mine = [o for o in in_scope if language in ("*", o.language)]
        if not mine:
            continue

        def top1(weights: tuple[float, float], group: list[Observed] = mine) -> float:
            hits = 0
            for o in group:
                best = rerank(o.pool, weights, 1)
                hits += bool(best) and best[0].article_id == o.expected
            return hits / len(group)

        head = max(HEAD_WEIGHTS, key=lambda w: (top1((w, 0.0)), -abs(w - 0.3)))
        plain = top1((head, 0.0))
        lexical, best = 0.0, plain
        for weight in LEXICAL_WEIGHTS[1:]:
            score = top1((head, weight))
            if score > best:
                lexical, best = weight, score
        if best - plain < LEXICAL_MIN_GAIN:
            lexical = 0.0
        chosen[language] = (head, lexical)
        log.info(
            "ranking weights %s: head %.2f lexical %.2f (top-1 %.3f -> %.3f on %d questions)",
            language,
            head,
            lexical,
            plain,
            top1((head, lexical)),
            len(mine),
        )
    return chosen


def _matrix(
    observed: Observations, weights: dict[str, tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ranked = observed.ranked(weights)
    x = np.array([features(r, o.facts) for r, o in zip(ranked, observed.items)]).reshape(
        -1, len(FEATURE_NAMES)
    )
    in_scope = np.array([o.expected is not None for o in observed.items], dtype=bool)
    right = np.array(
        [bool(r) and r[0].article_id == o.expected for r, o in zip(ranked, observed.items)],
        dtype=bool,
    )
    return x, in_scope, right


def fit_calibration(
    self_observed: Observations,
    labelled: Observations | None = None,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    target_abstain_recall: float = DEFAULT_TARGET_ABSTAIN_RECALL,
    source: str = "",
) -> Calibration:
    """The decision's models and thresholds (see the module docstring)."""
    if labelled is not None and len(labelled.items) < MIN_LABELLED_QUERIES:
        log.warning(
            "calibration: %d labelled queries are too few (need %d); self-calibrating only",
            len(labelled.items),
            MIN_LABELLED_QUERIES,
        )
        labelled = None
    if labelled is not None and sum(o.expected is not None for o in labelled.items) < 10:
        raise CalibrationError("need at least 10 labelled queries that name an article")
    if sum(o.expected is not None for o in self_observed.items) < 10:
        raise CalibrationError("the KB has too few question variants to calibrate itself")
    if labelled is not None:
        # Real out-of-scope questions say it better than the left-out articles' variants.
        self_observed = Observations([o for o in self_observed.items if o.missing_article is None])
    # Only real questions choose the ranking weights; without them, the defaults
    # (decision.DEFAULT_RANKING_WEIGHTS says why).
    weights = choose_weights(labelled) if labelled is not None else {"*": DEFAULT_RANKING_WEIGHTS}
    xs_, scope_s, right_s = _matrix(self_observed, weights)
    if labelled is not None:
        xl, scope_l, right_l = _matrix(labelled, weights)
        x = np.vstack([xs_, xl])
        in_scope, right = np.r_[scope_s, scope_l], np.r_[right_s, right_l]
        # Real questions weigh as much as all the self-observations together.
        sample_weight = np.r_[np.ones(len(xs_)), np.full(len(xl), len(xs_) / max(1, len(xl)))]
        held_out = np.r_[np.zeros(len(xs_), bool), np.ones(len(xl), bool)]  # thresholds on these
    else:
        x, in_scope, right = xs_, scope_s, right_s
        sample_weight = np.ones(len(x))
        held_out = np.ones(len(x), bool)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = (x - mean) / std
    xr = np.where(_READS_RANKING_ONLY, xs, 0.0)  # P(right) reads the ranking only

    scope_cv = _cross_validated(xs, in_scope, sample_weight)
    right_cv = _cross_validated(xr, right, sample_weight, rows=in_scope)
    scope_model = _fit_logistic(xs, in_scope, sample_weight)
    right_model = _fit_logistic(xr[in_scope], right[in_scope], sample_weight[in_scope])
    # Out-of-scope questions have no right article: the in-scope model, as live.
    right_cv[~in_scope] = right_model.predict(xr[~in_scope])
    confidence = scope_cv * right_cv

    h = held_out
    abstain_below = _abstain_threshold(scope_cv[h], in_scope[h], target_abstain_recall)
    # A left-out article's question, answered, gets a sibling article: not what answer_at
    # is about (see the module docstring).
    for_answers = h & ~np.array(
        [o.missing_article is not None for o in self_observed.items]
        + ([False] * len(labelled.items) if labelled is not None else []),
        dtype=bool,
    )
    # The KB's own held-out variants understate how often real questions are answered
    # right (see SELF_TARGET_SHORTFALL): they are held to a lower bar.
    variants_top1 = float(right_s[scope_s].mean())
    variants_target = self_target(target_accuracy, variants_top1)
    log.info("held-out variants: top-1 %.3f, answers held to %.3f", variants_top1, variants_target)
    answer_at = _answer_threshold(
        confidence[for_answers],
        scope_cv[for_answers] >= abstain_below,
        (in_scope & right)[for_answers],
        target_accuracy if labelled is not None else variants_target,
    )
    if labelled is not None:
        # Answers must reach the target on the KB's own held-out variants too: an
        # evaluation set is small, and often easier than live questions.
        own = ~held_out
        answer_at = max(
            answer_at,
            _answer_threshold(
                confidence[own],
                scope_cv[own] >= abstain_below,
                (in_scope & right)[own],
                variants_target,
            ),
        )
    calibration = Calibration(
        feature_mean=mean.tolist(),
        feature_std=std.tolist(),
        scope_coef=scope_model.coef.tolist(),
        scope_bias=scope_model.bias,
        correct_coef=right_model.coef.tolist(),
        correct_bias=right_model.bias,
        abstain_below=abstain_below,
        answer_at=answer_at,
        fitted_on=source,
        queries=int(h.sum()),
        ranking_weights={lang: list(w) for lang, w in weights.items()},
    )
    log.info("calibrated (%s): abstain_below=%.3f answer_at=%.3f", source, abstain_below, answer_at)
    return calibration


def self_target(target_accuracy: float, variants_top1: float) -> float:
    """How often the KB's held-out variants must be answered right for real questions to
    be right `target_accuracy` of the time, given how often they rank their own article
    first (see SELF_TARGET_SHORTFALL and VARIANT_ERROR_SHARE)."""
    allowed_error = max(
        1.0 - target_accuracy + SELF_TARGET_SHORTFALL,
        VARIANT_ERROR_SHARE * (1.0 - max(variants_top1, LOWEST_MEASURED_VARIANTS_TOP1)),
    )
    return 1.0 - allowed_error


def describe_sources(
    self_observed: Observations, labelled: Observations | None, labelled_name: str
) -> str:
    variants = sum(o.expected is not None for o in self_observed.items)
    missing = sum(o.missing_article is not None for o in self_observed.items)
    negatives = len(self_observed.items) - variants - missing
    left_out = f", {missing} questions of left-out articles" if missing else ""
    own = f"self ({variants} KB variants held out, {negatives} out-of-scope examples{left_out})"
    if labelled is None or len(labelled.items) < MIN_LABELLED_QUERIES:
        return own
    return f"{labelled_name} ({len(labelled.items)} labelled queries) + {own}"


def embed_queries(index: object, embedder: object, queries: list[LabelledQuery]) -> np.ndarray:
    """The queries' embeddings, each as `index` ranks it (KBIndex.masked)."""
    return embedder.embed([index.masked(q.text) for q in queries])  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class _Logistic:
    coef: np.ndarray
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = 1.0 / (1.0 + np.exp(-(x @ self.coef + self.bias)))
        return result


def _fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> _Logistic:
    """A constant model when only one class is present (e.g. no out-of-scope queries)."""
    if y.all() or not y.any() or len(y) < 4:
        rate = float(np.clip(y.mean() if len(y) else 1.0, 0.02, 0.98))
        return _Logistic(np.zeros(x.shape[1]), float(np.log(rate / (1 - rate))))
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y, sample_weight=weight)
    return _Logistic(model.coef_[0].astype(float), float(model.intercept_[0]))


def _cross_validated(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Out-of-fold predictions for every row (or for `rows`, fitting on those only)."""
    out = np.zeros(len(y))
    usable = np.flatnonzero(np.ones(len(y), bool) if rows is None else rows)
    order = np.random.default_rng(0).permutation(usable)
    for fold in range(_FOLDS):
        test = order[fold::_FOLDS]
        train = np.setdiff1d(order, test)
        out[test] = _fit_logistic(x[train], y[train], weight[train]).predict(x[test])
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

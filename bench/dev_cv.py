"""First replies on the dev split, cross-validated: where engine changes are measured.

    .venv/app/bin/python bench/dev_cv.py                   # 5 folds, 3 shuffles
    .venv/app/bin/python bench/dev_cv.py --folds 10 --repeats 1 --show-wrong
    .venv/app/bin/python bench/dev_cv.py --self-shuffles 3  # section 2 over 3 KB shuffles
    .venv/app/bin/python bench/dev_cv.py --probes           # + section 3: data/eval/probes.jsonl
    .venv/app/bin/python bench/dev_cv.py --variants 3       # a small KB: 3 variants per
                                                            # article and language

data/eval/test.jsonl is the held-out split: it is for one final report, never for
choosing a setting. Settings are chosen here instead, two ways:

1. cross-validated: dev is split into K folds (stratified by language and by in/out of
   scope); the index is calibrated on K-1 folds + the KB and asked the held-out fold;
   every dev question is asked once per shuffle, always by an index that never saw it;
2. self-calibrated: the index calibrates itself on the KB alone (no labelled queries,
   what a new KB gets) and is asked all of dev. Which variants are held out together is
   a shuffle (the product's is seed 0); `--self-shuffles N` pools N of them, since one
   shuffle's rates can be a question or three off its neighbours'.

`--variants N` keeps N question variants (a random N, the same each run) per article and
language: a new KB's designers write a handful, not this KB's ~24, and self-calibration
must hold up there too. Section 2 is then the number that matters.

`--probes FILE` also asks FILE's questions of an index calibrated on all of dev + the KB
(the product's calibration) and of one calibrated on the KB alone (section 3).
data/eval/probes.jsonl is such a file: 204 in-scope and 210 out-of-scope questions by
other writers than dev's, many of them near the shop's domain and harder than dev;
measurement only, never calibration (choosing on it would use it up like dev).

The KB is embedded and self-observed once per run (the slow part); each fold only
refits the calibration. Rates are over in-scope questions, except "oos told" (over
out-of-scope ones), as in bench/first_reply.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index.articles import Article, load_kb, load_not_covered, load_shop_names
from kb_index.calibration import (
    LabelledQuery,
    Observations,
    embed_queries,
    fit_calibration,
    labelled_observations,
    self_observations,
)
from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import make_embedder
from kb_index.evaluate import Prediction, load_queries, metrics, predict
from kb_index.index import KBIndex
from stack.settings import PROJECT_ROOT, Settings

DEV = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"
PROBES = PROJECT_ROOT / "data" / "eval" / "probes.jsonl"
LANGUAGES = ("ko", "ja", "en")
COLUMNS = (
    ("right", "right_answer"),
    ("options", "options_with_right"),
    ("wrong", "wrong_answer"),
    ("away", "turned_away"),
    ("oos told", "abstain_recall"),
    ("top1", "top1"),
)


def with_variants(kb: list[Article], per_language: int, seed: int = 0) -> list[Article]:
    """The KB with at most `per_language` question variants per article and language."""
    rng = np.random.default_rng(seed)
    return [
        dataclasses.replace(
            article,
            questions={
                language: tuple(
                    texts[i] for i in sorted(rng.permutation(len(texts))[:per_language])
                )
                for language, texts in article.questions.items()
            },
        )
        for article in kb
    ]


def stratified_folds(queries: list[LabelledQuery], folds: int, seed: int) -> np.ndarray:
    """A fold number per query; each language x scope group spread evenly over folds."""
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(queries), dtype=int)
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, q in enumerate(queries):
        groups.setdefault((q.language or "unknown", q.expected is None), []).append(i)
    offset = 0
    for key in sorted(groups):
        members = rng.permutation(groups[key])
        for position, i in enumerate(members):
            fold_of[i] = (position + offset) % folds
        offset += len(members)  # so small groups do not all start at fold 0
    return fold_of


def cross_validated(
    index: KBIndex,
    embedder: CachingEmbedder,
    queries: list[LabelledQuery],
    vectors: np.ndarray,
    labelled: Observations,
    self_observed: Observations,
    folds: int,
    repeats: int,
) -> list[Prediction]:
    predictions: list[Prediction] = []
    for repeat in range(repeats):
        fold_of = stratified_folds(queries, folds, seed=repeat)
        for fold in range(folds):
            train = [o for o, f in zip(labelled.items, fold_of) if f != fold]
            held = np.flatnonzero(fold_of == fold)
            index.calibration = fit_calibration(
                self_observed, Observations(train), source=f"dev folds != {fold}"
            )
            predictions += predict(
                index, embedder, [queries[i] for i in held], vectors=vectors[held]
            )
    return predictions


def self_calibrated(
    index: KBIndex,
    embedder: CachingEmbedder,
    queries: list[LabelledQuery],
    vectors: np.ndarray,
    self_observed: Observations,
) -> list[Prediction]:
    index.calibration = fit_calibration(self_observed, None, source="self")
    return predict(index, embedder, queries, vectors=vectors)


def print_rows(title: str, predictions: list[Prediction]) -> dict[str, Any]:
    result = metrics(predictions)
    rows = result["by_language"]
    print(f"\n{title}")
    print(f"{'':4}" + "".join(f"{name:>10}" for name, _ in COLUMNS))
    for language in LANGUAGES:
        if language in rows:
            cells = "".join(f"{rows[language][key] or 0.0:>10.1%}" for _, key in COLUMNS)
            print(f"{language:4}{cells}")
    return dict(rows)


def print_wrong(title: str, predictions: list[Prediction]) -> None:
    print(f"\n{title}: wrong first answers and out-of-scope questions answered")
    for p in predictions:
        if p.decision == "answer" and not p.answered_right:
            print(
                f"  [{p.language}] {p.text!r}: answered {p.ranked[0]}, expected {p.expected} "
                f"(confidence {p.confidence:.3f}; ranked {p.ranked[:3]})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--repeats", type=int, default=3, help="reshuffles of the folds (steadier rates)"
    )
    parser.add_argument(
        "--self-shuffles",
        type=int,
        default=1,
        help="self-calibrations over other shuffles of the KB's variants (pooled, section 2)",
    )
    parser.add_argument(
        "--variants", type=int, help="keep this many question variants per article and language"
    )
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument(
        "--probes",
        type=Path,
        nargs="?",
        const=PROBES,
        help=f"also ask these questions (section 3; default {PROBES.relative_to(PROJECT_ROOT)})",
    )
    parser.add_argument("--cache-dir", type=Path, help="embedding cache (default: the product's)")
    parser.add_argument("--show-wrong", action="store_true", help="list the wrong answers")
    parser.add_argument("--json", type=Path, help="also write the rates here")
    args = parser.parse_args()
    settings = Settings.from_env()
    if any(path and "test" in path.name for path in (args.dev, args.probes)):
        parser.error("the test split is held out: develop on dev")
    started = time.monotonic()
    embedder = CachingEmbedder(
        make_embedder(settings.embedder),
        args.cache_dir or settings.kb_index_dir.parent / "embed-cache",
    )
    queries = load_queries(args.dev)
    kb = load_kb(settings.kb_dir)
    if args.variants:
        kb = with_variants(kb, args.variants)
    index = KBIndex.build(
        kb,
        embedder,
        shop_names=load_shop_names(settings.kb_dir),
        not_covered=load_not_covered(settings.kb_dir),
    )
    vectors = embed_queries(index, embedder, queries)
    embedder.save()
    self_observed = self_observations(index)
    labelled = labelled_observations(index, vectors, queries)
    if len(labelled.items) < len(queries):
        parser.error(f"every query in {args.dev} must name an article of the KB, or none")
    cv = cross_validated(
        index, embedder, queries, vectors, labelled, self_observed, args.folds, args.repeats
    )
    alone: list[Prediction] = []
    for seed in range(args.self_shuffles):
        observed = self_observed if seed == 0 else self_observations(index, seed=seed)
        alone += self_calibrated(index, embedder, queries, vectors, observed)
    rates = {
        "cross_validated": print_rows(
            f"1. calibrated on {args.folds - 1} of {args.folds} dev folds + the KB, "
            f"asked the held-out fold ({args.repeats} shuffles)",
            cv,
        ),
        "self_calibrated": print_rows(
            f"2. calibrated on the KB alone, asked all of dev ({args.self_shuffles} shuffles)",
            alone,
        ),
    }
    probed: dict[str, list[Prediction]] = {}
    if args.probes:
        probes = load_queries(args.probes)
        probe_vectors = embed_queries(index, embedder, probes)
        for name, calibrated_on in (("all of dev + the KB", labelled), ("the KB alone", None)):
            index.calibration = fit_calibration(self_observed, calibrated_on, source=name)
            probed[name] = predict(index, embedder, probes, vectors=probe_vectors)
            rates[f"probes, {name}"] = print_rows(
                f"3. calibrated on {name}, asked {args.probes.name}", probed[name]
            )
    if args.show_wrong:
        print_wrong("cross-validated", cv)
        print_wrong("self-calibrated", alone)
        for name, predictions in probed.items():
            print_wrong(f"probes, calibrated on {name}", predictions)
    print(f"\n({len(queries)} dev questions; {time.monotonic() - started:.0f}s)")
    if args.json:
        args.json.write_text(json.dumps(rates, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""English questions with a typo: first replies with and without spelling correction.

    .venv/app/bin/python bench/typos.py [--seeds 3]

Each English dev question gets one typo in one word of 4+ letters (two adjacent letters
swapped, one dropped, doubled or changed), --copies times per seed. The index calibrates
itself on the KB alone (no labelled queries), then answers the typo'd questions and the
same questions spelt right, once with kb_index/spelling.py's correction and once with
it switched off. Rates as in bench/dev_cv.py: right, wrong and turned away over
in-scope questions, "oos told" over out-of-scope ones.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index.articles import load_kb, load_shop_names
from kb_index.calibration import LabelledQuery, fit_calibration, self_observations
from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import make_embedder
from kb_index.evaluate import Prediction, load_queries, predict
from kb_index.index import KBIndex
from stack.settings import PROJECT_ROOT, Settings

DEV = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"
_REPLACEMENTS = "aeiourstnl"


def with_typo(text: str, rng: random.Random) -> str | None:
    """`text` with one typo in one of its words of 4+ letters; None if it has none."""
    words = text.split()
    eligible = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not eligible:
        return None
    i = rng.choice(eligible)
    word = words[i]
    k = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "change"))
    if kind == "swap":
        word = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    elif kind == "drop":
        word = word[:k] + word[k + 1 :]
    elif kind == "double":
        word = word[:k] + word[k] + word[k:]
    else:
        word = word[:k] + rng.choice(_REPLACEMENTS) + word[k + 1 :]
    words[i] = word
    return " ".join(words)


def rates(predictions: list[Prediction]) -> str:
    inside = [p for p in predictions if p.expected is not None]
    outside = [p for p in predictions if p.expected is None]
    right = sum(p.answered_right for p in inside)
    wrong = sum(p.decision == "answer" and not p.answered_right for p in inside)
    away = sum(p.decision == "abstain" for p in inside)
    told = sum(p.decision == "abstain" for p in outside)
    return (
        f"{right / len(inside):>8.1%}{wrong / len(inside):>8.1%}{away / len(inside):>8.1%}"
        f"{told / max(len(outside), 1):>10.1%}   ({len(inside)} in scope, {len(outside)} out)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2, help="typo'd copies per question")
    parser.add_argument("--dev", type=Path, default=DEV)
    args = parser.parse_args()
    if "test" in args.dev.name:
        parser.error("the test split is held out: develop on dev")
    started = time.monotonic()
    settings = Settings.from_env()
    embedder = CachingEmbedder(
        make_embedder(settings.embedder), settings.kb_index_dir.parent / "embed-cache"
    )
    clean = [q for q in load_queries(args.dev) if q.language == "en"]
    index = KBIndex.build(
        load_kb(settings.kb_dir), embedder, shop_names=load_shop_names(settings.kb_dir)
    )
    index.calibration = fit_calibration(self_observations(index), None, source="self")
    speller = index.speller
    print(f"{'':40}{'right':>8}{'wrong':>8}{'away':>8}{'oos told':>10}")
    for seed in range(args.seeds):
        rng = random.Random(seed)
        typoed = [
            LabelledQuery(text, q.expected, q.language)
            for q in clean
            for _ in range(args.copies)
            if (text := with_typo(q.text, rng)) is not None
        ]
        for label, corrector in (("without correction", None), ("with correction", speller)):
            index.speller = corrector
            name = f"seed {seed}, typo'd, {label}"
            print(f"{name:40}{rates(predict(index, embedder, typoed))}")
    for label, corrector in (("without correction", None), ("with correction", speller)):
        index.speller = corrector
        name = f"spelt right, {label}"
        print(f"{name:40}{rates(predict(index, embedder, clean))}")
    embedder.save()
    print(f"\n({time.monotonic() - started:.0f}s; Korean and Japanese are not corrected)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

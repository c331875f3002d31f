"""Questions as customers mistype them: first replies with and without kb_index/spelling.py.

    .venv/app/bin/python bench/typos.py [--seeds 3]

English: each English dev question gets one typo in one word of 4+ letters (two
adjacent letters swapped, one dropped, doubled or changed; never the first letter, which
the speller leaves as typed), --copies times per seed.
Japanese: each Japanese dev question with one of its kanji or katakana words typed in
hiragana (the input method left it unconverted), and all of it typed in hiragana.
Korean: each Korean dev question with one syllable mistyped, --copies times per seed and
kind: a key slipped to its neighbour on the two-set keyboard (반품 -> 반픔), a vowel spelt
by sound (ㅐ/ㅔ, ㅚ/ㅙ) or a final consonant dropped (환불 -> 화불).

The index calibrates itself on the KB alone (no labelled queries), then answers them and
the same questions as written, once with the correction and once with it switched off.
Rates as in bench/dev_cv.py: right, wrong and turned away over in-scope questions,
"oos told" over out-of-scope ones.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index.articles import load_kb, load_not_covered, load_shop_names
from kb_index.calibration import LabelledQuery, fit_calibration, self_observations
from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import make_embedder
from kb_index.evaluate import Prediction, load_queries, metrics, predict
from kb_index.index import KBIndex
from kb_index.lexical import japanese_readings
from kb_index.spelling import INITIALS, VOWELS, jamo, syllable
from stack.settings import PROJECT_ROOT, Settings

DEV = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"
_REPLACEMENTS = "aeiourstnl"
_KANJI_OR_KATAKANA = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf゠-ヿ]")
_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
# The two-set keyboard's rows, for slips.
_KEY_ROWS = ("ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "ㅋㅌㅊㅍㅠㅜㅡ")
_NEIGHBOURS = {
    key: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    for row in _KEY_ROWS
    for i, key in enumerate(row)
}
_BY_SOUND = {
    "ㅐ": "ㅔ",
    "ㅔ": "ㅐ",
    "ㅚ": "ㅙ",
    "ㅙ": "ㅚ",
    "ㅞ": "ㅙ",
    "ㅒ": "ㅖ",
    "ㅖ": "ㅒ",
    "ㅢ": "ㅣ",
}
KOREAN_TYPOS = ("key", "sound", "final")


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


def in_kana(text: str, rng: random.Random | None) -> str | None:
    """`text` with one of its kanji or katakana words (all of them, without `rng`) in
    hiragana, by its reading; None if it has none."""
    words = [(s, r) for s, r in japanese_readings(text) if _KANJI_OR_KATAKANA.search(s)]
    if not words:
        return None
    chosen = [rng.choice(words)] if rng else words
    for surface, reading in chosen:
        text = text.replace(surface, reading.translate(_TO_HIRAGANA), 1)
    return text


def korean_typo(text: str, rng: random.Random, kind: str) -> str | None:
    """`text` with one Hangul syllable mistyped the `kind` way; None if none can be."""
    syllables = [i for i, ch in enumerate(text) if "가" <= ch <= "힣"]
    for _ in range(50):
        if not syllables:
            return None
        i = rng.choice(syllables)
        initial, vowel, final = jamo(text[i])
        if kind == "sound":
            if VOWELS[vowel] not in _BY_SOUND:
                continue
            vowel = VOWELS.index(_BY_SOUND[VOWELS[vowel]])
        elif kind == "final":
            if final == 0:
                continue
            final = 0
        elif rng.random() < 0.5:
            options = [k for k in _NEIGHBOURS.get(INITIALS[initial], "") if k in INITIALS]
            if not options:
                continue
            initial = INITIALS.index(rng.choice(options))
        else:
            options = [k for k in _NEIGHBOURS.get(VOWELS[vowel], "") if k in VOWELS]
            if not options:
                continue
            vowel = VOWELS.index(rng.choice(options))
        return text[:i] + syllable(initial, vowel, final) + text[i + 1 :]
    return None


def mistyped(
    queries: list[LabelledQuery], change: Callable[[str], str | None]
) -> list[LabelledQuery]:
    """Each query with its text changed by `change`; those it cannot change left out."""
    return [
        LabelledQuery(text, q.expected, q.language)
        for q in queries
        if (text := change(q.text)) is not None
    ]


def rates(predictions: list[Prediction]) -> str:
    """Right, wrong, turned away (over in-scope) and oos told, as kb_index.evaluate counts."""
    m = metrics(predictions)
    cells = ("right_answer", "wrong_answer", "turned_away")
    return (
        "".join(f"{m[key] or 0.0:>8.1%}" for key in cells)
        + f"{m['abstain_recall'] or 0.0:>10.1%}"
        + f"   ({m['in_scope']} in scope, {m['out_of_scope']} out)"
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
    dev = load_queries(args.dev)
    index = KBIndex.build(
        load_kb(settings.kb_dir),
        embedder,
        shop_names=load_shop_names(settings.kb_dir),
        not_covered=load_not_covered(settings.kb_dir),
    )
    index.calibration = fit_calibration(self_observations(index), None, source="self")
    readers = index.speller, index.kana_reader, index.hangul_reader

    def compare(title: str, queries: list[LabelledQuery]) -> None:
        for label, on in (("without correction", False), ("with correction", True)):
            index.speller, index.kana_reader, index.hangul_reader = (
                readers if on else (None, None, None)
            )
            name = f"{title}, {label}"
            print(f"{name:50}{rates(predict(index, embedder, queries))}")

    print(f"{'':50}{'right':>8}{'wrong':>8}{'away':>8}{'oos told':>10}")
    english = [q for q in dev if q.language == "en"]
    for seed in range(args.seeds):
        rng = random.Random(seed)
        typoed = mistyped(english * args.copies, partial(with_typo, rng=rng))
        compare(f"en, seed {seed}, one typo", typoed)
    compare("en, as written", english)
    japanese = [q for q in dev if q.language == "ja"]
    for seed in range(args.seeds):
        rng = random.Random(seed)
        one_word = mistyped(japanese, partial(in_kana, rng=rng))
        compare(f"ja, seed {seed}, one word in kana", one_word)
    all_kana = mistyped(japanese, partial(in_kana, rng=None))
    compare("ja, all in kana", all_kana)
    compare("ja, as written", japanese)
    korean = [q for q in dev if q.language == "ko"]
    for kind in KOREAN_TYPOS:
        for seed in range(args.seeds):
            rng = random.Random(seed)
            typoed = mistyped(korean * args.copies, partial(korean_typo, rng=rng, kind=kind))
            compare(f"ko, seed {seed}, one typo ({kind})", typoed)
    compare("ko, as written", korean)
    embedder.save()
    print(f"\n({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Can the generic eval CLI take a big English-only KB? Times it end to end.

    .venv/app/bin/python bench/eval_scale.py     # 150 articles x 100 variants, 3 000 dev queries

Writes a synthetic KB (English only, so validation would warn about missing
translations, as for any public intent data set) and JSONL query files to a
temporary folder, then runs exactly what a user would:

    python -m kb_index eval --kb KB --queries test.jsonl --calibrate-on dev.jsonl --json

and prints the wall time next to the metrics. The embedding cache is kept in
the temporary folder, so the run pays for every embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

ADJECTIVES = ["red", "blue", "wooden", "steel", "linen", "wool", "smart", "solar", "travel", "kids"]
NOUNS = [
    "lamp",
    "chair",
    "kettle",
    "jacket",
    "backpack",
    "speaker",
    "blanket",
    "mug",
    "tent",
    "bike",
    "watch",
    "printer",
    "router",
    "sofa",
    "stroller",
]
ACTIONS = [
    "return",
    "repair",
    "assemble",
    "clean",
    "charge",
    "reset",
    "register",
    "exchange",
    "track",
    "insure",
]
TEMPLATES = [
    "how do i {a} my {t}",
    "can i {a} the {t}",
    "{t} {a} help",
    "need to {a} a {t}",
    "whats the way to {a} my {t}",
    "is it possible to {a} {t}",
    "{a} {t}??",
    "help me {a} my {t}",
    "where can i {a} my {t}",
    "trying to {a} the {t} but stuck",
]
OUT_OF_SCOPE = [
    "what's the weather",
    "tell me a joke",
    "who won the game last night",
    "how do i bake bread",
    "what is the capital of peru",
    "recommend a movie",
]


def make_kb(
    folder: Path, articles: int, variants: int, rng: random.Random
) -> list[tuple[str, str]]:
    """Each article is an (action, product) pair; returns them for query generation."""
    pairs = [(a, f"{adj} {noun}") for a in ACTIONS for adj in ADJECTIVES for noun in NOUNS]
    rng.shuffle(pairs)
    chosen = pairs[:articles]
    items = []
    for index, (action, topic) in enumerate(chosen):
        texts: set[str] = set()
        while len(texts) < variants:
            template = rng.choice(TEMPLATES)
            extra = rng.choice(["", " please", " asap", " thanks", " today", " again", " now"])
            texts.add(template.format(a=action, t=topic) + extra + f" {rng.randint(0, 999)}")
        items.append(
            {
                "id": f"a{index:03d}",
                "questions": {"en": sorted(texts)},
                "answer": {"en": f"To {action} your {topic}, follow the steps on the help page."},
            }
        )
    (folder / "kb").mkdir()
    (folder / "kb" / "articles.yml").write_text(
        yaml.safe_dump({"articles": items}), encoding="utf-8"
    )
    return chosen


def make_queries(path: Path, pairs: list[tuple[str, str]], count: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            if i % 4 == 0:
                text, expected = f"{rng.choice(OUT_OF_SCOPE)} {i}", None
            else:
                k = rng.randrange(len(pairs))
                action, topic = pairs[k]
                text, expected = f"pls {action} {topic} for me {i}", f"a{k:03d}"
            out.write(json.dumps({"text": text, "expected": expected, "language": "en"}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--dev", type=int, default=3000)
    parser.add_argument("--test", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = make_kb(folder, args.articles, args.variants, rng)
        make_queries(folder / "dev.jsonl", pairs, args.dev, rng)
        make_queries(folder / "test.jsonl", pairs, args.test, rng)
        env = {**os.environ, "ASSISTANT_KB_INDEX_DIR": str(folder / "index")}
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "kb_index",
                "eval",
                "--kb",
                str(folder / "kb"),
                "--queries",
                str(folder / "test.jsonl"),
                "--calibrate-on",
                str(folder / "dev.jsonl"),
                "--json",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return result.returncode
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"{args.articles} articles x {args.variants} variants, {args.dev} dev + {args.test} test "
        f"queries: {elapsed:.0f} s wall (limit 600 s)"
    )
    print({k: metrics[k] for k in ("top1", "recall_at_3", "answered_accuracy", "abstain_recall")})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""First replies per language, three ways, in one command.

    .venv/app/bin/python bench/first_reply.py                 # all three
    .venv/app/bin/python bench/first_reply.py --no-stack      # only the retrieval engine

1. the retrieval engine on data/eval/test.jsonl, calibrated on data/eval/dev.jsonl and the KB;
2. the same with no evaluation file at all: the index calibrates itself on the KB
   (what a new KB without labelled queries gets);
3. the real product (`make run`'s settings on free ports): each test question in its
   own conversation through the customer API, as a customer would; the first reply is
   the right article's answer, options that include it, another article's answer, a
   handoff to a person, or "not covered". Handoffs of in-scope questions are the
   false handoffs (NLU sent an FAQ to a person).

Rates are over in-scope questions, except "out of scope told" (over out-of-scope ones).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index.articles import load_kb
from kb_index.build import build_index
from kb_index.calibration import LabelledQuery
from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import make_embedder
from kb_index.evaluate import load_queries, metrics, predict
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.client import Customer
from tests.e2e.isolated import isolated_settings

EVAL = PROJECT_ROOT / "data" / "eval"
LANGUAGES = ("ko", "ja", "en")
OUTCOMES = ("right", "options", "wrong", "handoff", "not_covered")


def engine_rows(calibrate_on: Path | None, settings: Settings) -> dict[str, dict[str, Any]]:
    embedder = CachingEmbedder(
        make_embedder(settings.embedder), settings.kb_index_dir.parent / "embed-cache"
    )
    index = build_index(settings.kb_dir, embedder, calibrate_on, progress=sys.stderr.isatty())
    result = metrics(predict(index, embedder, load_queries(EVAL / "test.jsonl")))
    embedder.save()
    print(f"  calibrated on: {index.calibration.fitted_on if index.calibration else 'nothing'}")
    return dict(result["by_language"])


def print_engine(title: str, rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'':4}{'right':>8}{'options':>9}{'wrong':>8}{'away':>8}{'oos told':>10}")
    for language in LANGUAGES:
        r = rows[language]
        print(
            f"{language:4}{r['right_answer']:>8.1%}{r['options_with_right']:>9.1%}"
            f"{r['wrong_answer']:>8.1%}{r['turned_away']:>8.1%}{r['abstain_recall']:>10.1%}"
        )


def classify(reply: dict[str, Any], answers: dict[str, str], expected: str | None) -> str:
    if reply["state"] != "bot":
        return "handoff"
    first = reply["replies"][0] if reply["replies"] else {"text": ""}
    answered = answers.get(first["text"].strip())
    if answered is not None:
        return "right" if answered == expected else "wrong"
    payloads = [b["payload"] for m in reply["replies"] for b in m.get("buttons", [])]
    if expected and any(f'"{expected}"' in p for p in payloads if "choose_article" in p):
        return "options"
    return "not_covered"


async def product_rows(
    settings: Settings, queries: list[LabelledQuery]
) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Outcomes per language and scope, and the articles of in-scope questions that NLU
    handed to a person (which FAQs read as "I want a person")."""
    answers = {
        text.strip(): article.id
        for article in load_kb(settings.kb_dir)
        for text in article.answers.values()
    }
    counts: dict[str, Counter[str]] = {
        f"{lang}:{scope}": Counter() for lang in LANGUAGES for scope in ("in", "out")
    }
    handed_over: Counter[str] = Counter()
    gate = asyncio.Semaphore(6)
    async with aiohttp.ClientSession() as session:

        async def ask(query: LabelledQuery) -> None:
            async with gate:
                customer = await Customer(session, settings.gateway_url).start()
                reply = await customer.say(query.text)
            scope = "in" if query.expected else "out"
            outcome = classify(reply, answers, query.expected)
            counts[f"{query.language}:{scope}"][outcome] += 1
            if outcome == "handoff" and query.expected:
                handed_over[f"{query.language} {query.expected}"] += 1

        await asyncio.gather(*(ask(q) for q in queries))
    return counts, handed_over


def print_product(counts: dict[str, Counter[str]], handed_over: Counter[str]) -> None:
    print("\n3. the product: each test question in its own conversation through the customer API")
    print(
        f"{'':4}" + "".join(f"{o:>12}" for o in OUTCOMES) + f"{'oos told':>10}{'oos handoff':>12}"
    )
    for language in LANGUAGES:
        inside, outside = counts[f"{language}:in"], counts[f"{language}:out"]
        n_in, n_out = sum(inside.values()) or 1, sum(outside.values()) or 1
        cells = "".join(f"{inside[o] / n_in:>12.1%}" for o in OUTCOMES)
        print(
            f"{language:4}{cells}{outside['not_covered'] / n_out:>10.1%}"
            f"{outside['handoff'] / n_out:>12.1%}"
        )
    print("(handoff over in-scope questions = false handoffs)")
    if handed_over:
        listed = ", ".join(f"{key} x{n}" for key, n in sorted(handed_over.items()))
        print(f"false handoffs by the article expected: {listed}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--no-stack", action="store_true", help="skip the run through the product")
    args = parser.parse_args()
    settings = Settings.from_env()
    print("1. retrieval engine, calibrated on data/eval/dev.jsonl + the KB", flush=True)
    print_engine(
        "   first reply on data/eval/test.jsonl", engine_rows(EVAL / "dev.jsonl", settings)
    )
    print("\n2. retrieval engine, no evaluation file (the KB calibrates itself)", flush=True)
    print_engine("   first reply on data/eval/test.jsonl", engine_rows(None, settings))
    if args.no_stack:
        return 0
    with tempfile.TemporaryDirectory(prefix="first-reply-") as state:
        stack_settings = isolated_settings(
            Path(state), PROJECT_ROOT / "var" / "log" / "bench-first-reply"
        )
        with Stack(stack_settings) as stack:
            print("\nstarting the product ...", file=sys.stderr, flush=True)
            stack.start()
            counts, handed_over = asyncio.run(
                product_rows(stack.settings, load_queries(EVAL / "test.jsonl"))
            )
    print_product(counts, handed_over)
    return 0


if __name__ == "__main__":
    sys.exit(main())

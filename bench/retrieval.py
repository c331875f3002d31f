"""Retrieval at scale: build time, memory and query latency for each index type.

    .venv/app/bin/python bench/retrieval.py                 # 1k, 10k, 100k articles
    .venv/app/bin/python bench/retrieval.py --sizes 1000 --embed-all

Articles are synthetic (3 question variants each). Embedding dominates build
time and grows linearly, so by default it is measured on real text (the demo
KB's variants, embedded with the configured embedder) and extrapolated; the
index itself is built, for real, from vectors drawn around those real
embeddings so that it has a realistic shape. `--embed-all` embeds every
synthetic variant instead, through the same batching as a real build (about
6 minutes for 100k articles on 2 cores with the default e5 embedder). Each
size and index type runs in its own process, so the memory figure (peak RSS) is
its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index.articles import load_kb
from kb_index.decision import decide
from kb_index.embedders import make_embedder
from kb_index.head import ClassifierHead
from kb_index.index import BUILD_BATCH_SIZE, KBIndex, Variant, embed_in_batches, make_faiss_index
from stack.settings import Settings

VARIANTS_PER_ARTICLE = 3
QUERIES = [
    "배송 얼마나 걸려요?",
    "環境にやさしい梱包ですか",
    "refund not here yet",
    "비번 까먹었어요",
    "パスワード忘れた",
    "can i pay with paypal",
    "쿠폰이 안 먹혀요",
    "返品したい",
    "where is my parcel",
    "what's the weather tomorrow",
]


def synthetic_texts(count: int) -> list[str]:
    base = [text for article in load_kb(Settings().kb_dir) for _, text in article.variants()]
    return [f"{base[i % len(base)]} #{i}" for i in range(count)]


def child(articles: int, kind: str, embed_all: bool) -> dict[str, float | int | str]:
    embedder = make_embedder(Settings.from_env().embedder)
    n_variants = articles * VARIANTS_PER_ARTICLE
    sample = synthetic_texts(min(n_variants, 1000))
    embedder.embed(["warm-up"])  # loading the model is not part of a build's per-text cost
    started = time.perf_counter()
    sample_vectors = embedder.embed(sample)
    per_text = (time.perf_counter() - started) / len(sample)
    if embed_all and n_variants > len(sample):
        started = time.perf_counter()
        vectors = np.vstack(
            [
                sample_vectors,
                embed_in_batches(
                    embedder,
                    synthetic_texts(n_variants)[len(sample) :],
                    BUILD_BATCH_SIZE,
                    progress=False,
                ),
            ]
        )
        embed_seconds = per_text * len(sample) + time.perf_counter() - started
        embed_note = "measured"
    else:
        rng = np.random.default_rng(0)
        picks = sample_vectors[rng.integers(0, len(sample_vectors), n_variants)]
        noisy = picks + rng.normal(0, 0.02, picks.shape).astype(np.float32)
        vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
        vectors[: len(sample_vectors)] = sample_vectors
        embed_seconds = per_text * n_variants
        embed_note = "measured" if n_variants <= len(sample) else "extrapolated"

    started = time.perf_counter()
    index = make_faiss_index(vectors, kind)
    labels = [f"a{i // VARIANTS_PER_ARTICLE}" for i in range(n_variants)]
    head = ClassifierHead.fit(vectors, labels)
    index_seconds = time.perf_counter() - started
    variants = [Variant(label, "en", "") for label in labels]
    kb = KBIndex(index, variants, {}, embedder.identity, head=head)

    latencies = []
    for round_ in range(5):
        for query in QUERIES:
            started = time.perf_counter()
            vector = embedder.embed([f"{query} {round_}"])[0]
            decide(*kb.analyse(query, vector), None)
            latencies.append((time.perf_counter() - started) * 1000)
    return {
        "articles": articles,
        "index": type(index).__name__ + (" + head" if head else ""),
        "embed_s": round(embed_seconds, 1),
        "embed": embed_note,
        "index_s": round(index_seconds, 2),
        "build_s": round(embed_seconds + index_seconds, 1),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "query_p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "query_p95_ms": round(float(np.percentile(latencies, 95)), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--kinds", nargs="+", default=["exact", "hnsw"])
    parser.add_argument("--embed-all", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ARTICLES", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1], args.embed_all)))
        return 0
    header = f"{'articles':>9} {'index':<22} {'embed s':>9} {'':<12} {'index s':>8} {'build s':>8} {'RSS MB':>7} {'p50 ms':>7} {'p95 ms':>7}"
    print(header, flush=True)
    for size in args.sizes:
        for kind in args.kinds:
            command = [sys.executable, __file__, "--child", str(size), kind]
            if args.embed_all:
                command.append("--embed-all")
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{r['articles']:>9} {r['index']:<22} {r['embed_s']:>9} {'(' + str(r['embed']) + ')':<12} "
                f"{r['index_s']:>8} {r['build_s']:>8} {r['rss_mb']:>7} {r['query_p50_ms']:>7} {r['query_p95_ms']:>7}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

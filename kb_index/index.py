"""The FAISS index over every question variant, saved with what it needs to answer.

On disk an index is a folder::

    CURRENT            name of the live version (replaced atomically)
    v-<stamp>/index.faiss
    v-<stamp>/meta.json  embedder identity, thresholds, variants, articles

A reader never sees a half-written index: a build writes a new version folder
and only then points CURRENT at it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from kb_index.articles import Article, Link, pick_language
from kb_index.decision import Calibration, Candidate, QueryFacts, Thresholds
from kb_index.embedder import Embedder
from kb_index.head import ClassifierHead
from kb_index.lexicon import Lexicon

FORMAT_VERSION = 3
# Ranking score = dense similarity + this * head probability, unless a
# calibration chose another weight (it usually picks 0.2-0.3).
DEFAULT_HEAD_WEIGHT = 0.3
CURRENT_FILE = "CURRENT"
# Above this many variants an exact scan starts to cost real time per query;
# HNSW keeps queries in the low milliseconds at the price of a longer build.
EXACT_INDEX_MAX_VARIANTS = 50_000
_KEEP_OLD_VERSIONS = 2
# Texts per embedder call in a build: large enough for efficient batches,
# small enough for a progress bar that moves.
BUILD_BATCH_SIZE = 512


class KBIndexError(Exception):
    """The index is missing, unreadable or built by another embedder."""


@dataclass(frozen=True)
class Variant:
    article_id: str
    language: str
    text: str


@dataclass(frozen=True)
class StoredArticle:
    """What answering needs of an article, kept in the index's metadata."""

    id: str
    answers: dict[str, str]
    titles: dict[str, str]
    links: tuple[Link, ...]

    def answer_in(self, language: str) -> str:
        return pick_language(self.answers, language)

    def title_in(self, language: str) -> str:
        return pick_language(self.titles, language) or self.id


class KBIndex:
    def __init__(
        self,
        index: faiss.Index,
        variants: list[Variant],
        articles: dict[str, StoredArticle],
        embedder_identity: str,
        head: ClassifierHead | None = None,
        calibration: Calibration | None = None,
        thresholds: Thresholds | None = None,
        version: str = "",
        built_at: float = 0.0,
    ) -> None:
        self.index = index
        self.variants = variants
        self.articles = articles
        self.embedder_identity = embedder_identity
        self.head = head
        self.calibration = calibration
        self.thresholds = thresholds or Thresholds()
        self.version = version
        self.built_at = built_at
        self._variant_rows: dict[str, list[int]] | None = None
        answers = (answer for a in articles.values() for answer in a.answers.values())
        self._lexicon = Lexicon([*(v.text for v in variants), *answers])

    # -- building -----------------------------------------------------------

    @classmethod
    def build(
        cls,
        articles: list[Article],
        embedder: Embedder,
        batch_size: int = BUILD_BATCH_SIZE,
        progress: bool = False,
    ) -> KBIndex:
        variants = [Variant(a.id, lang, text) for a in articles for lang, text in a.variants()]
        if not variants:
            raise KBIndexError("the knowledge base has no question variants to index")
        vectors = embed_in_batches(embedder, [v.text for v in variants], batch_size, progress)
        index = make_faiss_index(vectors)
        head = ClassifierHead.fit(vectors, [v.article_id for v in variants])
        stored = {
            a.id: StoredArticle(
                id=a.id,
                answers=dict(a.answers),
                titles={lang: qs[0] for lang, qs in a.questions.items() if qs},
                links=a.links,
            )
            for a in articles
        }
        return cls(index, variants, stored, embedder.identity, head=head)

    # -- querying -----------------------------------------------------------

    @property
    def head_weight(self) -> float:
        if self.head is None:
            return 0.0
        return self.calibration.head_weight if self.calibration else DEFAULT_HEAD_WEIGHT

    def facts(self, text: str) -> QueryFacts:
        """What the decision reads from the question's wording (see decision.QueryFacts)."""
        return QueryFacts.of(text, self._lexicon.novelty(text))

    def rank(
        self, vector: np.ndarray, head_weight: float | None = None, top_articles: int = 5
    ) -> list[Candidate]:
        """Articles best first: their closest variant's cosine similarity (kNN),
        plus the classifier head's probability times `head_weight`."""
        weight = self.head_weight if head_weight is None else head_weight
        query = np.atleast_2d(vector).astype(np.float32)
        k = min(self.index.ntotal, max(64, top_articles * 12))
        scores, ids = self.index.search(query, k)
        closest: dict[str, tuple[float, str]] = {}
        for score, idx in zip(scores[0], ids[0]):
            if idx >= 0 and self.variants[idx].article_id not in closest:
                closest[self.variants[idx].article_id] = (float(score), self.variants[idx].text)
        head_probability: dict[str, float] = {}
        if self.head is not None:
            probabilities = self.head.probabilities(query)[0]
            # The head may rank an article kNN did not reach; give it a chance.
            for i in np.argsort(-probabilities)[:top_articles]:
                head_probability[self.head.classes[i]] = float(probabilities[i])
            for article_id in closest:
                position = self.head.position.get(article_id)
                if position is not None:
                    head_probability[article_id] = float(probabilities[position])
            for article_id in head_probability.keys() - closest.keys():
                closest[article_id] = self._closest_variant(query[0], article_id)
        ranked = [
            Candidate(
                article_id=article_id,
                score=dense + weight * head_probability.get(article_id, 0.0),
                matched=matched,
                dense=dense,
                head=head_probability.get(article_id, 0.0),
            )
            for article_id, (dense, matched) in closest.items()
        ]
        ranked.sort(key=lambda c: c.score, reverse=True)
        return ranked[:top_articles]

    def _closest_variant(self, query: np.ndarray, article_id: str) -> tuple[float, str]:
        if self._variant_rows is None:
            rows: dict[str, list[int]] = {}
            for i, variant in enumerate(self.variants):
                rows.setdefault(variant.article_id, []).append(i)
            self._variant_rows = rows
        best = (-1.0, "")
        for i in self._variant_rows.get(article_id, []):
            score = float(self.index.reconstruct(i) @ query)
            if score > best[0]:
                best = (score, self.variants[i].text)
        return best

    # -- persistence --------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write a new version folder, then atomically make it CURRENT."""
        index_dir.mkdir(parents=True, exist_ok=True)
        version = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        tmp = index_dir / f".tmp-{version}"
        tmp.mkdir()
        faiss.write_index(self.index, str(tmp / "index.faiss"))
        if self.head is not None:
            self.head.save(tmp)
        meta = {
            "format": FORMAT_VERSION,
            "embedder": self.embedder_identity,
            "dim": int(self.index.d),
            "index_type": type(self.index).__name__,
            "built_at": time.time(),
            "thresholds": self.thresholds.to_dict(),
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "variants": [[v.article_id, v.language, v.text] for v in self.variants],
            "articles": {
                a.id: {
                    "answers": a.answers,
                    "titles": a.titles,
                    "links": [{"url": link.url, "titles": link.titles} for link in a.links],
                }
                for a in self.articles.values()
            },
        }
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        final = index_dir / version
        tmp.rename(final)
        pointer_tmp = index_dir / f".{CURRENT_FILE}.tmp"
        pointer_tmp.write_text(version, encoding="utf-8")
        os.replace(pointer_tmp, index_dir / CURRENT_FILE)
        self.version = version
        _remove_old_versions(index_dir, keep=version)
        return final

    @classmethod
    def load(cls, index_dir: Path, embedder_identity: str | None = None) -> KBIndex:
        """Load the CURRENT version. Refuses an index built by another embedder."""
        version = current_version(index_dir)
        folder = index_dir / version
        try:
            meta: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            index = faiss.read_index(str(folder / "index.faiss"))
        except (OSError, ValueError, RuntimeError) as exc:
            raise KBIndexError(
                f"cannot read the KB index at {folder}: {exc}. Rebuild it: make kb-index"
            ) from exc
        if meta.get("format") != FORMAT_VERSION:
            raise KBIndexError(f"index at {folder} has an old format; rebuild it: make kb-index")
        if embedder_identity is not None and meta["embedder"] != embedder_identity:
            raise KBIndexError(
                f"the index at {folder} was built with embedder '{meta['embedder']}' but this "
                f"process uses '{embedder_identity}'. Rebuild the index with the same embedder "
                "(python -m kb_index build --embedder ...) or start with the embedder it names."
            )
        variants = [Variant(*row) for row in meta["variants"]]
        articles = {
            article_id: StoredArticle(
                id=article_id,
                answers=raw["answers"],
                titles=raw["titles"],
                links=tuple(Link(url=link["url"], titles=link["titles"]) for link in raw["links"]),
            )
            for article_id, raw in meta["articles"].items()
        }
        calibration = meta.get("calibration")
        return cls(
            index,
            variants,
            articles,
            meta["embedder"],
            head=ClassifierHead.load(folder),
            calibration=Calibration.from_dict(calibration) if calibration else None,
            thresholds=Thresholds.from_dict(meta["thresholds"]),
            version=version,
            built_at=float(meta.get("built_at", 0.0)),
        )


def current_version(index_dir: Path) -> str:
    try:
        return (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise KBIndexError(
            f"no KB index at {index_dir}. Build it first: make kb-index (python -m kb_index build)"
        ) from exc


def make_faiss_index(vectors: np.ndarray, kind: str = "auto") -> faiss.Index:
    """Inner product on normalised vectors = cosine. Exact when small, HNSW when
    large (`kind` "exact" or "hnsw" forces one, for benchmarks)."""
    dim = vectors.shape[1]
    if kind == "exact" or (kind == "auto" and len(vectors) <= EXACT_INDEX_MAX_VARIANTS):
        index: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    index.add(vectors)
    return index


def embed_in_batches(
    embedder: Embedder, texts: list[str], batch_size: int, progress: bool
) -> np.ndarray:
    chunks = []
    started = time.monotonic()
    for start in range(0, len(texts), batch_size):
        chunks.append(embedder.embed(texts[start : start + batch_size]))
        if progress:
            done = min(start + batch_size, len(texts))
            _print_progress(done, len(texts), time.monotonic() - started)
    if progress:
        print(file=sys.stderr)
    return np.vstack(chunks).astype(np.float32)


def _print_progress(done: int, total: int, elapsed: float) -> None:
    width = 30
    filled = int(width * done / total)
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else 0.0
    bar = "#" * filled + "-" * (width - filled)
    print(
        f"\rembedding [{bar}] {done}/{total} {rate:.0f}/s eta {eta:.0f}s",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _remove_old_versions(index_dir: Path, keep: str) -> None:
    versions = sorted(
        (p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v-")),
        key=lambda p: p.stat().st_mtime,
    )
    stale = [p for p in versions if p.name != keep][: max(0, len(versions) - _KEEP_OLD_VERSIONS)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)

"""The FAISS index over every question variant, saved with what it needs to answer.

On disk an index is a folder::

    CURRENT            name of the live version (replaced atomically)
    v-<stamp>/index.faiss
    v-<stamp>/head.npz   the classifier head (head.py)
    v-<stamp>/scope.npz  the in-scope model (scope.py)
    v-<stamp>/meta.json  embedder identity, calibration, variants, articles, lexical terms

Ranking (`rank`) fuses three legs per article: the closest variant's cosine similarity
(kNN over FAISS), the classifier head's probability, and BM25 over the article's
variants (lexical.py), with per-language weights that an evaluation set picks
(calibration.py; the defaults without one).

A reader never sees a half-written index: a build writes a new version folder
and only then points CURRENT at it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from common.language import detect_language
from kb_index.articles import Article, Link, pick_language
from kb_index.decision import Calibration, Candidate, QueryFacts, Thresholds, ranking_weights_for
from kb_index.embedders import Embedder
from kb_index.head import ClassifierHead
from kb_index.lexical import LexicalIndex, Terms, terms
from kb_index.masking import ShopNames, mask_question
from kb_index.not_covered import NotCovered
from kb_index.scope import ScopeModel, out_of_scope_examples
from kb_index.spelling import HangulReader, KanaReader, Speller

FORMAT_VERSION = 5
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
class BuildParts:
    """What a build computed, kept on a freshly built index so that self-calibration
    (calibration.py) can rebuild it without some variants, without embedding again."""

    variants: list[Variant]
    vectors: np.ndarray
    variant_terms: list[Terms]
    answer_terms: list[Terms]
    negatives: list[tuple[str, str]]  # (language, text) out-of-scope examples
    negative_vectors: np.ndarray
    shop_names: tuple[str, ...] = ()
    not_covered: NotCovered | None = None


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
        lexical: LexicalIndex | None = None,
        scope: ScopeModel | None = None,
        calibration_key: str | None = None,
        shop_names: tuple[str, ...] = (),
        not_covered: NotCovered | None = None,
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
        self.lexical = lexical
        self.scope = scope
        # What `calibration` was fitted on (build.calibration_key), when known: a rebuild
        # of the same inputs can take the calibration instead of fitting it again.
        self.calibration_key = calibration_key
        self.shop_names = ShopNames(shop_names)
        self.not_covered = not_covered or NotCovered.none()
        self.speller = Speller(lexical.word_counts()) if lexical else None
        self.kana_reader: KanaReader | None = KanaReader(
            v.text for v in variants if v.language == "ja"
        )
        self.hangul_reader: HangulReader | None = HangulReader(
            v.text for v in variants if v.language == "ko"
        )
        self.parts: BuildParts | None = None  # set by build(), not by load()
        self._variant_rows: dict[str, list[int]] | None = None
        self._mean_vector: np.ndarray | None = None

    def mean_vector(self) -> np.ndarray:
        """The mean of the KB's question vectors: the direction every support question
        shares, taken out before unanswered questions are grouped into topics."""
        if self._mean_vector is None:
            stored = self.index.reconstruct_n(0, self.index.ntotal)
            self._mean_vector = np.asarray(stored, dtype=np.float32).mean(axis=0)
        return self._mean_vector

    # -- building -----------------------------------------------------------

    @classmethod
    def build(
        cls,
        articles: list[Article],
        embedder: Embedder,
        batch_size: int = BUILD_BATCH_SIZE,
        progress: bool = False,
        out_of_scope: bool = True,
        shop_names: tuple[str, ...] = (),
        not_covered: tuple[tuple[str, str], ...] = (),
    ) -> KBIndex:
        """`shop_names`: what customers call the shop (articles.load_shop_names); the KB's
        questions are embedded with them plain, as customers' questions are asked.
        `not_covered`: questions the KB does not answer on purpose
        (articles.load_not_covered; not_covered.py)."""
        variants = [Variant(a.id, lang, text) for a in articles for lang, text in a.variants()]
        if not variants:
            raise KBIndexError("the knowledge base has no question variants to index")
        negatives = list(out_of_scope_examples()) if out_of_scope else []
        plain = ShopNames(shop_names)
        asked = [plain(v.text) for v in variants]
        vectors = embed_in_batches(embedder, asked, batch_size, progress)
        negative_vectors, not_covered_vectors = (
            embedder.embed([plain(text) for _, text in examples])
            if examples
            else np.zeros((0, vectors.shape[1]), dtype=np.float32)
            for examples in (negatives, not_covered)
        )
        parts = BuildParts(
            variants=variants,
            vectors=vectors,
            variant_terms=[terms(text) for text in asked],
            answer_terms=[terms(plain(text)) for a in articles for text in a.answers.values()],
            negatives=negatives,
            negative_vectors=np.asarray(negative_vectors, dtype=np.float32),
            shop_names=plain.names,
            not_covered=NotCovered(list(not_covered), not_covered_vectors),
        )
        stored = {
            a.id: StoredArticle(
                id=a.id,
                answers=dict(a.answers),
                titles={lang: qs[0] for lang, qs in a.questions.items() if qs},
                links=a.links,
            )
            for a in articles
        }
        return cls.from_parts(parts, stored, embedder.identity)

    @classmethod
    def from_parts(
        cls,
        parts: BuildParts,
        articles: dict[str, StoredArticle],
        embedder_identity: str,
        keep: np.ndarray | None = None,
        keep_negatives: np.ndarray | None = None,
    ) -> KBIndex:
        """An index over the variants (and out-of-scope examples) that `keep` selects:
        all by default; self-calibration leaves some out to ask them as questions."""
        rows = np.flatnonzero(keep) if keep is not None else np.arange(len(parts.variants))
        variants = [parts.variants[i] for i in rows]
        vectors = parts.vectors[rows]
        negative_vectors = (
            parts.negative_vectors[keep_negatives]
            if keep_negatives is not None
            else parts.negative_vectors
        )
        lexical = LexicalIndex.from_terms(
            [(variants[n].article_id, parts.variant_terms[i]) for n, i in enumerate(rows)],
            parts.answer_terms,
        )
        index = cls(
            make_faiss_index(vectors),
            variants,
            articles,
            embedder_identity,
            head=ClassifierHead.fit(vectors, [v.article_id for v in variants]),
            lexical=lexical,
            scope=ScopeModel.fit(vectors, negative_vectors),
            shop_names=parts.shop_names,
            not_covered=parts.not_covered,
        )
        index.parts = parts
        return index

    # -- querying -----------------------------------------------------------

    def weights_for(self, language: str | None) -> tuple[float, float]:
        """(head weight, lexical weight) of the ranking score for a question in `language`."""
        head, lexical = ranking_weights_for(
            self.calibration.ranking_weights if self.calibration else {}, language
        )
        return (head if self.head else 0.0, lexical if self.lexical else 0.0)

    def masked(self, text: str) -> str:
        """A question as it is embedded and ranked: no identifiers, the shop's names plain,
        English and Korean typos of the KB's words corrected, Japanese kana read as its words
        (spelling.py)."""
        masked = mask_question(text, self.shop_names)
        if self.kana_reader:
            masked = self.kana_reader.correct(masked)
        if self.hangul_reader:
            masked = self.hangul_reader.correct(masked)
        return self.speller.correct(masked) if self.speller else masked

    def analyse(
        self,
        text: str,
        vector: np.ndarray,
        top_articles: int = 5,
        weights: tuple[float, float] | None = None,
    ) -> tuple[list[Candidate], QueryFacts]:
        """The ranked candidates and the facts the decision reads, for one question
        (`vector` is the embedding of self.masked(text))."""
        found = terms(self.masked(text))
        language = detect_language(text)
        candidates = self.rank(
            vector,
            top_articles=top_articles,
            found=found,
            weights=weights or self.weights_for(language),
        )
        in_kb, negative_top = self.scope.signals(vector) if self.scope else (1.0, 0.0)
        not_covered, _ = self.not_covered.closest(vector)
        facts = QueryFacts(
            novelty=self.lexical.novelty(found) if self.lexical else 0.0,
            unknown_names=self.lexical.unknown_names(found) if self.lexical else 0.0,
            in_kb=in_kb,
            negative_top=negative_top,
            language=language,
            not_covered=not_covered,
        )
        return candidates, facts

    def rank(
        self,
        vector: np.ndarray,
        top_articles: int = 5,
        found: Terms | None = None,
        weights: tuple[float, float] | None = None,
    ) -> list[Candidate]:
        """Articles best first: their closest variant's cosine similarity (kNN), plus
        the classifier head's probability and the lexical score (of `found`, the
        question's terms), each times its weight."""
        head_weight, lexical_weight = weights or self.weights_for(None)
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
        lexical: dict[str, float] = {}
        if self.lexical is not None and found is not None:
            lexical = self.lexical.scores(found)
            if lexical_weight > 0:
                # So may the lexical leg.
                for article_id in sorted(lexical, key=lexical.__getitem__)[-top_articles:]:
                    head_probability.setdefault(article_id, 0.0)
        for article_id in head_probability.keys() - closest.keys():
            if article_id in self.articles:
                closest[article_id] = self._closest_variant(query[0], article_id)
        ranked = [
            Candidate(
                article_id=article_id,
                score=dense
                + head_weight * head_probability.get(article_id, 0.0)
                + lexical_weight * lexical.get(article_id, 0.0),
                matched=matched,
                dense=dense,
                head=head_probability.get(article_id, 0.0),
                lexical=lexical.get(article_id, 0.0),
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
        if self.scope is not None:
            self.scope.save(tmp)
        self.not_covered.save(tmp)
        meta = {
            "format": FORMAT_VERSION,
            "embedder": self.embedder_identity,
            "dim": int(self.index.d),
            "index_type": type(self.index).__name__,
            "built_at": time.time(),
            "thresholds": self.thresholds.to_dict(),
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "calibration_key": self.calibration_key,
            "shop_names": list(self.shop_names.names),
            "variants": [[v.article_id, v.language, v.text] for v in self.variants],
            "lexical": (
                {
                    "article_ids": self.lexical.article_ids,
                    "article_terms": self.lexical.article_terms,
                    "known": sorted(self.lexical.known),
                }
                if self.lexical
                else None
            ),
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
                f"cannot read the KB index at {folder}: {exc}. Rebuild it: "
                ".venv/app/bin/python -m kb_index build"
            ) from exc
        if meta.get("format") != FORMAT_VERSION:
            raise KBIndexError(
                f"index at {folder} has an old format; rebuild it: "
                ".venv/app/bin/python -m kb_index build"
            )
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
        lexical = meta.get("lexical")
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
            lexical=(
                LexicalIndex(lexical["article_ids"], lexical["article_terms"], lexical["known"])
                if lexical
                else None
            ),
            scope=ScopeModel.load(folder),
            calibration_key=meta.get("calibration_key"),
            shop_names=tuple(meta.get("shop_names") or ()),
            not_covered=NotCovered.load(folder),
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
    with tqdm(total=len(texts), desc="embedding", unit="text", disable=not progress) as bar:
        for start in range(0, len(texts), batch_size):
            chunks.append(embedder.embed(texts[start : start + batch_size]))
            bar.update(len(chunks[-1]))
    return np.vstack(chunks).astype(np.float32)


def _remove_old_versions(index_dir: Path, keep: str) -> None:
    versions = sorted(
        (p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v-")),
        key=lambda p: p.stat().st_mtime,
    )
    stale = [p for p in versions if p.name != keep][: max(0, len(versions) - _KEEP_OLD_VERSIONS)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)

"""Checks a KB folder the way a careful reviewer would, and says where each problem is.

Errors (the index would be wrong): unreadable YAML, duplicate article ids, empty
answers, the same question variant in two articles, a question both an article's and
"not covered".
Warnings (worth a look): a missing translation, an article with few question variants
in a language, a variant repeated inside one article, a variant closer to another
article's variants than to its own, a "not covered" question almost the same as an
article's variant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from kb_index.articles import LANGUAGES, Article, KBError, kb_files, load_file, load_not_covered
from kb_index.embedders import Embedder

# e5 similarities are compressed (unrelated questions still score ~0.8), so a
# variant only "collides" when another article is clearly closer than its own.
COLLISION_MARGIN = 0.02
# Below this many variants in a language an article is answered outright much less
# often: the KB calibrates itself on its own variants, and few leave it unsure. Measured
# on this project's KB cut to N variants per article and language, self-calibrated, dev
# questions answered right first time (ko/ja/en): 3 -> 21/28/41 %, 5 -> 49/69/67 %,
# 8 -> 56/72/72 %, 16 -> 83/91/88 %, all ~24 -> 89/94/90 % (bench/dev_cv.py --variants N).
FEW_VARIANTS = 5
# A "not covered" question at least this similar to an article's variant also turns away
# customers' questions meant for that article (not_covered.py: the closer one wins).
NOT_COVERED_NEAR_VARIANT = 0.95


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    path: str
    line: int | None
    article_id: str
    message: str

    @classmethod
    def about(cls, level: Literal["error", "warning"], article: Article, message: str) -> Problem:
        return cls(level, article.source, article.line, article.id, message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        article = f" [{self.article_id}]" if self.article_id else ""
        return f"{self.level.upper():7} {where}{article}: {self.message}"


def validate(kb_dir: Path, embedder: Embedder | None = None) -> list[Problem]:
    """Every problem found; `embedder` enables the collision check."""
    problems: list[Problem] = []
    articles: list[Article] = []
    try:
        files = kb_files(kb_dir)
    except KBError as exc:
        return [Problem("error", exc.path, exc.line, "", exc.message)]
    for path in files:
        try:
            articles.extend(load_file(path))
        except KBError as exc:
            problems.append(Problem("error", exc.path, exc.line, "", exc.message))
    problems += _structure(articles)
    try:
        not_covered = [text for _, text in load_not_covered(kb_dir)]
    except KBError as exc:
        problems.append(Problem("error", exc.path, exc.line, "", exc.message))
        not_covered = []
    problems += _not_covered_in_articles(articles, not_covered)
    rows = [(a, text) for a in articles for _, text in a.variants()]
    if embedder is not None and rows:
        vectors = embedder.embed([text for _, text in rows])
        problems += _collisions(rows, vectors)
        if not_covered:
            near = embedder.embed(not_covered) @ vectors.T
            problems += _not_covered_near_variants(rows, not_covered, near)
    return problems


def _structure(articles: list[Article]) -> list[Problem]:
    problems: list[Problem] = []
    first_seen: dict[str, Article] = {}
    owners: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        where = (article.source, article.line, article.id)
        if article.id in first_seen:
            other = first_seen[article.id]
            problems.append(
                Problem("error", *where, f"duplicate id (also at {other.source}:{other.line})")
            )
        first_seen.setdefault(article.id, article)
        has_answer = any(a.strip() for a in article.answers.values())
        if not has_answer:
            problems.append(Problem("error", *where, "empty answer in every language"))
        for language in LANGUAGES:
            count = len(article.questions.get(language, ()))
            if not count:
                problems.append(Problem("warning", *where, f"no '{language}' question variants"))
            elif count < FEW_VARIANTS:
                problems.append(
                    Problem(
                        "warning",
                        *where,
                        f"only {count} '{language}' question variant{'s' * (count > 1)}: "
                        f"with fewer than {FEW_VARIANTS} the bot answers it outright less often; "
                        "add the ways customers ask, short and with their typos",
                    )
                )
            if has_answer and not article.answers.get(language, "").strip():
                problems.append(
                    Problem(
                        "warning", *where, f"missing '{language}' answer (English is shown instead)"
                    )
                )
        seen_here: set[str] = set()
        for _, text in article.variants():
            key = _normal(text)
            if key in seen_here:
                problems.append(Problem("warning", *where, f"variant repeated: {text!r}"))
            seen_here.add(key)
            owners[key].append(article)
    for key, holders in owners.items():
        ids = sorted({a.id for a in holders})
        if len(ids) > 1:
            a = holders[0]
            problems.append(
                Problem(
                    "error",
                    a.source,
                    a.line,
                    a.id,
                    f"variant {key!r} is in articles {', '.join(ids)}",
                )
            )
    return problems


def _not_covered_in_articles(articles: list[Article], not_covered: list[str]) -> list[Problem]:
    listed = {_normal(text) for text in not_covered}
    return [
        Problem.about(
            "error",
            article,
            f"variant {text!r} is also listed as not covered: keep it in one place",
        )
        for article in articles
        for _, text in article.variants()
        if _normal(text) in listed
    ]


def _not_covered_near_variants(
    rows: list[tuple[Article, str]], not_covered: list[str], similarities: np.ndarray
) -> list[Problem]:
    """`similarities`: not-covered questions (rows) against the KB's variants (`rows`)."""
    problems = []
    for i, text in enumerate(not_covered):
        j = int(np.argmax(similarities[i]))
        if similarities[i][j] >= NOT_COVERED_NEAR_VARIANT:
            article, variant = rows[j]
            problems.append(
                Problem.about(
                    "warning",
                    article,
                    f"not-covered question {text!r} is almost the same as the variant "
                    f"{variant!r} ({similarities[i][j]:.3f}): customers asking that will be "
                    "told it is not covered; reword or remove one",
                )
            )
    return problems


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _collisions(rows: list[tuple[Article, str]], vectors: np.ndarray) -> list[Problem]:
    """A variant clearly closer to another article's variants than to its own."""
    if len(rows) < 2:
        return []
    owner = np.array([a.id for a, _ in rows])
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -1.0)
    problems = []
    for i, (article, text) in enumerate(rows):
        own = similarities[i][owner == article.id]
        other_mask = owner != article.id
        if not other_mask.any() or (owner == article.id).sum() < 2:
            continue
        j = int(np.argmax(np.where(other_mask, similarities[i], -1.0)))
        if similarities[i][j] > own.max() + COLLISION_MARGIN:
            problems.append(
                Problem.about(
                    "warning",
                    article,
                    f"variant {text!r} is closer to '{rows[j][0].id}' ({rows[j][1]!r}, "
                    f"{similarities[i][j]:.3f}) than to its own article ({own.max():.3f})",
                )
            )
    return problems

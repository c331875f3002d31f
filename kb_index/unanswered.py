"""What customers asked that the KB could not answer, for conversation designers.

The action server appends one JSON line per abstain, clarify, "that didn't help"
and "none of these". `python -m kb_index unanswered` groups similar questions
(any language: the embedder is multilingual) and lists the biggest groups first.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.pii import redact
from kb_index.embedders import Embedder

_write_lock = threading.Lock()
# A question joins a group when it is this close (cosine, e5) to the group's
# centroid. Measured: paraphrases across ko/ja/en 0.83-0.89, unrelated 0.77-0.82.
GROUP_SIMILARITY = 0.85


def record(
    path: Path,
    kind: str,
    query: str,
    language: str,
    candidates: list[dict[str, Any]],
    conversation_id: str = "",
) -> None:
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": kind,
        # Designers need the wording, never who asked: no contact details, cards or ids.
        "query": redact(query),
        "language": language,
        "candidates": candidates[:3],
        "conversation_id": conversation_id,
    }
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _write_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # also a file an older version left readable to all
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(line)


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash; the rest is still useful
        if isinstance(entry, dict) and isinstance(entry.get("query"), str) and entry["query"]:
            entries.append(entry)
    return entries


@dataclass
class Group:
    representative: str
    count: int
    kinds: Counter[str]
    languages: Counter[str]
    examples: list[str]
    top_articles: Counter[str]


def group(entries: list[dict[str, Any]], embedder: Embedder) -> list[Group]:
    """Greedy grouping: each question joins the group whose centroid is closest,
    if close enough; biggest groups first."""
    if not entries:
        return []
    vectors = embedder.embed([e["query"] for e in entries])
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    centroids: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        if centroids:
            similarities = np.vstack(centroids) @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= GROUP_SIMILARITY:
                members[leaders[best]].append(i)
                total = vectors[members[leaders[best]]].sum(axis=0)
                centroids[best] = total / np.linalg.norm(total)
                continue
        leaders.append(i)
        members[i] = [i]
        centroids.append(vector)
    groups = []
    for leader, indexes in members.items():
        mine = [entries[i] for i in indexes]
        groups.append(
            Group(
                representative=entries[leader]["query"],
                count=len(mine),
                kinds=Counter(e.get("kind", "?") for e in mine),
                languages=Counter(e.get("language", "?") for e in mine),
                examples=list(dict.fromkeys(e["query"] for e in mine))[:5],
                top_articles=Counter(
                    e["candidates"][0]["article_id"] for e in mine if e.get("candidates")
                ),
            )
        )
    groups.sort(key=lambda g: g.count, reverse=True)
    return groups

"""What customers asked that the KB could not answer, for conversation designers.

The action server appends one JSON line per abstain, clarify, "that didn't help"
and "none of these". `python -m kb_index unanswered` groups similar questions
(any language: the embedder is multilingual) and lists the biggest groups first.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from tqdm import tqdm

from common.pii import redact
from kb_index.embedders import Embedder

_write_lock = threading.Lock()
# Grouping has two stages (`topics`). First, near-identical wordings (typos, endings,
# fillers) join a micro-group when this close (raw cosine, e5) to its centroid. e5 puts
# every support question at 0.75-0.85 from every other, so no raw threshold separates
# topics: at 0.85 one group swallowed 65 % of a month (bench/topics.py).
MICRO_SIMILARITY = 0.95
# Second, micro-groups are joined by average linkage once the direction all support
# questions share (the KB's mean vector) is taken out: topics at or above this centered
# cosine. Chosen on bench/topics.py's labelled questions and checked on the KB's own
# variants grouped by article (V-measure 0.80 and 0.69, against 0.28 and 0.05 before).
TOPIC_SIMILARITY = 0.3
# Micro-groups linked at most (average linkage holds n^2/2 distances: 4 000 is ~64 MB);
# the smaller ones beyond join their nearest topic, or stay alone.
MAX_LINKED = 4_000
# Texts per embedder call: big enough for throughput, small enough for a live progress bar.
EMBED_BATCH = 256
MAX_EXAMPLES = 5


def record(
    path: Path,
    kind: str,
    query: str,
    language: str,
    candidates: list[dict[str, Any]],
    conversation_id: str = "",
    vector: np.ndarray | None = None,
    embedder_identity: str = "",
) -> None:
    """Appends one record. `vector`: the question's embedding, already computed for
    retrieval; kept with the record so that grouping a month of questions costs no
    embedding (~57 questions/s on a CPU without bf16 units)."""
    masked = redact(query)
    entry: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": kind,
        # Designers need the wording, never who asked: no contact details, cards or ids.
        "query": masked,
        "language": language,
        "candidates": candidates[:3],
        "conversation_id": conversation_id,
    }
    # Only the vector of a wording with nothing masked: the embedding of a question with
    # a contact detail or a card number in it says more than the masked text does.
    if vector is not None and embedder_identity and masked == query:
        entry["vector"] = encode_vector(vector)
        entry["embedder"] = embedder_identity
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


def between(
    entries: list[dict[str, Any]], start: date, end: date, language: str | None = None
) -> list[dict[str, Any]]:
    """The records of UTC days `start`..`end` (included), in `language` if given."""
    first, last = start.isoformat(), end.isoformat()
    return [
        e
        for e in entries
        if first <= str(e.get("ts", ""))[:10] <= last
        and (language is None or e.get("language") == language)
    ]


def encode_vector(vector: np.ndarray) -> str:
    """float16, base64: 384 dimensions in 1 KB of JSON; cosine error ~1e-3, far below the
    gap between paraphrases and unrelated questions (TOPIC_SIMILARITY)."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def decode_vector(text: object, dim: int) -> np.ndarray | None:
    """The unit vector `encode_vector` wrote, or None for anything else (a line written by
    hand, cut short, or by another embedder's dimension)."""
    if not isinstance(text, str) or len(text) > 4 * dim:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 * dim:
        return None
    vector = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return vector / norm


def stored_vectors(entries: list[dict[str, Any]], identity: str, dim: int) -> dict[str, np.ndarray]:
    """Wording -> vector, for the entries recorded with a vector of the embedder `identity`
    (a record from before a change of model is embedded again)."""
    found: dict[str, np.ndarray] = {}
    for entry in entries:
        if entry.get("embedder") != identity or entry["query"] in found:
            continue
        vector = decode_vector(entry.get("vector"), dim)
        if vector is not None:
            found[entry["query"]] = vector
    return found


def embed_questions(
    entries: list[dict[str, Any]], embedder: Embedder, progress: bool = False
) -> np.ndarray:
    """One vector per entry: the one recorded with it if any, else embedded now (a
    wording asked many times is embedded once)."""
    texts = [e["query"] for e in entries]
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    known = stored_vectors(entries, embedder.identity, embedder.dim)
    unique = [t for t in dict.fromkeys(texts) if t not in known]
    with tqdm(
        total=len(unique), desc="embedding", unit="q", disable=not progress, leave=False
    ) as bar:
        for at in range(0, len(unique), EMBED_BATCH):
            batch = unique[at : at + EMBED_BATCH]
            fresh = np.asarray(embedder.embed(batch), dtype=np.float32)
            known.update(zip(batch, fresh))
            bar.update(len(batch))
    return np.vstack([known[t] for t in texts])


def cluster(
    vectors: np.ndarray, threshold: float = MICRO_SIMILARITY, progress: bool = False
) -> list[list[int]]:
    """Greedy grouping in arrival order: each vector joins the group whose centroid
    (normalised mean) is closest, if at least `threshold`, else starts a group.
    Returns each group's member rows, first member first, groups in creation order.

    Centroids live in one preallocated matrix (grown by doubling) beside running sums,
    so a question costs one matrix-vector product over the groups so far: no
    re-stacking or re-summing of members per question.
    """
    count, dim = vectors.shape
    capacity = 64
    centroids = np.empty((capacity, dim), dtype=np.float32)
    sums = np.empty((capacity, dim), dtype=np.float64)
    members: list[list[int]] = []
    for i in tqdm(range(count), desc="grouping", unit="q", disable=not progress, leave=False):
        vector = vectors[i]
        groups = len(members)
        if groups:
            similarities = centroids[:groups] @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                members[best].append(i)
                sums[best] += vector
                centroids[best] = sums[best] / np.linalg.norm(sums[best])
                continue
        if groups == capacity:
            capacity *= 2
            centroids = _grown(centroids, capacity)
            sums = _grown(sums, capacity)
        centroids[groups] = vector
        sums[groups] = vector
        members.append([i])
    return members


def topics(
    vectors: np.ndarray, reference: np.ndarray | None, progress: bool = False
) -> list[list[int]]:
    """Rows grouped by topic: micro-groups of near-identical wordings (`cluster`), joined
    by average linkage on their centroids with `reference` (the KB's mean vector,
    KBIndex.mean_vector) subtracted. Each group's rows in arrival order, groups in the
    order of their first row. Without a reference the micro-groups' own mean is used,
    which splits more when one topic dominates."""
    micro = cluster(vectors, MICRO_SIMILARITY, progress)
    if len(micro) < 2:
        return micro
    centroids = np.vstack([vectors[rows].mean(axis=0) for rows in micro])
    mean = reference if reference is not None else centroids.mean(axis=0)
    centered = _unit_rows(centroids - mean)
    by_size = sorted(range(len(micro)), key=lambda g: len(micro[g]), reverse=True)
    linked, rest = by_size[:MAX_LINKED], by_size[MAX_LINKED:]
    labels = [0]
    if len(linked) > 1:
        tree = linkage(centered[linked], method="average", metric="cosine")
        labels = fcluster(tree, t=1.0 - TOPIC_SIMILARITY, criterion="distance").tolist()
    micro_of: dict[int, list[int]] = {}  # topic label -> its micro-groups
    for g, label in zip(linked, labels):
        micro_of.setdefault(int(label), []).append(g)
    joined = {label: [row for g in gs for row in micro[g]] for label, gs in micro_of.items()}
    if rest:
        tops = list(micro_of)
        heads = _unit_rows(np.vstack([centered[micro_of[t]].mean(axis=0) for t in tops]))
        for g in rest:
            similarities = heads @ centered[g]
            best = int(np.argmax(similarities))
            if similarities[best] >= TOPIC_SIMILARITY:
                joined[tops[best]].extend(micro[g])
            else:
                joined[-1 - g] = list(micro[g])
    groups = [sorted(rows) for rows in joined.values()]
    groups.sort(key=lambda rows: rows[0])
    return groups


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    # A centroid exactly at the mean has no direction; cosine distances need one.
    unit[norms[:, 0] == 0, 0] = 1.0
    return unit


def _grown(matrix: np.ndarray, rows: int) -> np.ndarray:
    bigger = np.empty((rows, matrix.shape[1]), dtype=matrix.dtype)
    bigger[: len(matrix)] = matrix
    return bigger


def summarise(
    entries: list[dict[str, Any]], clusters: list[list[int]], vectors: np.ndarray | None = None
) -> list[Group]:
    """Each cluster of entry rows as a Group; biggest first (ties: first asked first).
    With `vectors`, the representative is the wording nearest the group's centre (the
    most typical, seldom one with a typo); without, the most asked one."""
    groups = []
    for indexes in clusters:
        mine = [entries[i] for i in indexes]
        if vectors is not None:
            members = vectors[indexes]
            representative = mine[int(np.argmax(members @ members.mean(axis=0)))]["query"]
        else:
            representative = Counter(e["query"] for e in mine).most_common(1)[0][0]
        groups.append(
            Group(
                representative=representative,
                count=len(mine),
                kinds=Counter(e.get("kind", "?") for e in mine),
                languages=Counter(e.get("language", "?") for e in mine),
                examples=list(dict.fromkeys([representative] + [e["query"] for e in mine]))[
                    :MAX_EXAMPLES
                ],
                top_articles=Counter(
                    str(e["candidates"][0]["article_id"])
                    for e in mine
                    if e.get("candidates")
                    and isinstance(e["candidates"][0], dict)
                    and e["candidates"][0].get("article_id")
                ),
            )
        )
    groups.sort(key=lambda g: g.count, reverse=True)
    return groups


def group(
    entries: list[dict[str, Any]],
    embedder: Embedder,
    reference: np.ndarray | None,
    progress: bool = False,
) -> list[Group]:
    """Similar questions grouped by the KB's embedder (any language); biggest first.
    `reference`: the KB's mean vector (`topics`). `progress` shows bars on stderr (the
    CLI, on a terminal)."""
    if not entries:
        return []
    vectors = embed_questions(entries, embedder, progress)
    return summarise(entries, topics(vectors, reference, progress), vectors)

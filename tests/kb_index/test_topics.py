"""Unanswered questions grouped into topics: the fast grouping gives the same groups as
the plain greedy loop, the action server's memory of embeddings, and the topics report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

from kb_index import unanswered
from kb_index.articles import load_kb
from kb_index.embedders import Embedder
from kb_index.memo import MemoEmbedder
from kb_index.topics import topics_report, unread

QUESTIONS = [
    ("do you have job openings", "en"),
    ("채용 공고 있나요", "ko"),
    ("is there a store in Busan", "en"),
    ("are you hiring right now", "en"),
    ("求人はありますか", "ja"),
    ("부산에 매장 있어요?", "ko"),
    ("釜山に店舗はありますか", "ja"),
    ("what's the weather tomorrow", "en"),
    ("아르바이트 모집하나요", "ko"),
    ("do you sell gift cards", "en"),
    ("ギフトカードは売っていますか", "ja"),
    ("기프트카드 파나요", "ko"),
]


def reference_groups(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """The plain greedy loop (as it was before it was made fast): re-stack every
    centroid and re-sum every member, per question."""
    members: list[list[int]] = []
    centroids: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        if centroids:
            similarities = np.vstack(centroids) @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                members[best].append(i)
                total = vectors[members[best]].sum(axis=0)
                centroids[best] = total / np.linalg.norm(total)
                continue
        members.append([i])
        centroids.append(vector)
    return members


def test_same_micro_groups_as_the_plain_loop_in_ko_ja_en(embedder: Embedder) -> None:
    vectors = embedder.embed([q for q, _ in QUESTIONS])
    for threshold in (unanswered.MICRO_SIMILARITY, 0.85):
        assert unanswered.cluster(vectors, threshold) == reference_groups(vectors, threshold)


TOPIC_OF = {
    "do you have job openings": "jobs",
    "채용 공고 있나요": "jobs",
    "are you hiring right now": "jobs",
    "求人はありますか": "jobs",
    "아르바이트 모집하나요": "jobs",
    "is there a store in Busan": "busan",
    "부산에 매장 있어요?": "busan",
    "釜山に店舗はありますか": "busan",
    "what's the weather tomorrow": "weather",
    "do you sell gift cards": "gift cards",
    "ギフトカードは売っていますか": "gift cards",
    "기프트카드 파나요": "gift cards",
}


def test_topics_meet_across_languages_and_never_mix(
    embedder: Embedder, kb_mean_vector: np.ndarray
) -> None:
    """Every support question is close to every other in e5's raw space: with the KB's
    mean taken out, paraphrases in ko/ja/en meet and different topics stay apart
    (the raw 0.85 centroid put "기프트카드 파나요" with the job questions)."""
    vectors = embedder.embed([q for q, _ in QUESTIONS])
    groups = [
        [QUESTIONS[i][0] for i in rows] for rows in unanswered.topics(vectors, kb_mean_vector)
    ]
    assert all(len({TOPIC_OF[q] for q in group}) == 1 for group in groups), groups
    jobs = next(group for group in groups if "do you have job openings" in group)
    assert sorted(jobs) == sorted(q for q, topic in TOPIC_OF.items() if topic == "jobs")
    assert ["what's the weather tomorrow"] in groups
    assert sorted(q for group in groups for q in group) == sorted(TOPIC_OF)
    assert len(groups) <= 5  # 4 topics; one split at most


@pytest.mark.parametrize("threshold", [0.8, 0.85, 0.9])
def test_same_groups_as_the_plain_loop_past_the_first_allocation(threshold: float) -> None:
    """Hundreds of groups (the centroid matrix grows) and many near the threshold."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(300, 32))
    picks = rng.integers(0, len(centres), size=1500)
    noisy = centres[picks] + rng.normal(scale=0.35, size=(len(picks), 32))
    vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    fast = unanswered.cluster(vectors, threshold)
    assert len(fast) > 64
    assert fast == reference_groups(vectors, threshold)


class CountingEmbedder:
    """Deterministic vectors per text; counts what it was asked to embed."""

    identity = "counting"
    dim = 8

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_memory_embeds_a_text_once_and_forgets_the_oldest() -> None:
    inner = CountingEmbedder()
    memo = MemoEmbedder(inner, capacity=3)
    first = memo.embed(["a", "b", "a"])
    assert inner.embedded == ["a", "b"]  # "a" twice in one call is embedded once
    np.testing.assert_array_equal(first[0], first[2])
    again = memo.embed(["b", "a"])
    assert inner.embedded == ["a", "b"]
    np.testing.assert_array_equal(again, first[[1, 0]])
    memo.embed(["c", "d"])  # "b" is now the least recently used of a, b, c, d
    assert len(memo) == 3
    memo.embed(["a"])
    assert inner.embedded == ["a", "b", "c", "d"]
    memo.embed(["b"])
    assert inner.embedded == ["a", "b", "c", "d", "b"]
    assert memo.embed([]).shape == (0, 8)


def test_embedding_a_question_asked_often_once() -> None:
    inner = CountingEmbedder()
    entries = [{"query": q} for q in ["x", "y", "x", "x"]]
    vectors = unanswered.embed_questions(entries, inner)
    assert inner.embedded == ["x", "y"] and vectors.shape == (4, 8)
    np.testing.assert_array_equal(vectors[0], vectors[3])


def no_titles(article_id: str) -> str | None:
    return None


def _entry(query: str, language: str, ts: str, kind: str = "abstain") -> dict[str, object]:
    return {
        "ts": ts,
        "kind": kind,
        "query": query,
        "language": language,
        "candidates": [{"article_id": "store_locations", "score": 0.7}],
        "conversation_id": "c",
    }


def test_the_report_has_the_range_and_language_asked_for(
    tmp_path: Path, embedder: Embedder, kb_mean_vector: np.ndarray
) -> None:
    entries = [
        _entry("is there a store in Busan", "en", "2026-12-01T09:00:00Z"),
        _entry("부산에 매장 있어요?", "ko", "2026-12-02T23:59:59Z", "not_helpful"),
        _entry("釜山に店舗はありますか", "ja", "2026-12-02T10:00:00Z"),
        _entry("do you sell gift cards", "en", "2026-12-03T00:00:00Z"),  # after the range
        _entry("is there a shop in Busan", "en", "2026-11-30T23:59:59Z"),  # before it
    ]
    report = topics_report(
        entries,
        MemoEmbedder(embedder),
        date(2026, 12, 1),
        date(2026, 12, 2),
        None,
        {"store_locations": "Where are your stores?"}.get,
        kb_mean_vector,
    )
    assert report["questions"] == 3 and report["grouped"] == 3
    asked = {e for t in report["topics"] for e in t["examples"]}
    assert asked == {"is there a store in Busan", "부산에 매장 있어요?", "釜山に店舗はありますか"}
    biggest = report["topics"][0]
    assert biggest["size"] >= 2 and biggest["rank"] == 1
    assert biggest["nearest"][0] == {
        "article_id": "store_locations",
        "title": "Where are your stores?",
        "count": biggest["size"],
    }
    # each topic's draft and the whole file are KB files the loader reads
    (tmp_path / "one.yml").write_text(biggest["draft"], encoding="utf-8")
    assert [a.id for a in load_kb(tmp_path)] == [biggest["id"]]
    (tmp_path / "one.yml").unlink()
    (tmp_path / "all.yml").write_text(report["drafts"], encoding="utf-8")
    assert [a.id for a in load_kb(tmp_path)] == [t["id"] for t in report["topics"]]

    korean = topics_report(
        entries,
        MemoEmbedder(embedder),
        date(2026, 12, 1),
        date(2026, 12, 31),
        "ko",
        no_titles,
        kb_mean_vector,
    )
    assert korean["questions"] == 1
    [topic] = korean["topics"]
    assert topic["languages"] == {"ko": 1} and topic["kinds"] == {"not_helpful": 1}
    assert topic["nearest"][0]["title"] == "store_locations"  # no longer in the KB: its id
    assert yaml.safe_load(topic["draft"])["articles"][0]["questions"] == {
        "ko": ["부산에 매장 있어요?"]
    }


def test_no_questions_is_an_empty_report() -> None:
    report = topics_report(
        [],
        MemoEmbedder(CountingEmbedder()),
        date(2026, 12, 1),
        date(2026, 12, 1),
        None,
        no_titles,
        None,
    )
    assert report["topics"] == [] and report["questions"] == 0 and report["groups"] == 0
    assert yaml.safe_load(report["drafts"]) == {"articles": []}


def test_progress_bars_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    entries = [{"query": q} for q in ["x", "y", "z"]]
    unanswered.group(entries, CountingEmbedder(), None)
    assert capsys.readouterr().err == ""
    unanswered.group(entries, CountingEmbedder(), None, progress=True)
    shown = capsys.readouterr().err
    assert "embedding" in shown and "grouping" in shown


def test_a_page_load_reads_what_fits_in_its_time_and_counts_the_rest() -> None:
    """A busy range's first load on a slow CPU: what was embedded in time is grouped,
    the rest is `pending` until it is read (the action server reads it meanwhile)."""
    memo = MemoEmbedder(CountingEmbedder())
    day = "2026-12-01T10:00:00Z"
    entries = [_entry(q, "en", day) for q in ["old one", "older", "newest", "newest"]]
    memo.embed(["older"])  # read by an earlier load
    first = topics_report(
        entries, memo, date(2026, 12, 1), date(2026, 12, 1), None, no_titles, None, budget_seconds=0
    )
    assert first["questions"] == 4 and first["grouped"] == 1 and first["pending"] == 3
    assert [e for t in first["topics"] for e in t["examples"]] == ["older"]
    assert unread(entries, memo) == ["newest", "old one"]  # the newest first
    second = topics_report(
        entries,
        memo,
        date(2026, 12, 1),
        date(2026, 12, 1),
        None,
        no_titles,
        None,
        budget_seconds=60,
    )
    assert second["grouped"] == 4 and second["pending"] == 0
    assert memo.missing(["old one", "older", "newest"]) == []


def test_recorded_vectors_need_no_time_on_a_page_load() -> None:
    """Records that carry their question's vector are grouped even with no time to
    embed: only the records without one are left pending."""
    counting = CountingEmbedder()
    day = "2026-12-01T10:00:00Z"
    asked = ["주차 되나요", "駐車場ありますか", "can i park there"]
    vectors = CountingEmbedder().embed(asked)  # as the retriever computed them
    entries = [
        {
            **_entry(q, language, day),
            "vector": unanswered.encode_vector(v),
            "embedder": counting.identity,
        }
        for q, language, v in zip(asked, ["ko", "ja", "en"], vectors)
    ]
    entries.append(_entry("no vector kept", "en", day))
    report = topics_report(
        entries,
        MemoEmbedder(counting),
        date(2026, 12, 1),
        date(2026, 12, 1),
        None,
        no_titles,
        None,
        budget_seconds=0,
    )
    assert report["grouped"] == 3 and report["pending"] == 1
    assert counting.embedded == []

from pathlib import Path

from kb_index import unanswered
from kb_index.embedder import Embedder


def test_similar_questions_group_across_languages(tmp_path: Path, embedder: Embedder) -> None:
    log = tmp_path / "unanswered.jsonl"
    for query, language in [
        ("do you have job openings", "en"),
        ("are you hiring right now", "en"),
        ("채용 공고 있나요", "ko"),
        ("what's the weather tomorrow", "en"),
        ("求人はありますか", "ja"),
    ]:
        unanswered.record(log, "abstain", query, language, [{"article_id": "x", "score": 0.8}])
    with log.open("a", encoding="utf-8") as out:
        out.write('{"broken line\n')  # a crash mid-write must not hide the rest
    entries = unanswered.read(log)
    assert len(entries) == 5
    groups = unanswered.group(entries, embedder)
    biggest = groups[0]
    assert biggest.count >= 3
    assert "what's the weather tomorrow" not in biggest.examples
    assert {"en", "ko", "ja"} <= set(biggest.languages)
    assert sum(g.count for g in groups) == 5


def test_nothing_recorded_is_an_empty_report(tmp_path: Path, embedder: Embedder) -> None:
    assert unanswered.group(unanswered.read(tmp_path / "none.jsonl"), embedder) == []

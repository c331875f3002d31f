from pathlib import Path

from kb_index import unanswered
from kb_index.embedders import Embedder


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


def test_records_hold_no_personal_data_and_only_we_can_read_them(tmp_path: Path) -> None:
    log = tmp_path / "records" / "unanswered.jsonl"
    for query, language in [
        ("카드 4111-1111-1111-1111 환불 언제 돼요? 010-1234-5678 로 연락 주세요", "ko"),
        ("マイナンバーは123456789018です、メールは taro@example.jp", "ja"),
        ("call me at +1 415 555 0100, RRN 900101-1234567", "en"),
    ]:
        unanswered.record(log, "abstain", query, language, [])
    written = log.read_text(encoding="utf-8")
    for value in ("4111-1111-1111-1111", "010-1234-5678", "123456789018", "taro@example.jp"):
        assert value not in written
    assert "415 555 0100" not in written and "900101-1234567" not in written
    assert [e["query"] for e in unanswered.read(log)] == [
        "카드 ****-****-****-1111 환불 언제 돼요? ***-****-**** 로 연락 주세요",
        "マイナンバーは****-****-****です、メールは ***@***",
        "call me at ***-****-****, RRN ******-*******",
    ]
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700


def test_a_record_file_left_readable_to_all_is_made_private(tmp_path: Path) -> None:
    log = tmp_path / "unanswered.jsonl"
    log.write_text("", encoding="utf-8")
    log.chmod(0o644)
    unanswered.record(log, "clarify", "환불", "ko", [])
    assert log.stat().st_mode & 0o777 == 0o600

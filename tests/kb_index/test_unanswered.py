import json
from pathlib import Path

import numpy as np

from kb_index import unanswered
from kb_index.embedders import Embedder


def test_similar_questions_group_across_languages(
    tmp_path: Path, embedder: Embedder, kb_mean_vector: np.ndarray
) -> None:
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
    groups = unanswered.group(entries, embedder, kb_mean_vector)
    biggest = groups[0]
    assert biggest.count >= 3
    assert "what's the weather tomorrow" not in biggest.examples
    # en and ja meet; one Korean wording alone may not (e5-small's ko is the farthest:
    # test_topics.py shows it joining once a second Korean job question is there)
    assert {"en", "ja"} <= set(biggest.languages)
    assert ["what's the weather tomorrow"] in [g.examples for g in groups]
    assert sum(g.count for g in groups) == 5


def test_nothing_recorded_is_an_empty_report(tmp_path: Path, embedder: Embedder) -> None:
    assert unanswered.group(unanswered.read(tmp_path / "none.jsonl"), embedder, None) == []


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


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.dim = inner.dim
        self.embedded: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.asarray(self.inner.embed(texts), dtype=np.float32)


def test_a_recorded_vector_is_used_instead_of_the_model(tmp_path: Path, embedder: Embedder) -> None:
    log = tmp_path / "unanswered.jsonl"
    questions = ["주차장 있어요?", "駐車場はありますか", "is there parking"]
    vectors = np.asarray(embedder.embed(questions), dtype=np.float32)
    for question, language, vector in zip(questions, ["ko", "ja", "en"], vectors):
        unanswered.record(log, "abstain", question, language, [], "c1", vector, embedder.identity)
    unanswered.record(log, "abstain", "do you sell gift cards", "en", [])  # none kept
    entries = unanswered.read(log)
    assert all(len(line) < 1600 for line in log.read_text("utf-8").splitlines())

    counting = CountingEmbedder(embedder)
    grouped = unanswered.embed_questions(entries, counting)  # type: ignore[arg-type]
    assert counting.embedded == ["do you sell gift cards"]
    # float16 on disk: the same direction as the model's float32 vector
    assert np.all(np.sum(grouped[:3] * vectors, axis=1) > 0.999)


def test_a_vector_of_another_model_or_a_damaged_one_is_embedded_again(
    tmp_path: Path, embedder: Embedder
) -> None:
    log = tmp_path / "unanswered.jsonl"
    vector = np.asarray(embedder.embed(["pets allowed?"])[0], dtype=np.float32)
    unanswered.record(log, "abstain", "pets allowed?", "en", [], "c1", vector, "another-model")
    good = unanswered.encode_vector(vector)
    for damaged in (good[:-8], "not base64!", 12, unanswered.encode_vector(np.zeros(embedder.dim))):
        entry = {"ts": "2026-12-01T00:00:00Z", "kind": "abstain", "query": "can i bring my dog"}
        with log.open("a", encoding="utf-8") as out:
            out.write(
                json.dumps({**entry, "vector": damaged, "embedder": embedder.identity}) + "\n"
            )
    entries = unanswered.read(log)
    assert unanswered.stored_vectors(entries, embedder.identity, embedder.dim) == {}
    counting = CountingEmbedder(embedder)
    unanswered.embed_questions(entries, counting)  # type: ignore[arg-type]
    assert counting.embedded == ["pets allowed?", "can i bring my dog"]


def test_a_question_with_personal_data_keeps_no_vector(tmp_path: Path, embedder: Embedder) -> None:
    """Its embedding was computed from the unmasked text: it would say more than the record."""
    log = tmp_path / "unanswered.jsonl"
    question = "refund to card 4111 1111 1111 1111 please"
    vector = np.asarray(embedder.embed([question])[0], dtype=np.float32)
    unanswered.record(log, "abstain", question, "en", [], "c1", vector, embedder.identity)
    [entry] = unanswered.read(log)
    assert "vector" not in entry and "4111 1111 1111 1111" not in entry["query"]

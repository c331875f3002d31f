import time
from pathlib import Path

import pytest

from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import Embedder
from kb_index.index import KBIndex, current_version
from kb_index.watch import rebuild, snapshot

KB = """articles:
  - id: shipping
    questions: {en: [how long is delivery], ko: [배송 얼마나 걸려요], ja: [配送は何日]}
    answer: {en: "Two days.", ko: "이틀.", ja: "2日。"}
  - id: password
    questions: {en: [i forgot my password], ko: [비번 까먹었어요], ja: [パスワード忘れた]}
    answer: {en: "Reset it.", ko: "재설정하세요.", ja: "再設定を。"}
"""


@pytest.fixture()
def cached(embedder: Embedder, tmp_path: Path) -> CachingEmbedder:
    return CachingEmbedder(embedder, tmp_path / "cache")


def test_edit_is_published_and_broken_edit_keeps_the_last_good_index(
    tmp_path: Path, cached: CachingEmbedder, embedder: Embedder
) -> None:
    kb, out = tmp_path / "kb", tmp_path / "index"
    kb.mkdir()
    (kb / "a.yml").write_text(KB, encoding="utf-8")
    assert rebuild(kb, out, cached, None)
    first = current_version(out)

    before = snapshot(kb, [])
    time.sleep(0.01)
    (kb / "a.yml").write_text(KB.replace("Two days.", "Three days."), encoding="utf-8")
    assert snapshot(kb, []) != before
    assert rebuild(kb, out, cached, None)
    assert current_version(out) != first
    index = KBIndex.load(out, embedder.identity)
    assert index.articles["shipping"].answer_in("en") == "Three days."

    good = current_version(out)
    (kb / "a.yml").write_text(KB.replace("- id: password", "- id: [broken"), encoding="utf-8")
    assert not rebuild(kb, out, cached, None)
    assert current_version(out) == good


def test_cache_embeds_each_text_once(embedder: Embedder, tmp_path: Path) -> None:
    calls: list[int] = []

    class Counting:
        identity = embedder.identity
        dim = embedder.dim

        def embed(self, texts: list[str]):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return embedder.embed(texts)

    cached = CachingEmbedder(Counting(), tmp_path)
    first = cached.embed(["a", "b", "a"])
    cached.save()
    again = CachingEmbedder(Counting(), tmp_path).embed(["b", "a", "c"])
    assert calls == [2, 1]  # "a" and "b" once, then only "c"
    assert (again[1] == first[0]).all()

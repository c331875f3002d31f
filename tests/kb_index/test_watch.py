import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from kb_index.build import calibration_key
from kb_index.calibration import fit_calibration
from kb_index.embed_cache import CachingEmbedder
from kb_index.embedders import Embedder
from kb_index.index import KBIndex, current_version
from kb_index.watch import Calibrations, rebuild, snapshot
from stack.settings import Settings

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
    """A cache of its own, seeded with the project's: the shipped out-of-scope examples
    every build embeds are in it already (make test builds the index first)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for saved in (Settings.from_env().kb_index_dir.parent / "embed-cache").glob("*.npz"):
        shutil.copy(saved, cache)
    return CachingEmbedder(embedder, cache)


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


def _calibratable_kb() -> str:
    """A KB just big enough to calibrate itself (ten held-out variants at least)."""
    topics = {
        "shipping": (
            ["how long is delivery", "when does my order arrive"],
            ["배송 얼마나 걸려요", "언제 와요"],
            ["配送は何日", "いつ届く"],
        ),
        "password": (
            ["i forgot my password", "cant log in"],
            ["비번 까먹었어요", "로그인이 안돼요"],
            ["パスワード忘れた", "ログインできない"],
        ),
        "refund": (
            ["how do i get a refund", "money back please"],
            ["환불 어떻게 해요", "돈 돌려받고 싶어요"],
            ["返金してほしい", "払い戻し方法"],
        ),
        "size": (
            ["which size should i buy", "size chart"],
            ["사이즈 뭐 사야돼요", "치수표 있나요"],
            ["サイズ表ある？", "どのサイズがいい"],
        ),
        "coupon": (
            ["my coupon doesnt work", "promo code error"],
            ["쿠폰이 안 먹혀요", "할인코드 오류"],
            ["クーポン使えない", "割引コードがエラー"],
        ),
    }
    lines = ["articles:"]
    for article, (en, ko, ja) in topics.items():
        lines += [
            f"  - id: {article}",
            f"    questions: {{en: [{', '.join(en)}], ko: [{', '.join(ko)}], ja: [{', '.join(ja)}]}}",
            f'    answer: {{en: "About {article}.", ko: "{article} 안내.", ja: "{article}の案内。"}}',
        ]
    return "\n".join(lines) + "\n"


def test_an_undone_edit_takes_its_calibration_again_without_fitting(
    tmp_path: Path, cached: CachingEmbedder, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits: list[int] = []

    def counting_fit(*args: Any, **kwargs: Any) -> Any:
        fits.append(1)
        return fit_calibration(*args, **kwargs)

    monkeypatch.setattr("kb_index.build.fit_calibration", counting_fit)
    kb, out = tmp_path / "kb", tmp_path / "index"
    kb.mkdir()
    original = _calibratable_kb()
    (kb / "a.yml").write_text(original, encoding="utf-8")
    known = Calibrations()

    assert rebuild(kb, out, cached, None, known)
    first = KBIndex.load(out, embedder.identity)
    assert first.calibration is not None
    assert first.calibration_key == calibration_key(kb, embedder.identity, None)
    assert len(fits) == 1

    (kb / "a.yml").write_text(original.replace("money back please", "refund pls"), "utf-8")
    assert rebuild(kb, out, cached, None, known)
    edited = KBIndex.load(out, embedder.identity)
    assert len(fits) == 2  # new inputs: fitted afresh
    assert edited.calibration_key not in (None, first.calibration_key)

    (kb / "a.yml").write_text(original, encoding="utf-8")  # the edit undone
    assert rebuild(kb, out, cached, None, known)
    restored = KBIndex.load(out, embedder.identity)
    assert len(fits) == 2  # not fitted again
    assert restored.version != edited.version
    assert restored.calibration == first.calibration
    assert restored.calibration_key == first.calibration_key
    assert "money back please" in {v.text for v in restored.variants}


def test_the_calibration_key_follows_the_content_not_the_folder(
    tmp_path: Path, embedder: Embedder
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    for folder in (here, there):
        folder.mkdir()
        (folder / "a.yml").write_text(KB, encoding="utf-8")
    key = calibration_key(here, embedder.identity, None)
    assert calibration_key(there, embedder.identity, None) == key
    (there / "a.yml").write_text(KB.replace("Two days.", "Three days."), encoding="utf-8")
    assert calibration_key(there, embedder.identity, None) != key
    assert calibration_key(here, "another-embedder", None) != key
    assert calibration_key(here, embedder.identity, None, target_accuracy=0.9) != key
    (here / "b.yml").write_text("articles: []\n", encoding="utf-8")
    assert calibration_key(here, embedder.identity, None) != key

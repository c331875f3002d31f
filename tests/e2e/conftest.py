"""The real stack (Rasa, action server, gateway) started once for the e2e tests.

Ports are picked free at start so a `make run` on the same machine does not
collide; the conversation database is a fresh temporary file.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_index.articles import Article, load_kb
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT, Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = Settings.from_env().replace(
        gateway_port=free_port(),
        rasa_port=free_port(),
        action_port=free_port(),
        db_path=tmp_path_factory.mktemp("gateway") / "handoff.sqlite3",
        log_dir=PROJECT_ROOT / "var" / "log" / "test",
    )
    for needed, make_target in ((settings.model_path, "train"), (settings.kb_index_dir, "kb-index")):
        if not Path(needed).exists():
            pytest.fail(f"{needed} is missing: run `make {make_target}` (make test does it)")
    stack = Stack(settings)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def gateway_url(live_stack: Stack) -> str:
    return live_stack.settings.gateway_url


@pytest.fixture(scope="session")
def kb_articles() -> dict[str, Article]:
    return {a.id: a for a in load_kb(Settings().kb_dir)}

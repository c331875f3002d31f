"""The real stack (Rasa, action server, gateway) started once for the e2e tests.

Ports are picked free at start so a `make run` on the same machine does not
collide; the conversation database is a fresh temporary file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_index.articles import Article, load_kb
from stack.launcher import Stack
from stack.settings import PROJECT_ROOT, Settings
from tests.e2e.isolated import add_agent, isolated_settings


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack on free ports, with its own copies of the KB and its index, so
    tests may edit the KB while the real one stays untouched."""
    defaults = Settings.from_env()
    for needed, make_target in (
        (defaults.model_path, "train"),
        (defaults.kb_index_dir, "kb-index"),
    ):
        if not Path(needed).exists():
            pytest.fail(f"{needed} is missing: run `make {make_target}` (make test does it)")
    settings = isolated_settings(
        tmp_path_factory.mktemp("stack"), PROJECT_ROOT / "var" / "log" / "test"
    ).replace(
        # Low, so that giving up on a crashing program can be tested quickly; the
        # session crashes Rasa on purpose fewer times than this.
        crash_limit=3,
    )
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


AGENT_PASSWORD = "correct-horse-battery"
# username -> (languages, capacity); none has the "billing" skill.
TEST_AGENTS = {"alice": ("ko,ja,en", 3), "bob": ("ko,ja,en", 1), "kenji": ("ja", 2)}


@pytest.fixture(scope="session")
def agents(live_stack: Stack) -> dict[str, str]:
    """Agents created the documented way, with the command line."""
    for username, (languages, capacity) in TEST_AGENTS.items():
        options = ("--languages", languages, "--capacity", str(capacity))
        add_agent(live_stack.settings, username, AGENT_PASSWORD, *options)
    return {username: AGENT_PASSWORD for username in TEST_AGENTS}

"""What the stack writes is for its own user only: files 0600, folders 0700, also those
an older version left readable to all."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stack import launcher
from stack.launcher import keep_private, program_specs, stack_files
from stack.settings import PROJECT_ROOT, Settings
from stack.supervisor import render_config


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_every_program_gets_a_private_umask(tmp_path: Path) -> None:
    settings = Settings(run_dir=tmp_path / "run", log_dir=tmp_path / "log")
    files = stack_files(settings)
    specs = program_specs(settings, files)
    parsed = configparser.RawConfigParser()
    parsed.read_string(
        render_config(list(specs.values()), files, settings, {n: tmp_path / n for n in specs})
    )
    for name in specs:
        assert parsed[f"program:{name}"]["umask"] == "077"


def test_files_and_folders_left_open_are_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "var"
    settings = Settings(
        db_path=state / "handoff.sqlite3",
        rasa_tracker_db=state / "trackers" / "rasa.sqlite3",
        unanswered_path=state / "unanswered.jsonl",
        run_dir=state / "run",
        log_dir=state / "log",
    )
    state.mkdir(mode=0o755)
    (state / "log").mkdir(mode=0o755)
    (state / "run").mkdir(mode=0o755)  # left readable to all by an older version
    opened = [
        settings.db_path,
        settings.db_path.with_name("handoff.sqlite3-wal"),
        settings.unanswered_path,
        state / "log" / "gateway-8080.log",
    ]
    for path in opened:
        path.write_text("", encoding="utf-8")
        path.chmod(0o644)
    # The project's own var/ stands in for tmp_path/var.
    monkeypatch.setattr(launcher, "PROJECT_ROOT", tmp_path)
    keep_private(settings, [state / "log" / "gateway-8080.log", state / "log" / "rasa.log"])
    assert [_mode(p) for p in opened] == [0o600] * len(opened)
    for folder in (state, state / "log", state / "run", state / "trackers"):
        assert _mode(folder) == 0o700, folder
    assert not (state / "log" / "rasa.log").exists()  # nothing is created by it


def test_a_shared_folder_is_left_as_it_is(tmp_path: Path) -> None:
    """ASSISTANT_LOG_DIR=/var/log must not close /var/log to everyone else."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    fresh = tmp_path / "fresh"
    settings = Settings(
        log_dir=shared,
        run_dir=fresh / "run",
        db_path=fresh / "handoff.sqlite3",
        rasa_tracker_db=fresh / "trackers.sqlite3",
        unanswered_path=fresh / "unanswered.jsonl",
    )
    keep_private(settings, [])
    assert _mode(shared) == 0o755
    assert _mode(fresh / "run") == 0o700  # made here: ours


def test_the_gateway_command_line_creates_a_private_database(tmp_path: Path) -> None:
    """`python -m handoff agents add` is often the first to create the database."""
    db = tmp_path / "state" / "handoff.sqlite3"
    env = {
        **os.environ,
        **Settings(db_path=db).to_env(),
        "AGENT_PASSWORD": "a long enough secret",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "handoff", "agents", "add", "mina", "--languages", "ko"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    assert _mode(db) == 0o600
    assert _mode(db.parent) == 0o700
    for journal in db.parent.glob("handoff.sqlite3-*"):
        assert _mode(journal) == 0o600, journal

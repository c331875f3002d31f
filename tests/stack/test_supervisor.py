"""supervisord's generated configuration: every program restarted, contained, logged,
stopped as a group, and no secret written into the file."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from stack.launcher import program_specs, rasa_endpoints, stack_files
from stack.settings import Settings
from stack.supervisor import DUMB_INIT, namespace_prefixes, render_config

SECRET = "s3cret-token-%-value"
ACTION_SECRET = "act10n-secret-%-value"


@pytest.fixture
def config(tmp_path: Path) -> configparser.RawConfigParser:
    settings = Settings(
        rasa_auth_token=SECRET,
        action_auth_token=ACTION_SECRET,
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "log",
    )
    files = stack_files(settings)
    specs = program_specs(settings, files)
    text = render_config(
        list(specs.values()), files, settings, {n: tmp_path / f"{n}.log" for n in specs}
    )
    assert SECRET not in text and "s3cret" not in text
    assert "act10n" not in text
    parsed = configparser.RawConfigParser()
    parsed.read_string(text)
    return parsed


@pytest.mark.parametrize("name", ["actions", "rasa", "gateway", "kb-watch"])
def test_every_program_is_restarted_and_stopped_as_a_group(
    config: configparser.RawConfigParser, name: str
) -> None:
    section = config[f"program:{name}"]
    assert section["autorestart"] == "true"
    assert section["stopasgroup"] == section["killasgroup"] == "true"
    assert section["redirect_stderr"] == "true"
    assert section["stdout_logfile"].endswith(f"{name}.log")


def test_programs_run_in_their_own_pid_namespace_under_dumb_init(
    config: configparser.RawConfigParser,
) -> None:
    _, inner = namespace_prefixes()
    assert inner, "this machine allows no PID namespaces: `unshare --pid --fork true` fails"
    command = shlex.split(config["program:actions"]["command"])
    assert command[: len(inner)] == inner
    assert command[len(inner) : len(inner) + 2] == [str(DUMB_INIT), "--"]
    server = command.index("stack.action_server")
    assert command[server : server + 5] == [
        "stack.action_server",
        *("--actions", "actions", "--port", "5055"),
    ]


def test_the_crash_guard_listens_for_exits(config: configparser.RawConfigParser) -> None:
    guard = config["eventlistener:crash-guard"]
    assert guard["events"] == "PROCESS_STATE_EXITED"
    assert "--limit 5" in guard["command"] and "--window 600.0" in guard["command"]


def test_the_control_socket_is_private(config: configparser.RawConfigParser) -> None:
    assert config["unix_http_server"]["chmod"] == "0700"
    assert config["supervisord"]["umask"] == "077"


def test_rasa_keeps_its_trackers_in_a_file(tmp_path: Path) -> None:
    settings = Settings(rasa_tracker_db=tmp_path / "trackers.sqlite3")
    store = rasa_endpoints(settings)["tracker_store"]
    assert store == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "trackers.sqlite3")}


def test_rasa_sends_the_action_server_secret_from_its_environment() -> None:
    """The endpoints file names the variable; Rasa fills it in when it reads the file."""
    settings = Settings(action_auth_token=ACTION_SECRET, action_port=5099)
    endpoint = rasa_endpoints(settings)["action_endpoint"]
    assert endpoint == {
        "url": "http://127.0.0.1:5099/webhook",
        "headers": {"Authorization": "Bearer ${ASSISTANT_ACTION_AUTH_TOKEN}"},
    }
    assert ACTION_SECRET not in str(endpoint)

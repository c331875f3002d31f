"""The stack's processes under supervisord: one generated configuration, one control socket.

supervisord (a kept process supervisor, http://supervisord.org) does the supervising:
it restarts a program that dies, backs off while a program keeps failing to start and
gives up on it after `startretries` (state FATAL), keeps one rotated log per program,
and stops everything in reverse priority order. Our event listener, `stack.crash_guard`,
adds the one policy supervisord lacks: give up on a program that keeps crashing after it
had started (N crashes within a window).

Containment is the kernel's, not ours. supervisord is the first process of a PID
namespace of its own, and every program runs as the child of `dumb-init` (a kept minimal
init from PyPI) at the top of a PID namespace of its own. When a process that is the
first of a PID namespace dies, the kernel kills everything left in that namespace:

- a program that dies takes its worker subprocesses with it (rasa-sdk's Sanic worker and
  its multiprocessing helpers used to survive with parent 1, holding the port);
- supervisord or the launcher killed outright (`kill -9`) takes the whole stack with it,
  so the next `make run` starts on free ports.
"""

from __future__ import annotations

import configparser
import functools
import io
import shlex
import shutil
import subprocess
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from stack.settings import APP_VENV, PROJECT_ROOT, Settings

DUMB_INIT = APP_VENV / "bin" / "dumb-init"
SUPERVISORD = APP_VENV / "bin" / "supervisord"
SUPERVISORCTL = APP_VENV / "bin" / "supervisorctl"
_NAMESPACE_FLAGS = ["--pid", "--fork", "--kill-child"]


@dataclass(frozen=True)
class ProgramSpec:
    """One supervised program of the stack."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # on top of supervisord's environment
    port: int = 0
    port_variable: str = ""  # the ASSISTANT_* variable that moves it
    health_url: str = ""  # empty: running is healthy
    priority: int = 500  # started in ascending, stopped in descending order
    # Seconds a program must stay up to count as started; dying sooner means
    # supervisord's back-off and, after `startretries`, FATAL.
    start_seconds: int = 3
    stop_wait_seconds: int = 15


@functools.lru_cache(maxsize=1)
def namespace_prefixes() -> tuple[list[str], list[str]]:
    """(`unshare` for supervisord, `unshare` for each program), or two empty lists when
    this machine allows no PID namespaces. Root needs none; anyone else gets one through a
    user namespace, inside which nested PID namespaces need no further privilege."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return [], []
    for outer in (_NAMESPACE_FLAGS, ["--user", "--map-root-user", *_NAMESPACE_FLAGS]):
        try:
            subprocess.run([unshare, *outer, "true"], check=True, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        return [unshare, *outer], [unshare, *_NAMESPACE_FLAGS]
    return [], []


def contained_command(argv: list[str]) -> list[str]:
    """A program's command line inside its own PID namespace, under dumb-init, which
    passes signals on to the program and exits with its status."""
    _, inner = namespace_prefixes()
    if not inner:
        return argv
    return [*inner, str(DUMB_INIT), "--", *argv]


def _ini_value(value: str) -> str:
    # supervisord expands %(name)s in its configuration: a literal % is doubled.
    return value.replace("%", "%%")


def _environment_line(env: dict[str, str]) -> str:
    items = []
    for key, value in sorted(env.items()):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        items.append(f'{key}="{_ini_value(escaped)}"')
    return ",".join(items)


def _command_line(argv: list[str]) -> str:
    return _ini_value(shlex.join(argv))


@dataclass(frozen=True)
class SupervisorFiles:
    """Where one stack's supervisord keeps its socket, configuration and logs."""

    run_dir: Path
    log_dir: Path
    name: str  # distinguishes stacks on one machine (their gateway port)

    @property
    def config(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def socket(self) -> Path:
        return self.run_dir / "supervisor.sock"

    @property
    def log(self) -> Path:
        return self.log_dir / f"supervisord-{self.name}.log"

    @property
    def crash_guard_log(self) -> Path:
        return self.log_dir / f"crash-guard-{self.name}.log"


def render_config(
    programs: list[ProgramSpec],
    files: SupervisorFiles,
    settings: Settings,
    log_path: dict[str, Path],
) -> str:
    """supervisord's configuration for these programs. It holds no secrets: those reach
    the programs through supervisord's own environment."""
    config = configparser.RawConfigParser()
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config["supervisord"] = {
        "nodaemon": "true",
        "silent": "true",
        "logfile": _ini_value(str(files.log)),
        "logfile_maxbytes": "10MB",
        "logfile_backups": "3",
        "pidfile": _ini_value(str(files.run_dir / "supervisord.pid")),
        "directory": _ini_value(str(PROJECT_ROOT)),
        "childlogdir": _ini_value(str(files.log_dir)),
        "identifier": f"assistant-{files.name}",
        "umask": "077",
    }
    config["unix_http_server"] = {"file": _ini_value(str(files.socket)), "chmod": "0700"}
    config["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
    }
    config["supervisorctl"] = {"serverurl": _ini_value(f"unix://{files.socket}")}
    for program in programs:
        section: dict[str, str] = {
            "command": _command_line(contained_command(program.argv)),
            "directory": _ini_value(str(PROJECT_ROOT)),
            "priority": str(program.priority),
            "autostart": "true",
            # Any exit that supervisord did not ask for is a crash to recover from.
            "autorestart": "true",
            "startsecs": str(program.start_seconds),
            "startretries": "5",
            "stopsignal": "TERM",
            "stopwaitsecs": str(program.stop_wait_seconds),
            # The signal goes to dumb-init (which passes it on); `unshare` ignores it.
            "stopasgroup": "true",
            "killasgroup": "true",
            "redirect_stderr": "true",
            "stdout_logfile": _ini_value(str(log_path[program.name])),
            "stdout_logfile_maxbytes": "20MB",
            "stdout_logfile_backups": "3",
            # What the program writes (databases, trackers, records) is ours alone.
            "umask": "077",
        }
        if program.env:
            section["environment"] = _environment_line(program.env)
        config[f"program:{program.name}"] = section
    config["eventlistener:crash-guard"] = {
        "command": _command_line(
            [
                str(APP_VENV / "bin" / "python"),
                "-m",
                "stack.crash_guard",
                "--limit",
                str(settings.crash_limit),
                "--window",
                str(settings.crash_window_seconds),
            ]
        ),
        "directory": _ini_value(str(PROJECT_ROOT)),
        "events": "PROCESS_STATE_EXITED",
        "priority": "1",
        "autorestart": "true",
        "environment": _environment_line({"PYTHONPATH": str(PROJECT_ROOT)}),
        "stdout_logfile": "NONE",  # stdout is the event protocol
        "stderr_logfile": _ini_value(str(files.crash_guard_log)),
        "stderr_logfile_maxbytes": "5MB",
    }
    out = io.StringIO()
    config.write(out)
    return out.getvalue()


class SupervisorClient:
    """supervisord's XML-RPC interface over its Unix socket (one connection per call)."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def _call(self, method: str, *args: object) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        try:
            proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
            return getattr(proxy.supervisor, method)(*args)
        finally:
            transport.close()

    def state(self) -> str:
        return str(self._call("getState")["statename"])

    def processes(self) -> dict[str, dict[str, Any]]:
        infos = cast(list[dict[str, Any]], self._call("getAllProcessInfo"))
        return {info["name"]: info for info in infos}

    def process(self, name: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("getProcessInfo", name))

    def start(self, name: str, wait: bool = False) -> None:
        self._call("startProcess", name, wait)

    def stop(self, name: str) -> None:
        try:
            self._call("stopProcess", name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise

    def shutdown(self) -> None:
        self._call("shutdown")

"""Starts, watches and stops the stack: Rasa, the action server, the gateway, the KB watcher.

`make run`, the end-to-end tests and the benchmarks all use this one launcher, so what
is tested is what runs. The launcher does not supervise: supervisord does
(stack/supervisor.py), restarting whatever dies. The launcher writes supervisord's
configuration, starts it, waits until every program answers its health check, prints
what happens (a crash, a recovery, a give-up) and, on Ctrl-C or SIGTERM, has supervisord
stop everything in order: the front door first.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

import psutil
import yaml

from common import jsonlog
from stack import shared_stores
from stack.crash_guard import GAVE_UP_MARK
from stack.settings import (
    APP_VENV,
    PRIVATE_UMASK,
    PROJECT_ROOT,
    RASA_ENV,
    RASA_VENV,
    Settings,
)
from stack.supervisor import (
    DUMB_INIT,
    SUPERVISORD,
    ProgramSpec,
    SupervisorClient,
    SupervisorFiles,
    namespace_prefixes,
    render_config,
)

_PR_SET_PDEATHSIG = 1
_RUNNING_STATES = {"STARTING", "RUNNING"}


class StackError(RuntimeError):
    """A process would not start or stay up; the message says which and why."""


def _set_parent_death_signal(signum: int) -> None:
    """Ask the kernel to send `signum` to this process when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    _set_parent_death_signal(signal.SIGKILL)


def _private(path: str, flags: int) -> int:
    """An `open` opener: a file created for this user only (customer data in logs)."""
    return os.open(path, flags, 0o600)


def keep_private(settings: Settings, files: list[Path]) -> None:
    """The stack's folders 0700 and these files 0600, also when an older version (or
    another umask) created them readable to all. New files get PRIVATE_UMASK."""
    folders = {
        settings.log_dir,
        settings.run_dir,
        settings.db_path.parent,
        settings.rasa_tracker_db.parent,
        settings.unanswered_path.parent,
    }
    ours = PROJECT_ROOT / "var"
    for folder in sorted(folders):
        # What is made here is private, missing parents too (`mkdir -p` ignores `mode`);
        # an existing folder only inside var/: a shared one (/tmp, /var/log) is left open.
        made = [p for p in (folder, *folder.parents) if not p.exists()]
        kept = [p for p in (folder, *folder.parents) if p == ours or ours in p.parents]
        for path in reversed(made):
            path.mkdir(mode=0o700, exist_ok=True)
        for path in {*made, *kept}:
            with contextlib.suppress(OSError):
                path.chmod(0o700)
    stores = [settings.db_path, settings.rasa_tracker_db, settings.unanswered_path]
    journals = [p.with_name(p.name + s) for p in stores for s in ("-wal", "-shm", "-journal")]
    for path in [*stores, *journals, *files]:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.chmod(0o600)


def with_auth_token(settings: Settings) -> Settings:
    """Rasa's API is only for the gateway, the action server only for Rasa and the
    gateway: give each a fresh secret unless one is set. Both reach the programs through
    supervisord's environment (`Settings.to_env`), never a command line."""
    if not settings.rasa_auth_token:
        settings = settings.replace(rasa_auth_token=secrets.token_urlsafe(24))
    if not settings.action_auth_token:
        settings = settings.replace(action_auth_token=secrets.token_urlsafe(24))
    return settings


def stack_files(settings: Settings) -> SupervisorFiles:
    """One stack per gateway port, so tests and benchmarks can run beside `make run`."""
    name = str(settings.gateway_port)
    return SupervisorFiles(settings.run_dir / f"stack-{name}", settings.log_dir, name)


def running_supervisord(files: SupervisorFiles) -> psutil.Process | None:
    """The supervisord (or the `unshare` that started it) of the stack these files
    belong to, as this machine numbers it; None when none runs."""
    config = str(files.config)
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if config in command and any(Path(part).name == "supervisord" for part in command):
            return process
    return None


def program_host_pid(supervisord: psutil.Process, supervisor_pid: int) -> int:
    """A program's own process as this machine numbers it, from the pid supervisord
    gives it. supervisord counts inside its own PID namespace (the kernel lists each
    process's number in every namespace it is in: NSpid), and a contained program runs
    below `unshare` and `dumb-init`, which are skipped."""
    if not supervisor_pid:
        raise StackError("that program is not running")
    pid = supervisor_pid
    # `supervisord` may be the `unshare` that started it in a PID namespace of its own.
    if supervisord.name() == "unshare" or len(_namespace_pids(supervisord.pid)) > 1:
        pid = _outer_pid(supervisord, supervisor_pid)
    wrappers = {"unshare", DUMB_INIT.name}
    process = psutil.Process(pid)
    while process.name() in wrappers:
        children = process.children()
        if not children:
            break
        process = children[0]
    return int(process.pid)


def _outer_pid(supervisord: psutil.Process, supervisor_pid: int) -> int:
    for process in supervisord.children(recursive=True):
        numbers = _namespace_pids(process.pid)
        if len(numbers) >= 2 and numbers[1] == supervisor_pid:
            return int(process.pid)
    raise StackError(f"no process with supervisord's pid {supervisor_pid}")


def _namespace_pids(pid: int) -> list[int]:
    """The process's number in each PID namespace it is in, outermost first (the
    kernel's NSpid line); one number: it is in this machine's namespace only."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return []
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return [int(n) for n in line.split()[1:]]
    return []


def rasa_endpoints(settings: Settings) -> dict[str, Any]:
    """Rasa's endpoints for `rasa run`: the action server, and trackers kept in a file
    (bot/endpoints.yml stays the designers' file for `rasa shell` and `rasa test`).
    The action server's secret goes in a header Rasa fills from its environment when it
    reads the file (`${...}`, unquoted), so the file itself holds no secret.
    With ASSISTANT_DATABASE_URL / ASSISTANT_REDIS_URL set, trackers are on that PostgreSQL
    and locks on that Redis, so any Rasa server can continue any conversation; their
    passwords come from the environment the same way (stack/shared_stores.py)."""
    endpoints: dict[str, Any] = {
        "action_endpoint": {
            "url": f"{settings.action_url}/webhook",
            # Settings.action_auth_token, as Settings.to_env names it.
            "headers": {"Authorization": "Bearer ${ASSISTANT_ACTION_AUTH_TOKEN}"},
        },
        "tracker_store": shared_stores.rasa_tracker_store(settings),
    }
    lock_store = shared_stores.rasa_lock_store(settings)
    if lock_store is not None:
        endpoints["lock_store"] = lock_store
    return endpoints


def rasa_logging_config(settings: Settings) -> dict[str, Any]:
    """Rasa's --logging-config-file: its records, and Sanic's, through our formatter
    (common/jsonlog.py) in ASSISTANT_LOG_FORMAT, with the conversation id that
    bot/gateway_channel.py sets for each message. A wrong format is a StackError."""
    try:
        # bot/: our channel's and components' records (Rasa sets its own `rasa` level).
        return jsonlog.dict_config(
            settings.log_format,
            "rasa",
            own_loggers=["bot"],
            filters=["bot.log_filters.ActionServerDown"],
        )
    except ValueError as exc:
        raise StackError(f"ASSISTANT_LOG_FORMAT: {exc}") from None


def program_specs(settings: Settings, files: SupervisorFiles) -> dict[str, ProgramSpec]:
    app_python = str(APP_VENV / "bin" / "python")
    actions = ProgramSpec(
        name="actions",
        argv=[
            app_python,
            "-m",
            # rasa-sdk's server behind a secret check (ASSISTANT_ACTION_AUTH_TOKEN).
            "stack.action_server",
            "--actions",
            "actions",
            "--port",
            str(settings.action_port),
            # rasa-sdk reads its tracing settings from here (none unless a designer adds a
            # `tracing:` section); without it, it looks for ./endpoints.yml and logs an error.
            "--endpoints",
            str(PROJECT_ROOT / "bot" / "endpoints.yml"),
        ],
        # rasa-sdk binds 0.0.0.0 unless told otherwise.
        env={"SANIC_HOST": settings.host},
        port=settings.action_port,
        port_variable="ASSISTANT_ACTION_PORT",
        health_url=f"{settings.action_url}/health",
        priority=100,
        start_seconds=5,
    )
    rasa = ProgramSpec(
        name="rasa",
        # bot/serve.py adds the API token from the environment: argv is visible in `ps`.
        argv=[
            str(RASA_VENV / "bin" / "python"),
            "-m",
            "bot.serve",
            "run",
            "--model",
            str(settings.model_path),
            "--endpoints",
            str(files.run_dir / "endpoints.yml"),
            # Rasa's records in the stack's log format (rasa_logging_config).
            "--logging-config-file",
            str(files.run_dir / "logging.yml"),
            "--credentials",
            "bot/credentials.yml",
            "--enable-api",
            "--interface",
            settings.host,
            "--port",
            str(settings.rasa_port),
        ],
        env=dict(RASA_ENV),
        port=settings.rasa_port,
        port_variable="ASSISTANT_RASA_PORT",
        health_url=f"{settings.rasa_url}/status?token={settings.rasa_auth_token}",
        priority=200,
        # Loading the model takes most of this; dying sooner is a failed start.
        start_seconds=20,
    )
    # Rebuilds the KB index on every edit of data/kb; the action server swaps it in.
    kb_watch = ProgramSpec(
        name="kb-watch",
        argv=[app_python, "-m", "kb_index", "watch"],
        priority=300,
    )
    # One gateway, or ASSISTANT_GATEWAY_REPLICAS of them on consecutive ports (they share
    # PostgreSQL and Redis: stack/shared_stores.py checks both are set).
    gateways = [
        ProgramSpec(
            name=gateway_name(replica),
            argv=[app_python, "-m", "handoff"],
            env={"ASSISTANT_GATEWAY_PORT": str(port)} if replica else {},
            port=port,
            port_variable="ASSISTANT_GATEWAY_PORT",
            health_url=f"http://{settings.host}:{port}/healthz",
            priority=400 + replica,
        )
        for replica, port in enumerate(gateway_ports(settings))
    ]
    return {spec.name: spec for spec in (actions, rasa, kb_watch, *gateways)}


def gateway_ports(settings: Settings) -> list[int]:
    return [settings.gateway_port + replica for replica in range(settings.gateway_replicas)]


def replicas_line(settings: Settings) -> str:
    """The other gateways' addresses, for the console (a load balancer goes in front)."""
    ports = gateway_ports(settings)[1:]
    if not ports:
        return ""
    others = " ".join(f"http://{settings.host}:{port}/" for port in ports)
    return f"  more gateways   {others}  (same product: share them behind a load balancer)\n"


def gateway_name(replica: int) -> str:
    """`gateway`, then `gateway-2`, `gateway-3`, ... (supervisord's program names)."""
    return "gateway" if replica == 0 else f"gateway-{replica + 1}"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> str:
    """Who listens on `port`, as 'pid N (command line)', for an error message."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return "another process"
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if not conn.pid:
                return "a process of another user"
            try:
                command = " ".join(psutil.Process(conn.pid).cmdline())
            except psutil.Error:
                command = "?"
            return f"pid {conn.pid} ({command[:160]})"
    return "another process"


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Stack:
    """One running stack (one set of ports) under its own supervisord."""

    def __init__(self, settings: Settings) -> None:
        self.settings = with_auth_token(settings)
        self.files = stack_files(self.settings)
        self.specs = program_specs(self.settings, self.files)
        self.supervisor = SupervisorClient(self.files.socket)
        self.names: list[str] = []
        self._supervisord: subprocess.Popen[bytes] | None = None
        self._supervisord_out: IO[bytes] | None = None
        # Programs stopped on request (a test, Ctrl-C): not crashes to report.
        self._stopped_on_purpose: set[str] = set()
        self._down_since: dict[str, float] = {}
        self._last_pid: dict[str, int] = {}
        self._reported: set[str] = set()

    # -- files ------------------------------------------------------------------

    def log_path(self, name: str) -> Path:
        spec = self.specs[name]
        suffix = spec.port or self.settings.gateway_port
        return self.settings.log_dir / f"{name}-{suffix}.log"

    def tail(self, name: str, lines: int = 25) -> str:
        path = self.files.log if name == "supervisord" else self.log_path(name)
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _write_files(self, names: list[str]) -> None:
        keep_private(self.settings, [self.log_path(n) for n in names])
        for folder in (self.files.run_dir, self.settings.log_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        endpoints = self.files.run_dir / "endpoints.yml"
        endpoints.write_text(yaml.safe_dump(rasa_endpoints(self.settings)), encoding="utf-8")
        endpoints.chmod(0o600)
        logging_config = self.files.run_dir / "logging.yml"
        logging_config.write_text(
            yaml.safe_dump(rasa_logging_config(self.settings)), encoding="utf-8"
        )
        logging_config.chmod(0o600)
        config = render_config(
            [self.specs[n] for n in names],
            self.files,
            self.settings,
            {n: self.log_path(n) for n in names},
        )
        self.files.config.write_text(config, encoding="utf-8")
        self.files.config.chmod(0o600)

    # -- start ------------------------------------------------------------------

    def start(self, names: list[str] | None = None, timeout: float = 240.0) -> None:
        """Start the named programs (default: all) and wait until each is healthy."""
        names = names or list(self.specs)
        self.check_shared_stores()
        for name in names:
            spec = self.specs[name]
            if spec.port and not port_is_free(self.settings.host, spec.port):
                raise StackError(
                    f"port {spec.port} for {name} is taken by {port_owner(spec.port)}. "
                    f"Stop that process, or set {spec.port_variable} to another port."
                )
        if not DUMB_INIT.exists() or not SUPERVISORD.exists():
            raise StackError("the app environment lacks supervisor/dumb-init: run `make setup`")
        self.names = names
        self._write_files(names)
        self._spawn_supervisord()
        self.wait_healthy(names, timeout)
        for name in names:
            self._last_pid[name] = int(self.supervisor.process(name)["pid"])
        if "actions" in names:
            self.warm_up_actions()

    def check_shared_stores(self) -> None:
        """A wrong ASSISTANT_DATABASE_URL / ASSISTANT_REDIS_URL or an unreachable server:
        a StackError naming the variable and the address (never the password)."""
        try:
            shared_stores.check(self.settings)
        except shared_stores.SharedStoreError as exc:
            raise StackError(str(exc)) from None

    def _spawn_supervisord(self) -> None:
        outer, _ = namespace_prefixes()
        if not outer:
            print(
                "warning: this machine allows no PID namespaces (`unshare --pid`): "
                "a process killed outright may leave workers behind",
                file=sys.stderr,
            )
        with contextlib.suppress(FileNotFoundError):
            self.files.socket.unlink()  # left by a stack that was killed outright
        env = {
            **os.environ,
            **self.settings.to_env(),
            # Passwords of the shared stores, for Rasa's endpoints file (`${...}`).
            **shared_stores.secret_env(self.settings),
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        self._supervisord_out = open(  # noqa: SIM115 - closed in stop()
            self.settings.log_dir / f"supervisord-{self.files.name}.out", "ab", opener=_private
        )
        self._supervisord = subprocess.Popen(
            [*outer, str(SUPERVISORD), "--nodaemon", "--configuration", str(self.files.config)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._supervisord_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops in order
            preexec_fn=_die_with_parent,
            # Inherited by every program: logs, databases, trackers are ours alone
            # (supervisord's own `umask` setting applies only when it daemonizes).
            umask=PRIVATE_UMASK,
        )
        deadline = time.monotonic() + 20
        while True:
            if self._supervisord.poll() is not None:
                raise StackError(
                    f"supervisord exited with code {self._supervisord.returncode}:\n"
                    + self.tail("supervisord")
                )
            with contextlib.suppress(OSError, ConnectionError):
                if self.supervisor.state() == "RUNNING":
                    return
            if time.monotonic() > deadline:
                raise StackError("supervisord did not answer on its socket within 20 s")
            time.sleep(0.1)

    def healthy(self, name: str, info: dict[str, Any] | None = None) -> bool:
        info = info or self.supervisor.process(name)
        if info["statename"] not in _RUNNING_STATES:
            return False
        url = self.specs[name].health_url
        return not url or http_ok(url)

    def wait_healthy(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            self._check_supervisord()
            infos = self.supervisor.processes()
            for name in list(pending):
                info = infos[name]
                if info["statename"] == "FATAL":
                    raise StackError(
                        f"{name} could not be started ({info.get('spawnerr') or info['description']}).\n"
                        f"Last lines of {self.log_path(name)}:\n{self.tail(name)}"
                    )
                if self.healthy(name, info):
                    pending.remove(name)
            if pending and time.monotonic() > deadline:
                raise StackError(
                    f"{', '.join(pending)} not healthy after {timeout:.0f}s.\n"
                    + "\n".join(f"{n}:\n{self.tail(n)}" for n in pending)
                )
            if pending:
                time.sleep(0.25)

    def _check_supervisord(self) -> None:
        if self._supervisord is None or self._supervisord.poll() is not None:
            raise StackError("supervisord is not running.\n" + self.tail("supervisord"))

    def warm_up_actions(self, timeout: float = 60.0) -> None:
        """Have the action server load its model now rather than on the first
        customer's question. A failure here is only a slower first answer."""
        body = {
            "next_action": "action_warm_up",
            "tracker": {"sender_id": "stack-warm-up"},
            "domain": {"intents": []},
        }
        request = urllib.request.Request(
            f"{self.settings.action_url}/webhook",
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.settings.action_auth_token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                pass
        except (urllib.error.URLError, OSError) as exc:
            print(f"warning: action server warm-up failed ({exc})", file=sys.stderr)

    # -- one program -------------------------------------------------------------

    def stop_process(self, name: str) -> None:
        self._stopped_on_purpose.add(name)
        self.supervisor.stop(name)

    def start_process(self, name: str, timeout: float = 120.0) -> None:
        self._stopped_on_purpose.discard(name)
        self._reported.discard(name)
        self.supervisor.start(name)
        self.wait_healthy([name], timeout)
        self._last_pid[name] = int(self.supervisor.process(name)["pid"])
        if name == "actions":
            self.warm_up_actions()

    def restart_process(self, name: str, timeout: float = 120.0) -> None:
        self.stop_process(name)
        self.start_process(name, timeout)

    def program_pid(self, name: str) -> int:
        """The program's own process (below `unshare` and `dumb-init` when contained),
        as this machine's process list numbers it."""
        if self._supervisord is None:
            raise StackError("that program is not running")
        supervisord = psutil.Process(self._supervisord.pid)
        return program_host_pid(supervisord, int(self.supervisor.process(name)["pid"] or 0))

    def kill(self, name: str, signum: int = signal.SIGKILL) -> int:
        """Send `signum` to the program's own process (as an outside fault would);
        returns its pid. supervisord notices and restarts it."""
        pid = self.program_pid(name)
        os.kill(pid, signum)
        return pid

    def crash(self, name: str, timeout: float = 120.0) -> float:
        """`kill -9` the program (a fault from outside), wait until supervisord has it
        running and healthy again; returns the seconds that took."""
        before = int(self.supervisor.process(name)["pid"])
        started = time.monotonic()
        self.kill(name)
        while True:
            info = self.supervisor.process(name)
            if int(info["pid"] or 0) not in (0, before) and self.healthy(name, info):
                break
            if time.monotonic() - started > timeout:
                raise StackError(
                    f"{name} not back {timeout:.0f}s after a crash:\n{self.tail(name)}"
                )
            time.sleep(0.2)
        self._last_pid[name] = int(info["pid"])
        if name == "actions":
            self.warm_up_actions()
        return time.monotonic() - started

    # -- watching ------------------------------------------------------------------

    def poll(self) -> list[str]:
        """What changed since the last call, as lines for the console: a program that
        went down, came back, or was given up on."""
        self._check_supervisord()
        infos = self.supervisor.processes()
        now = time.monotonic()
        said: list[str] = []
        for name in self.names:
            info = infos[name]
            state = info["statename"]
            pid = int(info["pid"] or 0)
            if name in self._stopped_on_purpose:
                continue
            went_down = state not in _RUNNING_STATES or pid != self._last_pid.get(name, pid)
            if went_down and name not in self._down_since:
                self._down_since[name] = now
                said.append(f"{name} stopped unexpectedly; supervisord is restarting it")
            if pid:
                self._last_pid[name] = pid
            if name in self._down_since and self.healthy(name, info):
                down = now - self._down_since.pop(name)
                self._reported.discard(name)
                said.append(f"{name} is back after {down:.0f} s")
                if name == "actions":
                    self.warm_up_actions()
            elif state == "FATAL" and name not in self._reported:
                self._reported.add(name)
                said.append(
                    f"{name} keeps failing to start; supervisord gave up on it "
                    f"({info.get('spawnerr') or info['description']}).\n"
                    f"Last lines of {self.log_path(name)}:\n{self.tail(name)}\n"
                    f"Fix it, then: python -m stack ctl start {name}"
                )
            elif state == "STOPPED" and name not in self._reported:
                self._reported.add(name)
                said.append(self._give_up_line(name))
        return said

    def _give_up_line(self, name: str) -> str:
        try:
            lines = self.files.crash_guard_log.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        reason = next((line for line in reversed(lines) if f"{GAVE_UP_MARK} {name}" in line), "")
        if not reason:  # stopped by hand, or the guard's log is unreadable
            reason = f"{name} was stopped; run `python -m stack ctl start {name}` to start it"
        return f"{reason}\nLast lines of {self.log_path(name)}:\n{self.tail(name)}"

    # -- stop ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every program in order (gateway first), then supervisord."""
        process = self._supervisord
        if process is not None and process.poll() is None:
            self._stopped_on_purpose.update(self.names)
            try:
                # One at a time, front door first, so nobody is let into a half-stopped
                # stack (supervisord's stopAllProcesses signals them all at once).
                for spec in sorted(self.specs.values(), key=lambda s: -s.priority):
                    if spec.name in self.names:
                        self.supervisor.stop(spec.name)
                self.supervisor.shutdown()
                process.wait(60)
            except Exception:
                # supervisord is stuck: killing it takes its whole namespace along.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._supervisord = None
        if self._supervisord_out is not None:
            self._supervisord_out.close()
            self._supervisord_out = None

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stop on SIGTERM exactly as on Ctrl-C


def _ignore_signals() -> None:
    # Stopping in order takes a few seconds; a second Ctrl-C (or make's SIGTERM
    # as it exits) must not cut it short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def ensure_demo_agent(settings: Settings) -> str:
    """The demo agent `demo` (ko/ja/en, billing): password from DEMO_AGENT_PASSWORD,
    else a generated one, returned so it can be printed once."""
    password = os.environ.get("DEMO_AGENT_PASSWORD") or secrets.token_urlsafe(9)
    _add_agent(
        settings,
        password,
        ["demo", "--skills", "billing", "--capacity", "5", "--display-name", "Demo Agent"],
    )
    return password


def ensure_demo_supervisor(settings: Settings) -> str:
    """The supervisor `lead` (ko/ja/en; analytics at /agent/analytics): password from
    DEMO_SUPERVISOR_PASSWORD, else a generated one, returned so it can be printed once."""
    password = os.environ.get("DEMO_SUPERVISOR_PASSWORD") or secrets.token_urlsafe(9)
    _add_agent(
        settings,
        password,
        ["lead", "--role", "supervisor", "--capacity", "2", "--display-name", "Team Lead"],
    )
    return password


def ensure_demo_notice(settings: Settings) -> str:
    """The notice customers see on a first look (handoff/notices/demo.py); its id."""
    done = subprocess.run(
        [str(APP_VENV / "bin" / "python"), "-m", "handoff", "notices", "demo"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings.to_env(), "PYTHONPATH": str(PROJECT_ROOT)},
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _add_agent(settings: Settings, password: str, arguments: list[str]) -> None:
    """`python -m handoff agents add ARGUMENTS` (ko/ja/en) against this stack's database."""
    subprocess.run(
        [
            str(APP_VENV / "bin" / "python"),
            "-m",
            "handoff",
            "agents",
            "add",
            "--languages",
            "ko,ja,en",
            *arguments,
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            **settings.to_env(),
            "AGENT_PASSWORD": password,
            "PYTHONPATH": str(PROJECT_ROOT),
        },
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_forever(settings: Settings) -> int:
    """`make run`: start everything, print where to go and what happens, stop on Ctrl-C."""
    # If whoever started us (make) is killed, stop in order rather than linger.
    _set_parent_death_signal(signal.SIGTERM)
    # Explicitly: a shell starts background jobs with SIGINT ignored, and Python then
    # installs no Ctrl-C handler of its own.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack(settings)
    try:
        print("starting Rasa, the action server and the gateway (Rasa takes ~30 s) ...", flush=True)
        print(f"  state: {shared_stores.describe(stack.settings)}", flush=True)
        started = time.monotonic()
        stack.check_shared_stores()
        demo_password = ensure_demo_agent(stack.settings)
        lead_password = ensure_demo_supervisor(stack.settings)
        notice = ensure_demo_notice(stack.settings)
        stack.start()
        s = stack.settings
        shown = (
            "(from DEMO_AGENT_PASSWORD)" if os.environ.get("DEMO_AGENT_PASSWORD") else demo_password
        )
        lead_shown = (
            "(from DEMO_SUPERVISOR_PASSWORD)"
            if os.environ.get("DEMO_SUPERVISOR_PASSWORD")
            else lead_password
        )
        print(
            f"\nready in {time.monotonic() - started:.0f}s\n"
            f"  customer chat   {s.gateway_url}/\n"
            f"  agent console   {s.gateway_url}/agent   (user: demo, password: {shown})\n"
            f"  analytics       {s.gateway_url}/agent/analytics   "
            f"(supervisor: lead, password: {lead_shown})\n"
            f"  demo notice     {notice} for customers (8 h; a supervisor ends it: "
            f"POST /api/supervisor/notices/{notice}/end)\n"
            f"  health          {s.gateway_url}/healthz   readiness {s.gateway_url}/readyz\n"
            f"  API document    {s.gateway_url}/api/openapi.json\n"
            + replicas_line(s)
            + f"  logs            {s.log_dir}/\n"
            f"  processes       python -m stack ctl status   (supervisord; restarts what dies)\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            for line in stack.poll():
                print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)
    except StackError as exc:
        _ignore_signals()
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _ignore_signals()
        print("\nstopping ...", flush=True)
        return 0
    finally:
        _ignore_signals()
        stack.stop()

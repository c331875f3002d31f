"""Throwaway PostgreSQL and Redis servers, for tests and benchmarks.

Each is a child process of whoever starts it, on a free port of 127.0.0.1, with its data
in a temporary folder; it dies with its parent (PR_SET_PDEATHSIG: with the *thread* that
started it, so start servers from a thread that outlives them) and is stopped by PID.
Both can be stopped and started again keeping their data folder (PostgreSQL keeps its
rows; Redis runs without persistence, as a cache would), or crashed outright, for fault
tests:

    with PostgresServer() as pg, RedisServer() as redis:
        pg.url      # postgresql://assistant:<password>@127.0.0.1:<port>/assistant
        redis.url   # redis://:<password>@127.0.0.1:<port>/0
        pg.restart()

PostgreSQL 15 comes from the machine (/usr/lib/postgresql/15/bin, or
ASSISTANT_POSTGRES_BIN); it refuses to run as root, so as root it runs as the `postgres`
user. Redis is Debian's `redis-server` (scripts/install-system-packages.sh installs it).
Passwords are in a file or on stdin, never a command line.

For multi-host tests a server can run in a network namespace of the caller's (`ip netns
add`; root only), listening on its address there: `PostgresServer(namespace=Namespace(
"pg-ns", "10.77.0.2", "10.77.0.0/24"))`. Only the namespace's network reaches it then.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import quote

import psutil

POSTGRES_BIN = Path(os.environ.get("ASSISTANT_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
POSTGRES_OS_USER = "postgres"
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Namespace:
    """A network namespace (`ip netns add NAME`), the server's address in it, and the
    network (CIDR) its clients come from."""

    name: str
    address: str
    clients: str


class DevServerError(RuntimeError):
    """A throwaway server would not start; the message has the end of its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # in the child, after any change of user, before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _enter_namespace(name: str, user: str | None) -> Callable[[], None]:
    """A preexec_fn that joins the network namespace `name`, then becomes `user`, then dies
    with its parent: setns needs root, so the change of user Popen would make comes here,
    after it (and a change of user would clear the parent-death signal)."""
    path = f"/var/run/netns/{name}"
    entry = pwd.getpwnam(user) if user else None  # looked up before the fork

    def enter() -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            if ctypes.CDLL("libc.so.6", use_errno=True).setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"cannot enter the network namespace {name}")
        finally:
            os.close(fd)
        if entry is not None:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
        _die_with_parent()

    return enter


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class _ChildServer:
    """A server process of ours: started, waited for, stopped by its PID."""

    name = "server"
    standard_port = 0  # its port in a namespace of its own (nothing else listens there)

    def __init__(
        self, base_dir: Path | None, port: int | None, namespace: Namespace | None = None
    ) -> None:
        self.namespace = namespace
        if namespace is None:
            self.host = "127.0.0.1"
            self.port = port or free_port(self.host)
        else:
            self.host = namespace.address
            self.port = port or self.standard_port
        self._own_dir = base_dir is None
        self.dir = (
            Path(tempfile.mkdtemp(prefix=f"assistant-{self.name}-"))
            if base_dir is None
            else base_dir
        )
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / f"{self.name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- what subclasses say ------------------------------------------------------------

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _popen_user(self) -> str | None:
        return None

    # -- life cycle ---------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _spawn(self, timeout: float) -> None:
        if self.running:
            return
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap()
        user = self._popen_user()
        preexec: Callable[[], None] = _die_with_parent
        if self.namespace is not None:
            preexec, user = _enter_namespace(self.namespace.name, user), None
        self._process = subprocess.Popen(
            self._argv(),
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal is for the test runner
            user=user,
            group=user,
            extra_groups=[] if user else None,
            preexec_fn=preexec,
        )
        deadline = time.monotonic() + timeout
        while not (self._listens() and self._ready()):
            if self._process.poll() is not None:
                code = self._process.returncode
                self._reap()
                raise DevServerError(
                    f"{self.name} exited with code {code} at start:\n{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise DevServerError(
                    f"{self.name} not ready on {self.host}:{self.port} after {timeout:.0f} s:\n"
                    f"{_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def _listens(self) -> bool:
        """Our process, not another one, listens on the port."""
        if self._process is None:
            return False
        if self.namespace is not None:
            # psutil reads the socket table of the caller's namespace, not the server's;
            # and in a namespace of the caller's own nobody else listens.
            return _port_open(self.host, self.port)
        try:
            connections = psutil.Process(self._process.pid).net_connections(kind="tcp")
        except psutil.Error:
            return False
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.port
            for c in connections
        )

    def _signal_and_wait(self, signum: int, timeout: float) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()
        self._reap()

    def _reap(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        raise NotImplementedError

    def crash(self) -> None:
        """Kill the server outright (SIGKILL), as a machine fault would."""
        self._signal_and_wait(signal.SIGKILL, 10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and remove its folder (when it made one)."""
        try:
            self.stop()
        finally:
            if self._own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class PostgresServer(_ChildServer):
    """A PostgreSQL 15 cluster of its own: `initdb` on first start, then `postgres` in the
    foreground, listening on 127.0.0.1 only (and a unix socket in its folder). Clients over
    TCP need the password (scram-sha-256) of the role `user`, owner of `database`."""

    name = "postgres"
    standard_port = 5432

    def __init__(
        self,
        base_dir: Path | None = None,
        port: int | None = None,
        user: str = "assistant",
        database: str = "assistant",
        password: str | None = None,
        namespace: Namespace | None = None,
    ) -> None:
        super().__init__(base_dir, port, namespace)
        self.user = user
        self.database = database
        self.password = password or secrets.token_urlsafe(18)
        self.data_dir = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam(POSTGRES_OS_USER)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self.dir.chmod(0o700)

    @property
    def url(self) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.database, safe='')}"
        )

    def _popen_user(self) -> str | None:
        return POSTGRES_OS_USER if self._as_postgres else None

    def _bin(self, program: str) -> str:
        path = POSTGRES_BIN / program
        if not path.exists():
            raise DevServerError(
                f"{path} is missing: install PostgreSQL 15's server (apt-get install "
                "postgresql-15) or set ASSISTANT_POSTGRES_BIN"
            )
        return str(path)

    def _run(self, argv: list[str], stdin: str | None = None) -> None:
        user = self._popen_user()
        result = subprocess.run(
            argv,
            cwd=self.dir,
            input=(stdin or "").encode(),
            capture_output=True,
            user=user,
            group=user,
            extra_groups=[] if user else None,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise DevServerError(f"{Path(argv[0]).name} failed:\n{output[-2000:]}")

    def _argv(self) -> list[str]:
        return [
            self._bin("postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-k",
            str(self.socket_dir),
            "-c",
            f"listen_addresses={self.host}",
            # Throwaway data: speed over durability against a power cut (a crash of the
            # server process itself still loses nothing committed).
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]

    def _ready(self) -> bool:
        if not _port_open(self.host, self.port):
            return False
        result = subprocess.run(
            [self._bin("pg_isready"), "-q", "-h", self.host, "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        first = not (self.data_dir / "PG_VERSION").exists()
        if first:
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            if self._as_postgres:
                entry = pwd.getpwnam(POSTGRES_OS_USER)
                os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)
            self._run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    # Codepoint order, as C, but Hangul and kana are letters: pg_trgm
                    # indexes Korean and Japanese (conversation search) only then.
                    "--locale=C.UTF-8",
                    # The superuser only over the unix socket in our 0700 folder; every
                    # TCP client with a password.
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-sync",
                ]
            )
            if self.namespace is not None:  # initdb lets in loopback clients only
                with open(self.data_dir / "pg_hba.conf", "a", encoding="utf-8") as hba:
                    hba.write(f"host all all {self.namespace.clients} scram-sha-256\n")
        # A crashed server may have left backends that still hold its shared memory for
        # a moment: try again while that is the reason.
        for attempt in range(20):
            try:
                self._spawn(timeout)
                break
            except DevServerError as exc:
                busy = ("still in use", "already in use", "already exists")
                if not any(reason in str(exc) for reason in busy) or attempt == 19:
                    raise
                time.sleep(0.5)
        if first:
            self._create_role()

    def create_database(self, name: str) -> str:
        """Another database owned by the same user (a test's own, so that no other test's
        rows are counted there); returns its URL."""
        owner = self.user.replace('"', '""')
        quoted = name.replace('"', '""')
        self._superuser_sql(f'CREATE DATABASE "{quoted}" OWNER "{owner}";\n')
        return self.url.rsplit("/", 1)[0] + "/" + quote(name, safe="")

    def _create_role(self) -> None:
        user = self.user.replace('"', '""')
        password = self.password.replace("'", "''")
        database = self.database.replace('"', '""')
        self._superuser_sql(
            f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}';\n"
            f'CREATE DATABASE "{database}" OWNER "{user}";\n'
        )

    def _superuser_sql(self, sql: str) -> None:
        self._run(
            [
                self._bin("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-f",
                "-",
            ],
            stdin=sql,
        )

    def stop(self) -> None:
        """Fast shutdown (SIGINT: open sessions are ended, everything committed is kept)."""
        self._signal_and_wait(signal.SIGINT, 30)

    def crash(self) -> None:
        """Immediate shutdown (SIGQUIT): no checkpoint, the next start recovers from the
        write-ahead log, as after a crash of the server."""
        self._signal_and_wait(signal.SIGQUIT, 10)


class RedisServer(_ChildServer):
    """Debian's redis-server in the foreground on 127.0.0.1, with a password and no
    persistence (`save ""`, `appendonly no`): a restart empties it, as it would a cache."""

    name = "redis"
    standard_port = 6379

    def __init__(
        self,
        base_dir: Path | None = None,
        port: int | None = None,
        password: str | None = None,
        namespace: Namespace | None = None,
    ) -> None:
        super().__init__(base_dir, port, namespace)
        self.password = password or secrets.token_urlsafe(18)
        self.config_path = self.dir / "redis.conf"

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@{self.host}:{self.port}/0"

    def _argv(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise DevServerError(
                "redis-server is missing: scripts/install-system-packages.sh installs it "
                "(apt-get install redis-server)"
            )
        return [binary, str(self.config_path)]

    def _write_config(self) -> None:
        password = self.password.replace("\\", "\\\\").replace('"', '\\"')
        lines = [
            f"port {self.port}",
            f"bind {self.host}",
            "protected-mode yes",
            "daemonize no",
            'save ""',
            "appendonly no",
            f'dir "{self.dir}"',
            f'logfile "{self.log_path}"',
            f'requirepass "{password}"',
        ]
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as config:
            config.write("\n".join(lines) + "\n")

    def _ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                answer = conn.recv(64)
        except OSError:
            return False
        # With a password set an unauthenticated PING gets NOAUTH: the server is up.
        return answer.startswith((b"+PONG", b"-NOAUTH"))

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        self._write_config()
        self._spawn(timeout)

    def stop(self) -> None:
        """SIGTERM: Redis closes its clients and exits (nothing to save)."""
        self._signal_and_wait(signal.SIGTERM, 15)

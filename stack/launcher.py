"""Starts, watches and stops the stack's processes: Rasa, the action server, the gateway.

`make run`, the end-to-end tests and the benchmarks all use this one launcher,
so what is tested is what runs. Each child gets its own session (so a Ctrl-C
reaches the launcher, which then stops the children in order) and is told to die
with the launcher if the launcher is killed outright.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from stack.settings import APP_VENV, PROJECT_ROOT, RASA_ENV, RASA_VENV, Settings

_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """A process would not start or stay up; the message says which and why."""


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    port_variable: str  # the ASSISTANT_* variable that moves it
    health_url: str


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def with_auth_token(settings: Settings) -> Settings:
    """Rasa's API is only for the gateway: give it a fresh secret unless one is set."""
    if settings.rasa_auth_token:
        return settings
    return settings.replace(rasa_auth_token=secrets.token_urlsafe(24))


def process_specs(settings: Settings) -> dict[str, ProcessSpec]:
    base_env = {
        **os.environ,
        **settings.to_env(),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    rasa = ProcessSpec(
        name="rasa",
        argv=[
            str(RASA_VENV / "bin" / "rasa"),
            "run",
            "--model",
            str(settings.model_path),
            "--endpoints",
            "bot/endpoints.yml",
            "--credentials",
            "bot/credentials.yml",
            "--enable-api",
            # "=" form: a generated token may start with "-", which argparse
            # would otherwise read as another option.
            f"--auth-token={settings.rasa_auth_token}",
            "--interface",
            settings.host,
            "--port",
            str(settings.rasa_port),
        ],
        env={**base_env, **RASA_ENV, "ASSISTANT_ACTION_WEBHOOK": f"{settings.action_url}/webhook"},
        port=settings.rasa_port,
        port_variable="ASSISTANT_RASA_PORT",
        health_url=f"{settings.rasa_url}/status?token={settings.rasa_auth_token}",
    )
    actions = ProcessSpec(
        name="actions",
        argv=[
            str(APP_VENV / "bin" / "python"),
            "-m",
            "rasa_sdk",
            "--actions",
            "actions",
            "--port",
            str(settings.action_port),
        ],
        # rasa-sdk binds 0.0.0.0 unless told otherwise.
        env={**base_env, "SANIC_HOST": settings.host},
        port=settings.action_port,
        port_variable="ASSISTANT_ACTION_PORT",
        health_url=f"{settings.action_url}/health",
    )
    gateway = ProcessSpec(
        name="gateway",
        argv=[str(APP_VENV / "bin" / "python"), "-m", "handoff"],
        env=base_env,
        port=settings.gateway_port,
        port_variable="ASSISTANT_GATEWAY_PORT",
        health_url=f"{settings.gateway_url}/healthz",
    )
    # Rebuilds the KB index on every edit of data/kb; the action server swaps it in.
    kb_watch = ProcessSpec(
        name="kb-watch",
        argv=[str(APP_VENV / "bin" / "python"), "-m", "kb_index", "watch"],
        env=base_env,
        port=0,
        port_variable="",
        health_url="",
    )
    return {spec.name: spec for spec in (actions, rasa, gateway, kb_watch)}


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Stack:
    """The running processes of one stack (one set of ports)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = with_auth_token(settings)
        self.specs = process_specs(self.settings)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)

    def log_path(self, name: str) -> Path:
        spec = self.specs[name]
        suffix = f"-{spec.port}" if spec.port else f"-{self.settings.gateway_port}"
        return self.settings.log_dir / f"{name}{suffix}.log"

    def start(self, names: list[str] | None = None, timeout: float = 240.0) -> None:
        """Start the named processes (default: all) and wait until each is healthy."""
        names = names or list(self.specs)
        for name in names:
            spec = self.specs[name]
            if spec.port and not port_is_free(self.settings.host, spec.port):
                raise StackError(
                    f"port {spec.port} for {name} is already in use (another `make run`?). "
                    f"Stop it, or set {spec.port_variable} to another port."
                )
        for name in names:
            self._spawn(self.specs[name])
        self.wait_healthy(names, timeout)
        if "actions" in names:
            self.warm_up_actions()

    def _spawn(self, spec: ProcessSpec) -> None:
        log = open(self.log_path(spec.name), "ab")  # noqa: SIM115 - closed in stop()
        log.write(f"\n--- starting {spec.name}: {time.ctime()}\n".encode())
        log.flush()
        self._logs[spec.name] = log
        self.processes[spec.name] = subprocess.Popen(
            spec.argv,
            cwd=PROJECT_ROOT,
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def wait_healthy(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            for name in list(pending):
                process = self.processes[name]
                if process.poll() is not None:
                    raise StackError(
                        f"{name} exited with code {process.returncode} while starting.\n"
                        f"Last lines of {self.log_path(name)}:\n{self.tail(name)}"
                    )
                # The gateway's /healthz needs every part; its own liveness is enough here.
                url = self.specs[name].health_url
                if name == "gateway":
                    url = f"{self.settings.gateway_url}/api/openapi.json"
                if not url or http_ok(url):  # no URL: running is healthy
                    pending.remove(name)
            if pending and time.monotonic() > deadline:
                raise StackError(
                    f"{', '.join(pending)} not healthy after {timeout:.0f}s.\n"
                    + "\n".join(f"{n}:\n{self.tail(n)}" for n in pending)
                )
            if pending:
                time.sleep(0.25)

    def tail(self, name: str, lines: int = 25) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop_process(self, name: str, grace: float = 10.0) -> None:
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()

    def restart_process(self, name: str, timeout: float = 120.0) -> None:
        self.stop_process(name)
        self._spawn(self.specs[name])
        self.wait_healthy([name], timeout)
        if name == "actions":
            self.warm_up_actions()

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
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                pass
        except (urllib.error.URLError, OSError) as exc:
            print(f"warning: action server warm-up failed ({exc})", file=sys.stderr)

    def stop(self) -> None:
        # Front door first, so nobody is accepted into a half-stopped stack.
        for name in ("gateway", "rasa", "actions", "kb-watch"):
            self.stop_process(name)

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stop on SIGTERM exactly as on Ctrl-C


def ensure_demo_agent(settings: Settings) -> str:
    """The demo agent `demo` (ko/ja/en, billing): password from DEMO_AGENT_PASSWORD,
    else a generated one, returned so it can be printed once."""
    password = os.environ.get("DEMO_AGENT_PASSWORD") or secrets.token_urlsafe(9)
    subprocess.run(
        [
            str(APP_VENV / "bin" / "python"),
            "-m",
            "handoff",
            "agents",
            "add",
            "demo",
            "--languages",
            "ko,ja,en",
            "--skills",
            "billing",
            "--capacity",
            "5",
            "--display-name",
            "Demo Agent",
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
    return password


def run_forever(settings: Settings) -> int:
    """`make run`: start everything, print where to go, stop everything on Ctrl-C."""
    stack = Stack(settings)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print("starting Rasa, the action server and the gateway (Rasa takes ~30 s) ...", flush=True)
        started = time.monotonic()
        demo_password = ensure_demo_agent(stack.settings)
        stack.start()
        s = stack.settings
        shown = (
            "(from DEMO_AGENT_PASSWORD)" if os.environ.get("DEMO_AGENT_PASSWORD") else demo_password
        )
        print(
            f"\nready in {time.monotonic() - started:.0f}s\n"
            f"  customer chat   {s.gateway_url}/\n"
            f"  agent console   {s.gateway_url}/agent   (user: demo, password: {shown})\n"
            f"  health          {s.gateway_url}/healthz\n"
            f"  API document    {s.gateway_url}/api/openapi.json\n"
            f"  logs            {s.log_dir}/\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            dead = stack.dead()
            if dead:
                name = dead[0]
                print(f"\n{name} stopped unexpectedly. Last lines of its log:\n{stack.tail(name)}")
                return 1
    except StackError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        stack.stop()

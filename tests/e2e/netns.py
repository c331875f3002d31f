"""Hosts for multi-host tests: network namespaces on one bridge, so that each part of the
product has an address of its own and reaches the others only across a network, never
over a shared loopback.

    with Lab(["db", "cache", "app1", "app2"]) as lab:
        lab.namespace("db")          # devservers.Namespace: name, address, clients
        lab.address("app1")          # "10.x.y.4"
        lab.popen("app1", argv, ...) # a process on that host

The test process itself sits on the bridge (address .1), as a load balancer or a
customer's browser would. Root only (`ip netns`, `ip link`); everything the lab made is
removed on exit, named with this process's id so parallel runs do not meet.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from types import TracebackType
from typing import Any, Self

from stack.devservers import Namespace


class LabError(RuntimeError):
    """The namespaces or the bridge could not be made; the message says what failed."""


def lab_unavailable() -> str | None:
    """Why this machine cannot run a lab (for a skip reason), or None if it can."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is missing"
    return None


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _used_networks() -> set[str]:
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in routes.stdout.splitlines() if line}


class Lab:
    def __init__(self, hosts: list[str]) -> None:
        tag = f"{os.getpid() % 100000}"
        self.bridge = f"asbr{tag}"
        self._names = {host: f"as-{host}-{tag}" for host in hosts}
        self._veths = {host: f"as{i}v{tag}" for i, host in enumerate(hosts)}
        used = _used_networks()
        for _ in range(100):
            prefix = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
            if f"{prefix}.0/24" not in used:
                break
        self.network = f"{prefix}.0/24"
        self.gateway_address = f"{prefix}.1"  # the bridge: where the test process stands
        self._addresses = {host: f"{prefix}.{i + 2}" for i, host in enumerate(hosts)}
        self._made: list[tuple[str, ...]] = []  # undo commands, in reverse order

    def namespace(self, host: str) -> Namespace:
        return Namespace(self._names[host], self._addresses[host], self.network)

    def address(self, host: str) -> str:
        return self._addresses[host]

    def popen(self, host: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """`argv` run on `host` (`ip netns exec`, which execs it: the PID is argv's)."""
        return subprocess.Popen(["ip", "netns", "exec", self._names[host], *argv], **kwargs)

    def run(self, host: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self._names[host], *argv],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def start(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        self._made.append(("link", "del", self.bridge))
        _ip("addr", "add", f"{self.gateway_address}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for host, name in self._names.items():
            _ip("netns", "add", name)
            self._made.append(("netns", "del", name))
            veth = self._veths[host]
            _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name)
            _ip("link", "set", veth, "master", self.bridge)
            _ip("link", "set", veth, "up")
            _ip("-n", name, "addr", "add", f"{self._addresses[host]}/24", "dev", "eth0")
            _ip("-n", name, "link", "set", "eth0", "up")
            _ip("-n", name, "link", "set", "lo", "up")
            # Anything else (the package index, other machines) through the bridge is
            # not the point of the lab: no default route.

    def close(self) -> None:
        # Deleting a namespace deletes its end of the veth pair, and so the pair.
        for undo in reversed(self._made):
            subprocess.run(["ip", *undo], capture_output=True, check=False)
        self._made.clear()

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


def port_open_from(lab: Lab, host: str, address: str, port: int) -> bool:
    """Whether a TCP connection from `host` to address:port succeeds (asked from there)."""
    probe = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({address!r}, {port}), timeout=2).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    return lab.run(host, [sys.executable, "-c", probe]).returncode == 0

"""python -m stack run            start everything (what `make run` does after set-up)
python -m stack ctl ARGS...    control the running stack's processes (supervisorctl):
                               status | restart actions | stop rasa | start rasa | tail -f gateway
python -m stack ctl pid NAME   a program's own process id, as this machine's `ps` and `kill`
                               number it (supervisorctl's own `pid` and `status` count inside
                               the stack's PID namespace, which is another process here)
python -m stack rasa ARGS...   run a Rasa command in Rasa's environment with the right env
"""

from __future__ import annotations

import os
import sys
import xmlrpc.client

from common.pii import install_log_redaction
from stack.launcher import (
    StackError,
    program_host_pid,
    run_forever,
    running_supervisord,
    stack_files,
)
from stack.settings import PRIVATE_UMASK, PROJECT_ROOT, RASA_ENV, RASA_VENV, Settings
from stack.supervisor import SUPERVISORCTL, SupervisorClient


def print_host_pids(settings: Settings, names: list[str]) -> int:
    """`ctl pid NAME...`: each program's process id as this machine numbers it."""
    files = stack_files(settings)
    supervisord = running_supervisord(files)
    if supervisord is None:
        print("error: no stack is running here: start one with `make run`", file=sys.stderr)
        return 2
    client = SupervisorClient(files.socket)
    status = 0
    for name in names:
        try:
            print(program_host_pid(supervisord, int(client.process(name)["pid"] or 0)))
        except xmlrpc.client.Fault:
            print(f"error: {name}: no such program", file=sys.stderr)
            status = 1
        except StackError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            status = 1
    return status


def main(argv: list[str]) -> int:
    os.umask(PRIVATE_UMASK)  # logs, run files and what the stack starts: ours alone
    install_log_redaction()
    if argv[:1] == ["run"]:
        return run_forever(Settings.from_env())
    if argv[:2] == ["ctl", "pid"] and len(argv) > 2:
        return print_host_pids(Settings.from_env(), argv[2:])
    if argv[:1] == ["ctl"]:
        config = stack_files(Settings.from_env()).config
        if not config.exists():
            print("error: no stack has run here yet: start one with `make run`", file=sys.stderr)
            return 2
        os.execv(str(SUPERVISORCTL), [str(SUPERVISORCTL), "-c", str(config), *argv[1:]])
    if argv[:1] == ["rasa"]:
        rasa = RASA_VENV / "bin" / "rasa"
        if not rasa.exists():
            print("error: Rasa's environment is missing: run `make setup`", file=sys.stderr)
            return 2
        env = {**os.environ, **RASA_ENV, "PYTHONPATH": str(PROJECT_ROOT)}
        os.chdir(PROJECT_ROOT)
        os.execve(str(rasa), [str(rasa), *argv[1:]], env)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

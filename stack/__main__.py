"""python -m stack run            start everything (what `make run` does after set-up)
python -m stack ctl ARGS...    control the running stack's processes (supervisorctl):
                               status | restart actions | stop rasa | start rasa | tail -f gateway
python -m stack rasa ARGS...   run a Rasa command in Rasa's environment with the right env
"""

from __future__ import annotations

import os
import sys

from common.pii import install_log_redaction
from stack.launcher import run_forever, stack_files
from stack.settings import PRIVATE_UMASK, PROJECT_ROOT, RASA_ENV, RASA_VENV, Settings
from stack.supervisor import SUPERVISORCTL


def main(argv: list[str]) -> int:
    os.umask(PRIVATE_UMASK)  # logs, run files and what the stack starts: ours alone
    install_log_redaction()
    if argv[:1] == ["run"]:
        return run_forever(Settings.from_env())
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

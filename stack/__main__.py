"""python -m stack run            start everything (what `make run` does after set-up)
python -m stack rasa ARGS...   run a Rasa command in Rasa's environment with the right env
"""

from __future__ import annotations

import os
import sys

from stack.launcher import run_forever
from stack.settings import PROJECT_ROOT, RASA_ENV, RASA_VENV, Settings


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"]:
        return run_forever(Settings.from_env())
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

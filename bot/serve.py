"""`rasa run` with its API token taken from the environment, not the command line.

The token guards Rasa's HTTP API, which can rewrite any conversation. A command line is
visible to every local user in `ps`; a process's environment is not. The launcher sets
ASSISTANT_RASA_AUTH_TOKEN; this passes it to Rasa inside the process.

    python -m bot.serve run --model ... --enable-api ...
"""

import os
import sys


def main() -> None:
    # Rasa's tracker store and anything else it writes: for our user only (it holds
    # conversations). The launcher gives the same umask; this covers a hand-started Rasa.
    os.umask(0o077)
    token = os.environ.get("ASSISTANT_RASA_AUTH_TOKEN", "")
    if not token:
        sys.exit("error: ASSISTANT_RASA_AUTH_TOKEN is not set (the launcher sets it: `make run`)")
    from rasa.__main__ import main as rasa_main

    # "=" form: a generated token may start with "-", which argparse would read as an option.
    sys.argv = ["rasa", *sys.argv[1:], f"--auth-token={token}"]
    rasa_main()


if __name__ == "__main__":
    main()

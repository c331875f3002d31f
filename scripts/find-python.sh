#!/usr/bin/env bash
# Prints the path of a working Python interpreter of the version given (e.g. 3.10).
# Each candidate is run, because a pyenv shim is on PATH even when its version
# is not active, and then fails.
set -euo pipefail
want="$1"
works() { "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" >/dev/null 2>&1; }
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  candidates+=("$(pyenv root)"/versions/"$want".*/bin/python)
fi
candidates+=("$HOME"/.pyenv/versions/"$want".*/bin/python)
command -v "python$want" >/dev/null 2>&1 && candidates+=("$(command -v "python$want")")
command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")
for candidate in "${candidates[@]}"; do
  if [ -x "$candidate" ] && works "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "error: no working Python $want found. Install it (e.g. 'pyenv install $want') and run make again." >&2
exit 1

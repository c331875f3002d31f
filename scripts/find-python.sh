#!/usr/bin/env bash
# Prints the path of a Python interpreter of the version given (e.g. 3.10),
# looking on PATH first, then in pyenv's versions. Fails with advice if none.
set -euo pipefail
want="$1"
if command -v "python$want" >/dev/null 2>&1; then command -v "python$want"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  for candidate in "$(pyenv root)"/versions/"$want".*/bin/python; do
    if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
  done
fi
for candidate in "$HOME"/.pyenv/versions/"$want".*/bin/python; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
echo "error: Python $want not found. Install it (e.g. 'pyenv install $want') and run make again." >&2
exit 1

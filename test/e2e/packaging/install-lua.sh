#!/usr/bin/env bash
# Installs the real Lua 5.1 interpreter (Debian's lua5.1, the language version Argo CD's gopher-lua
# implements) if it is not on the PATH yet. Idempotent; the Argo CD health-check test calls it.
# Prints the interpreter's path on stdout.
set -euo pipefail
for c in lua5.1 lua; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -v 2>&1 | grep -q 'Lua 5\.1'; then
    command -v "$c"
    exit 0
  fi
done
bash "$(dirname "${BASH_SOURCE[0]}")/../../env/apt-install.sh" lua5.1
command -v lua5.1

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
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-lua.sh: no lua5.1 on the PATH and no apt-get to install it; install Lua 5.1 by hand" >&2
  exit 1
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-lua.sh: not root and no sudo; install lua5.1 by hand (apt-get install -y lua5.1)" >&2
    exit 1
  fi
fi
# One process at a time (tests may run in parallel on a CI machine).
exec 9>"${TMPDIR:-/tmp}/stack-operator-install-lua.lock"
flock 9
if ! command -v lua5.1 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2 || true
  $SUDO apt-get install -y -qq --no-install-recommends lua5.1 >&2
fi
command -v lua5.1

#!/usr/bin/env bash
# Installs the named Debian packages that are not installed yet; the one apt path of every test
# script (Heat, the OpenStack CLI, redis-server for Argo CD, lua5.1).
#
#   bash test/env/apt-install.sh PACKAGE...
#
# - Fast path: when every package is installed nothing else runs (no apt, no network, no lock).
# - One install at a time on the machine: test/env/prebuild.sh installs in the background while test
#   files may ask for the same packages, and apt/dpkg fail at once on a held lock. A flock serialises
#   our callers; DPkg::Lock::Timeout makes apt wait for anyone else's.
# - Init-script starts are refused during the install (postgresql's and redis-server's postinst would
#   start system-wide services the tests never use); whatever policy-rc.d was there is restored.
# - Not interruptible once it installs (an interrupted dpkg blocks every later install).
# - Lists may be missing or stale on a fresh machine: on failure, `apt-get update` once and retry.
set -euo pipefail

log() { printf '[apt-install] %s\n' "$*" >&2; }

missing() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || printf '%s\n' "$p"
  done
}

[[ $# -gt 0 ]] || { log "usage: apt-install.sh PACKAGE..."; exit 2; }
mapfile -t need < <(missing "$@")
[[ ${#need[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  log "missing packages (${need[*]}) and not root: apt-get install ${need[*]}"
  exit 1
fi
command -v apt-get >/dev/null || { log "missing packages (${need[*]}) and no apt-get"; exit 1; }

exec 9>"${TMPDIR:-/tmp}/stack-operator-apt.lock"
if ! flock -n 9; then
  log "another install holds the apt lock; waiting"
  flock 9
fi
mapfile -t need < <(missing "$@")
[[ ${#need[@]} -eq 0 ]] && exit 0

log "installing ${need[*]}"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
BACKUP=""
if [[ -e "$POLICY" ]]; then
  BACKUP=$(mktemp /usr/sbin/policy-rc.d.stack-operator.XXXXXX)
  cp -p "$POLICY" "$BACKUP"
fi
restore() { if [[ -n "$BACKUP" ]]; then mv -f "$BACKUP" "$POLICY"; else rm -f "$POLICY"; fi; }
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 0755 "$POLICY"

# An interrupted dpkg leaves the machine needing `dpkg --configure -a` before any later install:
# finish what a previous interrupted run left, and do not let a test run's teardown (which stops a
# background prebuild's process group) interrupt this one. Ignored signals are inherited by apt/dpkg.
trap '' INT TERM
dpkg --configure -a >&2
APT=(apt-get -o DPkg::Lock::Timeout=900 -y -q)
apt_install() {
  "${APT[@]}" install --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >&2
}
if ! apt_install; then
  "${APT[@]}" update >&2
  apt_install
fi
log "installed ${need[*]} in $(( $(date +%s) - start )) s"

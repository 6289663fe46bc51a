#!/usr/bin/env bash
# Idempotent install of the Debian packages a real OpenStack Heat + Keystone needs for tests
# (see docs/real-heat.md). Only library packages and PostgreSQL: the daemon packages
# (heat-api, heat-engine, keystone) would pull in uwsgi, dbconfig-common and init scripts we
# never use; test/env/heat/launcher.ts starts everything through /usr/bin/python3 itself.
#
#   python3-heat      Heat 19 (Zed): heat.cmd.all / heat.cmd.manage
#   python3-keystone  Keystone 22: keystone-manage, keystone-wsgi-public (shipped by this package)
#   python3-psycopg2  SQLAlchemy driver for PostgreSQL (Keystone on sqlite fails: "database is locked")
#   postgresql        initdb / pg_ctl under /usr/lib/postgresql/*/bin (a private cluster per run)
#
# Fast path: when every package is already installed nothing else runs (no apt, no network).
set -euo pipefail

PACKAGES=(python3-heat python3-keystone python3-psycopg2 postgresql)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "install.sh: missing packages (${missing[*]}) and not root" >&2
  exit 1
fi

echo "install.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Refuse every init-script start while installing (postgresql's postinst would start its
# default cluster); restore whatever policy-rc.d was there before, even on failure.
POLICY=/usr/sbin/policy-rc.d
BACKUP=""
if [[ -e "$POLICY" ]]; then
  BACKUP=$(mktemp /usr/sbin/policy-rc.d.stack-operator.XXXXXX)
  cp -p "$POLICY" "$BACKUP"
fi
restore() {
  if [[ -n "$BACKUP" ]]; then mv -f "$BACKUP" "$POLICY"; else rm -f "$POLICY"; fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 0755 "$POLICY"

apt_install() {
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}
# Lists may be missing or stale on a fresh machine: update once and retry.
if ! apt_install; then
  apt-get update -q
  apt_install
fi

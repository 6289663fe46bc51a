#!/usr/bin/env bash
# Idempotent install of the official OpenStack command-line client from Debian, the oracle of the
# Heat conformance suite (test/e2e/official-clients/openstack-cli.test.ts, docs/fidelity.md):
#
#   python3-openstackclient  `openstack` (python-openstackclient)
#   python3-heatclient       its `openstack stack ...` plugin
#
# Fast path: when both packages are installed nothing else runs (no apt, no network).
set -euo pipefail

PACKAGES=(python3-openstackclient python3-heatclient)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "install-openstack-cli.sh: missing packages (${missing[*]}) and not root" >&2
  exit 1
fi

echo "install-openstack-cli.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_install() {
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}
# Lists may be missing or stale on a fresh machine: update once and retry.
if ! apt_install; then
  apt-get update -q
  apt_install
fi

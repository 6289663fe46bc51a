#!/usr/bin/env bash
# Idempotent install of the official OpenStack command-line client from Debian, the oracle of the
# Heat conformance suite (test/e2e/official-clients/openstack-cli.test.ts, docs/fidelity.md):
#
#   python3-openstackclient  `openstack` (python-openstackclient)
#   python3-heatclient       its `openstack stack ...` plugin
#
# Fast path, lock, refused init-script starts: test/env/apt-install.sh.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh" python3-openstackclient python3-heatclient

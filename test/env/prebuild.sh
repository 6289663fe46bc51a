#!/usr/bin/env bash
# Installs and builds, ahead of need, everything later test files ask for beyond the control plane:
# the Debian packages (Heat + Keystone + PostgreSQL, the OpenStack CLI, redis-server, lua5.1) and the
# Go programs (Argo CD, the Huawei Go SDK client, the controller-runtime twin).
#
# test/env/global-setup.ts starts it in the background, at the lowest CPU and I/O priority, once the
# control plane is up. On a fresh machine the cold Go builds then use the CPU the integration tests
# leave idle (they mostly wait on the API server and the emulator) instead of running one after the
# other inside the test files that need them. Every step is one of the project's own idempotent,
# locked scripts, so a test file that needs a thing first simply waits for the lock, and on a warm
# machine the whole script is a few fast-path checks. A failed step is reported and the rest go on:
# the test file that needs it runs the same script again and fails with its message.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

step() {
  local t0=$(date +%s)
  if "$@" >/dev/null; then
    printf '[prebuild] %s: %s s\n' "$*" "$(( $(date +%s) - t0 ))" >&2
  else
    printf '[prebuild] %s failed (exit %s); the test that needs it will run it again\n' "$*" "$?" >&2
  fi
}

# Debian first: it is network- and dpkg-bound, and the e2e Heat files need it.
step bash test/env/heat/install.sh
step bash test/env/clients/install-openstack-cli.sh
step bash test/e2e/packaging/install-lua.sh
# Then the Go builds: helm first (every packaging test needs it; `npm test` builds only the control
# plane up front), then the smaller ones, so the test files that need them wait least.
step bash src/devenv/build-k8s.sh helm
step bash test/env/clients/build-huawei-aos.sh
step bash test/bench/twin/build.sh
step bash test/env/argocd/build.sh

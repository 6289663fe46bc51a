#!/usr/bin/env bash
# Builds test/env/clients/huawei-aos (one RFS call through Huawei's official Go SDK,
# github.com/huaweicloud/huaweicloud-sdk-go-v3, service aos) from the Go module proxy into the test
# cache, for test/e2e/official-clients/rfs-go-sdk.test.ts. Idempotent: the binary is keyed by a hash of
# its sources (main.go, go.mod, go.sum) and never rebuilt for the same sources; one build at a time per
# cache (flock). Prints the binary's path on stdout.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/huawei-aos" && pwd)"
CACHE="${STACK_OPERATOR_CACHE:-$HOME/.cache/stack-operator}"
KEY=$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-16)
OUT="$CACHE/huawei-aos-$KEY/aos-call"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly"

if [[ -x "$OUT" ]]; then
  echo "$OUT"
  exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.huawei-aos.lock"
flock 9
if [[ ! -x "$OUT" ]]; then
  echo "[build-huawei-aos] building $OUT (first run downloads the SDK module, ~250 MB unpacked)" >&2
  mkdir -p "$(dirname "$OUT")"
  # build next to the final path, then rename: a reader never sees a half-written binary
  (cd "$SRC" && go build -o "$OUT.tmp.$$" .)
  mv -f "$OUT.tmp.$$" "$OUT"
fi
echo "$OUT"

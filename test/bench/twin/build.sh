#!/usr/bin/env bash
# Builds the controller-runtime twin (test/bench/twin, the peer of `npm run bench -- --twin`) from the
# Go module proxy into the cache outside the repo, keyed by a hash of its sources: idempotent (a binary
# already built from these sources is never rebuilt) and serialised by a lock, like
# src/devenv/build-k8s.sh. Prints the binary's path on stdout.
#
# go.mod requires every module it shares with helm at helm's version (helm v4.3.1 is built on the same
# controller-runtime v0.25.2 and client-go): built after helm, with the same flags, the twin is a few
# seconds of compiling instead of eight minutes on a fresh machine (docs/test-environment.md). Moving
# HELM_VERSION means aligning these again (`go mod edit -require=…` from helm's go.mod, `go mod tidy`).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${STACK_OPERATOR_CACHE:-$HOME/.cache/stack-operator}"
hash="$(cd "$SRC" && cat go.mod go.sum $(ls ./*.go | sort) | sha256sum | cut -c1-16)"
OUT="$CACHE/twin-$hash/bin/twin"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly -buildvcs=false"

log() { printf '[build-twin] %s\n' "$*" >&2; }

# Fast path without the lock: the binary only appears by an atomic rename of a finished file.
if [[ -x "$OUT" ]]; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.twin-build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/.twin-build.lock; waiting for it"
  flock 9
fi
if [[ ! -x "$OUT" ]]; then
  export PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || { log "go is required (the machine image provides /usr/local/go)"; exit 1; }
  mkdir -p "$(dirname "$OUT")"
  log "building $OUT"
  start=$(date +%s)
  (cd "$SRC" && go build -ldflags "-s -w" -o "$OUT.tmp" .)
  mv "$OUT.tmp" "$OUT"
  log "built in $(( $(date +%s) - start )) s"
fi
echo "$OUT"

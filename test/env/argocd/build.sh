#!/usr/bin/env bash
# Builds Argo CD (one binary `argocd`; it acts as argocd-application-controller, argocd-repo-server,
# argocd-server or the CLI depending on the name it is started under) from the Go module proxy into a
# versioned cache outside the repo, and installs Debian's redis-server. Idempotent: nothing runs when
# both are there. Prints the directory that holds the binary and its links (last line of stdout).
#
# Why this version and not the newest: docs/test-environment.md ("Argo CD"). Why a copy of the module:
# Argo CD's go.mod has replace directives, so `go install module@version` refuses it; built from a
# copy of the module source, the replaces apply as upstream intends.
set -euo pipefail

ARGOCD_VERSION="${ARGOCD_VERSION:-v3.2.12}"
CACHE="${STACK_OPERATOR_CACHE:-$HOME/.cache/stack-operator}"
DIR="$CACHE/argocd-$ARGOCD_VERSION"
BIN="$DIR/bin"
NAMES=(argocd-application-controller argocd-repo-server argocd-server)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath

log() { printf '[build-argocd] %s\n' "$*" >&2; }

have_argocd() {
  [[ -x "$BIN/argocd" ]] || return 1
  for n in "${NAMES[@]}"; do [[ -L "$BIN/$n" ]] || return 1; done
}
have_redis() { command -v redis-server >/dev/null 2>&1; }

install_redis() {
  have_redis && return 0
  bash "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh" redis-server
}

build_argocd() {
  export PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || { log "go is required (the machine image provides /usr/local/go)"; exit 1; }
  local start mod
  start=$(date +%s)
  log "building Argo CD $ARGOCD_VERSION (one-time; several minutes on 2 cores)"
  mod="$(go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  rm -rf "$DIR/src"
  mkdir -p "$DIR" "$BIN"
  cp -r "$mod" "$DIR/src"
  chmod -R u+w "$DIR/src"
  # The one listener Argo CD has no address flag for: the controller's metrics / healthz server binds
  # every interface. Tests stay on loopback (docs/test-environment.md).
  sed -i 's|fmt.Sprintf("0.0.0.0:%d", metricsPort)|fmt.Sprintf("127.0.0.1:%d", metricsPort)|' "$DIR/src/controller/appcontroller.go"
  grep -q '"127.0.0.1:%d", metricsPort' "$DIR/src/controller/appcontroller.go" || { log "cannot bind the controller's metrics server to loopback"; exit 1; }
  # v3.2.12 as published does not compile: a backported fix in controller/cache/info.go calls
  # settings.ValidateExternalURL, which exists on that branch only unexported (validateExternalURL).
  if grep -q 'settings.ValidateExternalURL' "$DIR/src/controller/cache/info.go" && ! grep -q 'func ValidateExternalURL' "$DIR/src/util/settings/settings.go"; then
    printf 'package settings\n\n// ValidateExternalURL: added by stack-operator test/env/argocd/build.sh (see there).\nfunc ValidateExternalURL(u string) error { return validateExternalURL(u) }\n' >"$DIR/src/util/settings/zz_export_validate_external_url.go"
  fi
  (cd "$DIR/src" && go build -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}" -o "$BIN/argocd.tmp" ./cmd)
  mv -f "$BIN/argocd.tmp" "$BIN/argocd"
  for n in "${NAMES[@]}"; do ln -sfn argocd "$BIN/$n"; done
  # The CRDs are all the tests need from the source; the rest is ~40 MB.
  mkdir -p "$DIR/crds"
  cp "$DIR/src/manifests/crds/application-crd.yaml" "$DIR/src/manifests/crds/appproject-crd.yaml" "$DIR/crds/"
  rm -rf "$DIR/src"
  log "built $BIN/argocd in $(( $(date +%s) - start )) s"
}

if ! have_argocd || ! have_redis; then
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.build-argocd.lock"
  if ! flock -n 9; then
    log "another build holds $CACHE/.build-argocd.lock; waiting for it"
    flock 9
  fi
  have_argocd || build_argocd
  install_redis
fi
echo "$BIN"

#!/usr/bin/env bash
# Builds the real Kubernetes control plane used by integration and e2e tests (kube-apiserver, etcd,
# kube-controller-manager, kubectl) and helm from the Go module proxy, into a versioned cache outside
# the repo. Idempotent: a binary already built for this version is never rebuilt.
#
# Why a wrapper module: k8s.io/kubernetes requires its staging modules at v0.0.0 with relative
# replaces, so `go install` refuses it. Our own go.mod replaces each staging module with its published
# v0.X.Y twin (see docs/test-environment.md).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.35.4}"
HELM_VERSION="${HELM_VERSION:-v4.3.1}"
CACHE="${STACK_OPERATOR_CACHE:-$HOME/.cache/stack-operator}"
OUT="$CACHE/k8s-$K8S_VERSION/bin"
HELM_OUT="$CACHE/helm-$HELM_VERSION/bin"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath

log() { printf '[build-k8s] %s\n' "$*" >&2; }

# What to build: all (default), control-plane (what a control plane and kubectl need), or helm.
# `npm test` builds the control plane up front and helm in the background (test/env/prebuild.sh):
# only the packaging tests need it, and on a fresh machine it is minutes of compiling.
WHAT="${1:-all}"
case "$WHAT" in all|control-plane|helm) ;; *) log "usage: build-k8s.sh [all|control-plane|helm]"; exit 2 ;; esac

missing() {
  need=()
  if [[ "$WHAT" != helm ]]; then
    for b in kube-apiserver etcd kube-controller-manager kubectl; do
      [[ -x "$OUT/$b" ]] || need+=("$b")
    done
  fi
  if [[ "$WHAT" != control-plane ]]; then
    [[ -x "$HELM_OUT/helm" ]] || need+=(helm)
  fi
  [[ ${#need[@]} -gt 0 ]]
}

# Fast path without the lock: binaries only appear by an atomic rename of a finished file.
if ! missing; then
  log "cached ($WHAT): $OUT, $HELM_OUT"
  exit 0
fi

# One build at a time per cache (parallel test runs, dev and CI on one machine): later callers wait,
# then find the binaries cached.
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/.build.lock; waiting for it"
  flock 9
fi
if ! missing; then
  log "cached ($WHAT): $OUT, $HELM_OUT"
  exit 0
fi
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { log "go is required (the machine image provides /usr/local/go)"; exit 1; }
log "building: ${need[*]} (Kubernetes $K8S_VERSION, helm $HELM_VERSION)"
start=$(date +%s)

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging_version="v0.${K8S_VERSION#v1.}"
LDF="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  LDF+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build_k8s() {
  local work="$CACHE/k8s-$K8S_VERSION/src"
  mkdir -p "$work" "$OUT"
  cd "$work"
  if [[ ! -f go.mod.done ]]; then
    rm -f go.mod go.sum
    go mod init example.invalid/k8sbin >/dev/null 2>&1
    local upstream
    upstream="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    go mod edit -go="$(sed -n 's/^go //p' "$upstream")"
    go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
    # Every staging module the release requires at v0.0.0, replaced with its published twin.
    for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$upstream" | sort -u); do
      go mod edit -replace="$m=$m@$staging_version"
    done
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    go mod tidy
    touch go.mod.done
  fi
  for b in kube-apiserver kube-controller-manager kubectl; do
    [[ -x "$OUT/$b" ]] && continue
    log "go build $b"
    t=$(date +%s)
    go build -ldflags "$LDF" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b" && mv "$OUT/$b.tmp" "$OUT/$b"
    log "built $b in $(( $(date +%s) - t )) s"
  done
  if [[ ! -x "$OUT/etcd" ]]; then
    log "go build etcd"
    t=$(date +%s)
    go build -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 && mv "$OUT/etcd.tmp" "$OUT/etcd"
    log "built etcd in $(( $(date +%s) - t )) s"
  fi
}

build_helm() {
  local work="$CACHE/helm-$HELM_VERSION/src"
  local major="${HELM_VERSION%%.*}"
  mkdir -p "$work" "$HELM_OUT"
  cd "$work"
  if [[ ! -f go.mod.done ]]; then
    rm -f go.mod go.sum
    go mod init example.invalid/helmbin >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "helm.sh/helm/%s/cmd/helm"\n' "$major" > tools.go
    go get "helm.sh/helm/$major@$HELM_VERSION"
    go mod tidy
    touch go.mod.done
  fi
  log "go build helm"
  local t
  t=$(date +%s)
  go build -ldflags "-s -w -X helm.sh/helm/$major/internal/version.version=$HELM_VERSION" \
    -o "$HELM_OUT/helm.tmp" "helm.sh/helm/$major/cmd/helm" && mv "$HELM_OUT/helm.tmp" "$HELM_OUT/helm"
  log "built helm in $(( $(date +%s) - t )) s"
}

for b in "${need[@]}"; do
  case "$b" in helm) ;; *) build_k8s; break ;; esac
done
if [[ "$WHAT" != control-plane && ! -x "$HELM_OUT/helm" ]]; then build_helm; fi

if [[ "$WHAT" != helm ]]; then "$OUT/kube-apiserver" --version >&2; fi
log "done in $(( $(date +%s) - start )) s: $OUT"

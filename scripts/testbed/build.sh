#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl from the
# Go module proxy into $TB_BIN (outside the repo, keyed by version). A warm cache returns at once.
# kubectl is not used by the product: the e2e tests use it as the oracle of how kubeconfig files and
# connection flags resolve (test/e2e/kubeconfig.test.ts), at the test bed's version.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
missing=()
for c in etcd "${components[@]}"; do [ -x "$TB_BIN/$c" ] || missing+=("$c"); done
if [ ${#missing[@]} -eq 0 ]; then log "binaries cached in $TB_BIN"; exit 0; fi

command -v go >/dev/null || die "Go is needed to build the test bed (it is not used by the product)"
mkdir -p "$TB_BIN"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
vpkg=k8s.io/component-base/version
ldflags="-s -w -X $vpkg.gitVersion=$KUBE_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor"

build_kube() {
  local c=$1
  [ -x "$TB_BIN/$c" ] && return 0
  log "building $c $KUBE_VERSION (cold: several minutes)"
  (cd "$TB_DIR/gobuild" && go build -trimpath -ldflags "$ldflags" -o "$TB_BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c")
  mv "$TB_BIN/$c.tmp" "$TB_BIN/$c"
}

if [ ! -x "$TB_BIN/etcd" ]; then
  log "building etcd $ETCD_VERSION"
  (cd "$TB_DIR/etcdbuild" && go build -trimpath -ldflags "-s -w" -o "$TB_BIN/etcd.tmp" .)
  mv "$TB_BIN/etcd.tmp" "$TB_BIN/etcd"
fi
for c in "${components[@]}"; do build_kube "$c"; done
log "built into $TB_BIN"

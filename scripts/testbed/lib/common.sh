# Shared settings of the test bed scripts. Sourced, never run.
# Everything the test bed builds is cached outside the repo, keyed by version, so only the
# first run on a machine pays for the Go builds; everything it runs lives under $TB_STATE.

KUBE_VERSION=${KUBE_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
# The copy image's name is the plugin's default (src/core/defaults.ts); the test bed builds
# it locally under exactly that name so the plugin's defaults work unchanged.
COPY_IMAGE=${COPY_IMAGE:-docker.io/library/debian:12-slim}
PAUSE_IMAGE=${PAUSE_IMAGE:-registry.k8s.io/pause:3.10}

TB_CACHE=${TB_CACHE:-$HOME/.cache/kubectl-pvmove/testbed}
TB_BIN=$TB_CACHE/$KUBE_VERSION-etcd$ETCD_VERSION/bin
TB_IMAGES=$TB_CACHE/images
TB_STATE=${TB_STATE:-/var/lib/kubectl-pvmove-testbed}
TB_RUN=$TB_STATE/run
TB_LOGS=$TB_STATE/logs
TB_PKI=$TB_STATE/pki
TB_KUBECONFIG=$TB_STATE/kubeconfig
TB_API_PORT=${TB_API_PORT:-6443}
TB_ETCD_PORT=${TB_ETCD_PORT:-2379}
TB_NODE=${TB_NODE:-pvmove-node}
TB_HOSTPATH_DIR=/tmp/hostpath_pv
TB_POD_CIDR=10.244.0.0/24
TB_SERVICE_CIDR=10.96.0.0/16

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

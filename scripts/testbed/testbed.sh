#!/usr/bin/env bash
# The local single-node Kubernetes test bed: real etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, containerd, runc and CNI, all on this machine.
#
#   testbed.sh up       install, build (cached), start everything, wait for the Node, add StorageClasses
#                       and the pool of local PVs on loop devices (lib/local-pvs.sh)
#   testbed.sh down     stop what `up` started (by pid file) and remove the test bed's state
#   testbed.sh status   which components run, and the Node's condition
#   testbed.sh env      prints the export line for KUBECONFIG
#   testbed.sh logs [C] tail of every component's log (or of one)
#   testbed.sh local-pvs  (re)checks the local PV pool of a running test bed, starts its refill
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$TB_DIR/lib/proc.sh"
source "$TB_DIR/lib/pki.sh"
source "$TB_DIR/lib/config.sh"
source "$TB_DIR/lib/local-pvs.sh"

COMPONENTS=(etcd kube-apiserver containerd kube-controller-manager kube-scheduler kubelet)

api() { curl -sf --cacert "$TB_PKI/ca.crt" --cert "$TB_PKI/admin.crt" --key "$TB_PKI/admin.key" "https://127.0.0.1:$TB_API_PORT$1"; }
host_ip() { ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="src") print $(i+1)}' | head -1; }

all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do component_pid "$c" >/dev/null || return 1; done
  api /readyz >/dev/null
}

cmd_up() {
  if all_running && node_ready; then start_local_pvs; log "already up (KUBECONFIG=$TB_KUBECONFIG)"; return 0; fi
  # Anything half-running or left behind by a crash is cleared first, so `up` starts clean.
  if [ -d "$TB_STATE" ]; then log "clearing a previous, incomplete test bed"; cmd_down; fi
  bash "$TB_DIR/install-deps.sh"
  bash "$TB_DIR/build.sh"
  bash "$TB_DIR/images.sh"
  prepare_host
  local ip; ip=$(host_ip); [ -n "$ip" ] || die "no IPv4 address with a route on this machine for the Node"
  mkdir -p "$TB_STATE" "$TB_RUN" "$TB_LOGS"
  make_pki "$ip"; write_kubeconfig; write_containerd_config; write_kubelet_config

  start_component etcd "$TB_BIN/etcd" --name testbed --data-dir "$TB_STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$TB_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$TB_ETCD_PORT" \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster testbed=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:$TB_ETCD_PORT/health"

  start_component kube-apiserver "$TB_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$TB_ETCD_PORT" --bind-address 127.0.0.1 --advertise-address "$ip" \
    --secure-port "$TB_API_PORT" --tls-cert-file "$TB_PKI/apiserver.crt" --tls-private-key-file "$TB_PKI/apiserver.key" \
    --client-ca-file "$TB_PKI/ca.crt" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$TB_PKI/sa.pub" \
    --service-account-signing-key-file "$TB_PKI/sa.key" --service-cluster-ip-range "$TB_SERVICE_CIDR" \
    --allow-privileged=true --kubelet-client-certificate "$TB_PKI/admin.crt" --kubelet-client-key "$TB_PKI/admin.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --profiling=false --enable-priority-and-fairness=false --v=1
  wait_for kube-apiserver 120 api /readyz

  start_component containerd /usr/bin/containerd --config "$TB_STATE/containerd/config.toml"
  wait_for containerd 30 ctr --address "$TB_RUN/containerd.sock" version
  import_images

  start_component kube-controller-manager "$TB_BIN/kube-controller-manager" --kubeconfig "$TB_KUBECONFIG" \
    --leader-elect=false --bind-address 127.0.0.1 --enable-hostpath-provisioner=true \
    --pvclaimbinder-sync-period 5s --service-account-private-key-file "$TB_PKI/sa.key" \
    --root-ca-file "$TB_PKI/ca.crt" --use-service-account-credentials=false --profiling=false --v=1
  start_component kube-scheduler "$TB_BIN/kube-scheduler" --kubeconfig "$TB_KUBECONFIG" \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false --v=1
  wait_for kube-controller-manager 60 curl -sfk https://127.0.0.1:10257/healthz
  wait_for kube-scheduler 60 curl -sfk https://127.0.0.1:10259/healthz

  start_component kubelet "$TB_BIN/kubelet" --config "$TB_STATE/kubelet/config.yaml" \
    --kubeconfig "$TB_KUBECONFIG" --root-dir "$TB_STATE/kubelet/root" --cert-dir "$TB_STATE/kubelet/pki" \
    --hostname-override "$TB_NODE" --node-ip "$ip" --v=1
  wait_for kubelet 120 node_ready
  apply_storage_classes
  start_local_pvs
  log "up: Node $TB_NODE is Ready. $(cmd_env)"
}

prepare_host() {
  # Bridged pod traffic and overlay mounts need these; each is harmless when already set.
  modprobe overlay 2>/dev/null || true
  modprobe br_netfilter 2>/dev/null || true
  mkdir -p "$TB_HOSTPATH_DIR"
  # Loop devices on files of a test bed whose state directory is gone (removed by hand, or a crash
  # in the middle of `down`).
  detach_testbed_loops
}

# The local StorageClasses, every disk of the pool checked and each missing PV created, then the
# refill loop (a component like the others) that wipes and re-creates released PVs.
start_local_pvs() {
  apply_local_storage_classes
  local_pvs_refill full || die "could not list the local PVs"
  component_pid local-pvs >/dev/null ||
    start_component local-pvs "$(command -v bash)" "$TB_DIR/testbed.sh" local-pvs-loop
  log "local PVs: $(local_pool | wc -l) in the pool (classes local-block, local-fs)"
}

import_images() {
  local t
  for t in "$TB_IMAGES"/*.tar; do
    ctr --address "$TB_RUN/containerd.sock" -n k8s.io images import "$t" >/dev/null \
      || fail_component containerd "could not import image $t"
  done
}

node_ready() {
  api "/api/v1/nodes/$TB_NODE" | jq -e '.status.conditions[] | select(.type=="Ready") | .status=="True"' >/dev/null
}

apply_storage_classes() {
  local name mode default
  for spec in "standard WaitForFirstConsumer true" "fast Immediate false"; do
    read -r name mode default <<<"$spec"
    local body
    body=$(jq -n --arg n "$name" --arg m "$mode" --arg d "$default" '{apiVersion:"storage.k8s.io/v1",kind:"StorageClass",
      metadata:{name:$n, annotations:{"storageclass.kubernetes.io/is-default-class":$d}},
      provisioner:"kubernetes.io/host-path", reclaimPolicy:"Delete", volumeBindingMode:$m, allowVolumeExpansion:false}')
    curl -sf -o /dev/null --cacert "$TB_PKI/ca.crt" --cert "$TB_PKI/admin.crt" --key "$TB_PKI/admin.key" \
      -X POST -H 'Content-Type: application/json' -d "$body" \
      "https://127.0.0.1:$TB_API_PORT/apis/storage.k8s.io/v1/storageclasses" \
      || api "/apis/storage.k8s.io/v1/storageclasses/$name" >/dev/null || die "could not create StorageClass $name"
  done
}

# Kills what containerd started for pods (shims and their containers), found through the pid files
# containerd keeps in its own state directory: they outlive containerd after a crash.
stop_pod_processes() {
  local f pid
  while IFS= read -r f; do
    pid=$(cat "$f" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done < <(find "$TB_STATE/containerd/state" \( -name init.pid -o -name shim.pid \) 2>/dev/null)
  # A shim caught between tasks has no pid file left; it still names our containerd's private
  # socket on its command line, which no process but one of this test bed's can do.
  local d
  for d in /proc/[0-9]*; do
    # A process may exit between the glob and the read: its vanished cmdline is not an error.
    { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -qF -- "-address $TB_RUN/containerd.sock" &&
      kill -KILL "${d#/proc/}" 2>/dev/null || true
  done
}

unmount_under() {
  local dir=$1 m
  # Deepest first, so nested mounts come off before their parents.
  awk -v d="$dir" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

# The refill loop and whatever pass it runs (its process group: setsid made it the leader), so no
# pass attaches a loop device or creates a PV after this point.
stop_local_pvs() {
  local pid
  if pid=$(component_pid local-pvs); then
    log "stopping local-pvs (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || true
    stop_pid "$pid"
  fi
  rm -f "$TB_RUN/local-pvs.pid" "$TB_RUN/local-pvs.exe"
}

cmd_down() {
  stop_local_pvs
  stop_component kubelet
  # Remove pod sandboxes through containerd while it still runs: this tears down their networks.
  if component_pid containerd >/dev/null; then
    local id
    for id in $(ctr --address "$TB_RUN/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$TB_RUN/containerd.sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
  fi
  local c
  for c in kube-scheduler kube-controller-manager containerd kube-apiserver etcd; do stop_component "$c"; done
  stop_pod_processes
  # Detached first (a mounted one goes when it is unmounted), then once more for any the kubelet's
  # unmounts released.
  detach_testbed_loops
  unmount_under "$TB_STATE"
  detach_testbed_loops
  ip link del pvmove0 2>/dev/null || true
  if [ -d "$TB_STATE" ]; then rm -rf "$TB_STATE" || { sleep 2; unmount_under "$TB_STATE"; rm -rf "$TB_STATE"; }; fi
  rm -rf "$TB_HOSTPATH_DIR"
  log "down"
}

cmd_status() {
  local c pid rc=0
  for c in "${COMPONENTS[@]}"; do
    if pid=$(component_pid "$c"); then printf '%-24s running (pid %s)\n' "$c" "$pid"; else printf '%-24s stopped\n' "$c"; rc=1; fi
  done
  if pid=$(component_pid local-pvs); then printf '%-24s running (pid %s)\n' local-pvs "$pid"; else printf '%-24s stopped\n' local-pvs; rc=1; fi
  if node_ready 2>/dev/null; then echo "node $TB_NODE: Ready"; else echo "node $TB_NODE: not Ready"; rc=1; fi
  return $rc
}

# The test bed's kubectl (built at the cluster's version) is a fallback at the end of PATH: a
# machine without kubectl can still run the demo and the tests that go through `kubectl pvmove`.
cmd_env() {
  echo "export KUBECONFIG=$TB_KUBECONFIG"
  case ":$PATH:" in *":$TB_BIN:"*) ;; *) echo "export PATH=\"\$PATH:$TB_BIN\"" ;; esac
}

cmd_logs() {
  local c list=("$@")
  [ ${#list[@]} -gt 0 ] || list=("${COMPONENTS[@]}" local-pvs)
  for c in "${list[@]}"; do
    [ -s "$TB_LOGS/$c.log" ] || continue
    echo "===== $c ($TB_LOGS/$c.log) ====="; tail -n "${TB_LOG_LINES:-30}" "$TB_LOGS/$c.log"
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  logs) shift; cmd_logs "$@" ;;
  local-pvs) all_running || die "the test bed is not up"; start_local_pvs ;;
  local-pvs-loop) local_pvs_loop ;;
  *) echo "usage: $0 up|down|status|env|logs [component]|local-pvs" >&2; exit 2 ;;
esac

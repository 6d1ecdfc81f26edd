# Configuration files of containerd, CNI and the kubelet, written under $TB_STATE. Sourced.

write_containerd_config() {
  mkdir -p "$TB_STATE/containerd" "$TB_STATE/cni/net.d"
  cat >"$TB_STATE/containerd/config.toml" <<EOF
version = 2
root = "$TB_STATE/containerd/root"
state = "$TB_STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$TB_RUN/containerd.sock"
[ttrpc]
  address = "$TB_RUN/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine's root lacks CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj below
  # containerd's own (the kubelet asks -998 for sandboxes): cap it instead of failing every pod.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$TB_STATE/cni/net.d"
EOF
  # A bridge on the node; pods need an address, not a route anywhere.
  cat >"$TB_STATE/cni/net.d/10-pvmove.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "pvmove-testbed", "plugins": [
  {"type": "bridge", "bridge": "pvmove0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$TB_STATE/cni/ipam",
            "ranges": [[{"subnet": "$TB_POD_CIDR"}]]}}]}
EOF
}

write_kubelet_config() {
  mkdir -p "$TB_STATE/kubelet"
  cat >"$TB_STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 only; kubelet 1.35+ refuses it unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
containerRuntimeEndpoint: unix://$TB_RUN/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $TB_PKI/ca.crt}
authorization: {mode: AlwaysAllow}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
serializeImagePulls: false
# Never evict or garbage-collect on a build machine whose disk is shared with everything else.
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
resolvConf: /etc/resolv.conf
syncFrequency: 10s
fileCheckFrequency: 10s
EOF
}

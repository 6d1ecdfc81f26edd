# Node-local PersistentVolumes of the test bed: the in-tree `local` volume plugin on loop devices
# the test bed attaches to sparse files of its own. Sourced, never run.
#
#   local-block  volumeMode Block: the PV's path is the raw loop device
#   local-fs     volumeMode Filesystem: the loop device formatted ext4, mounted under $TB_LOCAL/mnt
#
# Both classes have no provisioner and bind when a pod is scheduled (WaitForFirstConsumer); every PV
# has node affinity to the test bed's node. The PVs are created beforehand from the pool below and
# have reclaim policy Delete with this test bed named as their (external) deleter: the PV controller
# leaves a Released one alone, and the refill (local_pvs_refill, run every few seconds by the
# `local-pvs` component) wipes its device and creates the PV again, as the static provisioner of
# sig-storage does on a real cluster. A PV that was deleted (`kubectl pvmove cleanup`) is created
# again the same way. A PV on Retain is never touched while it exists.
#
# Loop devices are a resource of the whole machine: every device the test bed attaches is written
# to $TB_LOOPS ("device backing-file") the moment it is attached, and the test bed only ever
# detaches a device whose backing file lies in its own state directory.

TB_LOCAL=$TB_STATE/local
TB_LOOPS=$TB_LOCAL/loops
TB_LOCAL_DELETER=pvmove-testbed/local-pvs
TB_LOCAL_POOL_LABEL=pvmove-testbed/pool
TB_LOCAL_REFILL_SECONDS=${TB_LOCAL_REFILL_SECONDS:-5}

# The pool: "class count size". Sizes are small and the files sparse: the disk holds only what a
# test writes. Enough for parallel e2e lanes, each moving a claim to a bigger PV of the same class.
TB_LOCAL_POOL=${TB_LOCAL_POOL:-"local-block 4 64Mi
local-block 4 128Mi
local-block 3 256Mi
local-fs 3 64Mi
local-fs 3 128Mi
local-fs 2 256Mi"}

# Prints "name class size" per PV of the pool, e.g. "local-block-64mi-1 local-block 64Mi".
local_pool() {
  local class count size i
  while read -r class count size; do
    [ -n "$class" ] || continue
    for ((i = 1; i <= count; i++)); do
      echo "$class-$(echo "$size" | tr 'A-Z' 'a-z')-$i $class $size"
    done
  done <<<"$TB_LOCAL_POOL"
}

size_bytes() { # 64Mi -> 67108864
  case $1 in
    *Gi) echo $((${1%Gi} * 1024 * 1024 * 1024)) ;;
    *Mi) echo $((${1%Mi} * 1024 * 1024)) ;;
    *) die "size $1: use Mi or Gi" ;;
  esac
}

# The backing file of a loop device, as the kernel reports it ("" when the device is not attached).
loop_backing_file() { cat "/sys/block/${1#/dev/}/loop/backing_file" 2>/dev/null || true; }

# loop_for FILE: the loop device attached to FILE, attaching (and recording) one if there is none.
# A device recorded before a crash, or attached just before one (not yet recorded), is reused.
loop_for() {
  local file=$1 dev recorded_dev recorded_file
  mkdir -p "$TB_LOCAL"; touch "$TB_LOOPS"
  while read -r recorded_dev recorded_file; do
    if [ "$recorded_file" = "$file" ] && [ "$(loop_backing_file "$recorded_dev")" = "$file" ]; then
      echo "$recorded_dev"; return 0
    fi
  done <"$TB_LOOPS"
  dev=$(losetup --noheadings --output NAME --associated "$file" | head -n1)
  if [ -z "$dev" ]; then
    dev=$(losetup --find --show "$file") || die "cannot attach a loop device to $file"
  fi
  echo "$dev $file" >>"$TB_LOOPS"
  echo "$dev"
}

# Detaches the loop devices of this test bed: the recorded ones whose backing file is still the
# recorded one, and any other whose backing file lies under $TB_STATE (attached but not recorded
# before a crash, or attached by the kubelet to map a Block volume into a pod). A device still in
# use (mounted) is detached by the kernel when its last user closes it.
detach_testbed_loops() {
  local dev file
  if [ -s "$TB_LOOPS" ]; then
    while read -r dev file; do
      [ -n "$file" ] && [ "$(loop_backing_file "$dev")" = "$file" ] || continue
      losetup --detach "$dev" 2>/dev/null || log "could not detach $dev ($file)"
    done <"$TB_LOOPS"
  fi
  for dev in /sys/block/loop*; do
    file=$(cat "$dev/loop/backing_file" 2>/dev/null) || continue
    case $file in
      "$TB_STATE"/*) losetup --detach "/dev/${dev#/sys/block/}" 2>/dev/null || log "could not detach /dev/${dev#/sys/block/} ($file)" ;;
    esac
  done
  rm -f "$TB_LOOPS"
}

# prepare_local_disk NAME CLASS SIZE: the sparse file, its loop device and, for local-fs, the ext4
# filesystem mounted at $TB_LOCAL/mnt/NAME. Prints the PV's path on the node.
prepare_local_disk() {
  local name=$1 class=$2 size=$3 file dev mnt
  mkdir -p "$TB_LOCAL/disks"
  file=$TB_LOCAL/disks/$name.img
  [ -e "$file" ] || truncate -s "$(size_bytes "$size")" "$file"
  dev=$(loop_for "$file")
  if [ "$class" = local-block ]; then echo "$dev"; return 0; fi
  mnt=$TB_LOCAL/mnt/$name
  mkdir -p "$mnt"
  if ! findmnt --noheadings --mountpoint "$mnt" >/dev/null; then
    [ "$(blkid -p -o value -s TYPE "$dev" 2>/dev/null)" = ext4 ] || mkfs.ext4 -q -F -m 0 "$dev" >/dev/null
    mount "$dev" "$mnt" || die "cannot mount $dev on $mnt"
  fi
  echo "$mnt"
}

# Back to empty: a Block device reads zeros (discard punches holes in the sparse file), a
# filesystem holds only lost+found, owned by root, mode 0755.
wipe_local_disk() {
  local class=$1 path=$2
  if [ "$class" = local-block ]; then
    blkdiscard "$path" 2>/dev/null || dd if=/dev/zero of="$path" bs=4M oflag=direct status=none 2>/dev/null || true
  else
    find "$path" -xdev -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf -- {} +
    chown 0:0 "$path"; chmod 0755 "$path"
  fi
}

local_api() { # local_api METHOD PATH [BODY]
  curl -sf --cacert "$TB_PKI/ca.crt" --cert "$TB_PKI/admin.crt" --key "$TB_PKI/admin.key" -X "$1" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "https://127.0.0.1:$TB_API_PORT$2"
}

apply_local_storage_classes() {
  local name body
  for name in local-block local-fs; do
    body=$(jq -n --arg n "$name" '{apiVersion:"storage.k8s.io/v1",kind:"StorageClass",metadata:{name:$n},
      provisioner:"kubernetes.io/no-provisioner", reclaimPolicy:"Delete", volumeBindingMode:"WaitForFirstConsumer"}')
    local_api POST /apis/storage.k8s.io/v1/storageclasses "$body" >/dev/null \
      || local_api GET "/apis/storage.k8s.io/v1/storageclasses/$name" >/dev/null || die "could not create StorageClass $name"
  done
}

local_pv_body() { # NAME CLASS SIZE PATH
  jq -n --arg name "$1" --arg class "$2" --arg size "$3" --arg path "$4" --arg node "$TB_NODE" \
    --arg deleter "$TB_LOCAL_DELETER" --arg pool "$TB_LOCAL_POOL_LABEL" '{apiVersion:"v1",kind:"PersistentVolume",
    metadata:{name:$name, labels:{($pool):"local"}, annotations:{"pv.kubernetes.io/provisioned-by":$deleter}},
    spec:{capacity:{storage:$size}, accessModes:["ReadWriteOnce"], persistentVolumeReclaimPolicy:"Delete",
      storageClassName:$class, volumeMode:(if $class == "local-block" then "Block" else "Filesystem" end),
      local:{path:$path},
      nodeAffinity:{required:{nodeSelectorTerms:[{matchExpressions:[{key:"kubernetes.io/hostname",operator:"In",values:[$node]}]}]}}}}'
}

# One pass over the pool. With "full", every disk is checked (file, loop device, filesystem, mount)
# first; otherwise only the disks of PVs that are missing or Released with policy Delete are. One
# pass at a time (the refill loop and `up` may overlap): a pass that listed the PVs before another
# re-created one must not wipe it again once a claim has bound it.
local_pvs_refill() {
  mkdir -p "$TB_LOCAL"
  (
    flock 9
    local_pvs_pass "$@"
  ) 9>"$TB_LOCAL/refill.lock"
}

local_pvs_pass() {
  local mode=${1:-} name class size path uid phase policy current
  local -A seen=()
  local lines
  lines=$(local_api GET "/api/v1/persistentvolumes?labelSelector=$TB_LOCAL_POOL_LABEL%3Dlocal" \
    | jq -r '.items[] | [.metadata.name, .metadata.uid, (.status.phase // "-"), (.spec.persistentVolumeReclaimPolicy // "-"), (.spec.local.path // "-")] | join(" ")') || return 1
  while read -r name uid phase policy current; do
    if [ -n "$name" ]; then seen[$name]="$uid $phase $policy $current"; fi
  done <<<"$lines"
  while read -r name class size; do
    uid='' phase='' policy='' current=''
    [ -z "${seen[$name]:-}" ] || read -r uid phase policy current <<<"${seen[$name]}"
    if [ -n "$uid" ] && [ "$mode" != full ] && ! { [ "$phase" = Released ] && [ "$policy" = Delete ]; }; then continue; fi
    path=$(prepare_local_disk "$name" "$class" "$size") && [ -n "$path" ] || { log "local PV $name: its disk is not ready"; continue; }
    if [ -n "$uid" ]; then
      # A PV in use or kept (Retain) is left alone; an Available one on a stale device path (the
      # loop device got another number after a crash) is made again.
      if [ "$phase" = Released ] && [ "$policy" = Delete ]; then
        log "local PV $name was released: wiping it and creating it again"
      elif [ "$phase" = Available ] && [ "$current" != "$path" ]; then
        log "local PV $name points at $current, its disk is $path now: creating it again"
      else
        continue
      fi
      # The uid precondition: never delete a PV that was re-created meanwhile.
      local_api DELETE "/api/v1/persistentvolumes/$name" "{\"preconditions\":{\"uid\":\"$uid\"}}" >/dev/null || continue
      for _ in $(seq 50); do local_api GET "/api/v1/persistentvolumes/$name" >/dev/null || break; sleep 0.2; done
    fi
    wipe_local_disk "$class" "$path"
    local_api POST /api/v1/persistentvolumes "$(local_pv_body "$name" "$class" "$size" "$path")" >/dev/null \
      || log "could not create local PV $name"
  done < <(local_pool)
}

# The refill loop the `local-pvs` component runs.
local_pvs_loop() {
  while sleep "$TB_LOCAL_REFILL_SECONDS"; do local_pvs_refill || true; done
}

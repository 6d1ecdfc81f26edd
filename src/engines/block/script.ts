// The shell program the Block copy pod runs: it copies the source device to the target device
// byte for byte over the source's length (not files: a Block volume holds whatever the application
// put there, a database's raw extents or a VM's disk). Lines starting with `PVMOVE ` are the
// protocol the CLI reads from the pod's log (see log.ts), in the tar engine's style; every failure
// exits non-zero with a `PVMOVE error ...` line.
import { EXPECT_FINGERPRINT_ENV } from '../shared/copy-pod.js';
import type { VerifyMode } from '../../core/types.js';

/** Where the pod maps the two claims (volumeDevices). */
export const SOURCE_DEVICE = '/dev/pvmove-source';
export const TARGET_DEVICE = '/dev/pvmove-target';

/** Exit codes of the copy pod, reported back in failure messages (the tar engine's where they agree). */
export const BLOCK_EXIT = {
  insufficientSpace: 3,
  copyFailed: 4,
  missingTools: 5,
  verifyFailed: 6,
  sourceChanged: 7,
  notBlockDevice: 8,
} as const;

/**
 * The copy pod's environment variable with the source fingerprint (sha256 of the source over its
 * length) recorded by an earlier checksum-verified copy: the script first checks whether the source
 * and the target both still hash to it, and copies again otherwise.
 */
export { EXPECT_FINGERPRINT_ENV };

/**
 * dd's block: 4 MiB reads and writes with O_DIRECT on both devices (no page cache: the copy neither
 * evicts the node's cache nor reports data as written that is still in memory). Zero blocks are
 * skipped at this granularity (see ZERO_SKIP in the script).
 */
export const BLOCK_BYTES = 4 * 1024 * 1024;

/** Progress lines to aim for over the whole copy; one at least every PROGRESS_MAX_SECONDS. */
const TARGET_PROGRESS_LINES = 400;
const PROGRESS_MAX_SECONDS = 10;

export function blockCopyScript(verify: VerifyMode): string {
  return `set -euo pipefail
export LC_ALL=C
say() { printf 'PVMOVE %s\\n' "$*"; }
die() { local code=$1; shift; say "error $*"; exit "$code"; }
src=${SOURCE_DEVICE}
dst=${TARGET_DEVICE}

for tool in dd blockdev sha256sum stat; do
  command -v "$tool" >/dev/null || die ${BLOCK_EXIT.missingTools} "missing-tools the image needs dd, blockdev (util-linux), sha256sum and stat; $tool is missing"
done
[ -b "$src" ] || die ${BLOCK_EXIT.notBlockDevice} "not-a-block-device $src is not a block device (the source claim must have volumeMode Block)"
[ -b "$dst" ] || die ${BLOCK_EXIT.notBlockDevice} "not-a-block-device $dst is not a block device (the target claim must have volumeMode Block)"

size=$(blockdev --getsize64 "$src")
target_size=$(blockdev --getsize64 "$dst")
[ "$target_size" -ge "$size" ] || die ${BLOCK_EXIT.insufficientSpace} "target-too-small the source device has $size bytes but the target device only $target_size"
say "total_bytes=$size target_bytes=$target_size block_bytes=${BLOCK_BYTES}"

# sha256 of a device over the source's length, read with O_DIRECT (what the disk holds, not what a
# cache remembers).
sum_of() {
  dd if="$1" bs=${BLOCK_BYTES} iflag=direct,count_bytes count="$size" status=none | sha256sum | cut -c1-64
}
# Both devices at once (two readers, two hashers) into src_sum and dst_sum.
sums() {
  sum_of "$src" > /tmp/src.sha & local a=$!
  sum_of "$dst" > /tmp/dst.sha & local b=$!
  wait "$a" || die ${BLOCK_EXIT.copyFailed} "copy-failed cannot read the source device"
  wait "$b" || die ${BLOCK_EXIT.copyFailed} "copy-failed cannot read the target device"
  read -r src_sum < /tmp/src.sha
  read -r dst_sum < /tmp/dst.sha
}

# An earlier run copied already (and recorded the source's sha256): if the source and the target
# both still hash to it, the copy stands; otherwise it is made again.
if [ -n "\${${EXPECT_FINGERPRINT_ENV}:-}" ]; then
  sums
  if [ "$src_sum" != "$${EXPECT_FINGERPRINT_ENV}" ]; then
    say "earlier-copy source-changed"
  elif [ "$dst_sum" = "$src_sum" ]; then
    say "fingerprint=$src_sum"
    say "earlier-copy unchanged"
    say "${verdict(verify)} bytes=$size${verify === 'checksum' ? ' sha256=$src_sum' : ''} copy_ms=0 zero_skip=no"
    exit 0
  else
    say "earlier-copy target-differs sha256 of the target over $size bytes is $dst_sum"
  fi
fi

# ZERO_SKIP: a block of zeros is only left unwritten where the target is known to read back zeros.
# The target is made so first, over the source's length, with BLKZEROOUT (blkdiscard --zeroout):
# once it returns, the kernel guarantees that the range reads as zeros. It is only used where the
# device does it without writing every byte (its queue's write_zeroes_max_bytes is not 0: WRITE
# ZEROES/UNMAP on a disk, a hole punched on a loop device); elsewhere every block is written.
zero_skip=no
if command -v blkdiscard >/dev/null; then
  sys=/sys/dev/block/$((16#$(stat -L -c %t "$dst"))):$((16#$(stat -L -c %T "$dst")))
  queue=$sys/queue; [ -d "$queue" ] || queue=$sys/../queue
  write_zeroes=0
  read -r write_zeroes 2>/dev/null < "$queue/write_zeroes_max_bytes" || true
  if [[ "$write_zeroes" =~ ^[1-9][0-9]*$ ]]; then
    sector=$(blockdev --getss "$dst")
    length=$(( (size + sector - 1) / sector * sector ))
    if [ "$length" -gt "$target_size" ]; then length=$target_size; fi
    # (--force: it would refuse a device holding a filesystem signature, which is what we replace)
    if blkdiscard --force --zeroout --offset 0 --length "$length" "$dst" 2> /tmp/zero.err; then
      zero_skip=yes
    else
      sed 's/^/blkdiscard: /; s/^blkdiscard: blkdiscard: /blkdiscard: /' /tmp/zero.err | tail -n 2
    fi
  fi
fi
sparse=""
if [ "$zero_skip" = yes ]; then sparse=",sparse"; fi

every=$(( size / ${TARGET_PROGRESS_LINES} ))

# progress PID: the bytes dd has read so far (its rchar), each time it moved on by 1/${TARGET_PROGRESS_LINES} of the
# source, at least every ${PROGRESS_MAX_SECONDS}s.
progress() {
  set +e
  local last=0 quiet=0 key value pos
  # sleep's output is not the log's: a sleep still running at the end holds no pipe open.
  while sleep 1 > /dev/null 2>&1; do
    pos=""
    while read -r key value; do if [ "$key" = "rchar:" ]; then pos=$value; break; fi; done 2>/dev/null < "/proc/$1/io"
    if [ -z "$pos" ]; then return 0; fi
    quiet=$((quiet + 1))
    if [ "$pos" -gt "$last" ] && { [ $((pos - last)) -ge "$every" ] || [ "$quiet" -ge ${PROGRESS_MAX_SECONDS} ]; }; then
      say "progress bytes=$pos"; last=$pos; quiet=0
    fi
  done
}

say "copy started zero_skip=$zero_skip"
started=$(date +%s%N)
# One dd: the fair reference (dd bs=4M iflag=direct oflag=direct) is what runs. conv=fsync flushes
# the target's write cache before dd exits: the data is on the disk before anyone relies on it.
dd if="$src" of="$dst" bs=${BLOCK_BYTES} iflag=direct,count_bytes count="$size" oflag=direct conv=notrunc,fsync$sparse 2> /tmp/dd.err &
dd_pid=$!
progress "$dd_pid" &
progress_pid=$!
dd_rc=0; wait "$dd_pid" || dd_rc=$?
kill "$progress_pid" 2>/dev/null || true
copied=$(sed -n 's/^\\([0-9][0-9]*\\) bytes.*copied.*/\\1/p' /tmp/dd.err | tail -n1)
if [ "$dd_rc" -ne 0 ]; then
  grep -v -e 'records in$' -e 'records out$' -e 'copied' /tmp/dd.err | sed 's/^/dd: /; s/^dd: dd: /dd: /' | tail -n 5 || true
  die ${BLOCK_EXIT.copyFailed} "copy-failed dd could not copy the device (see the dd lines above)"
fi
copy_ms=$(( ($(date +%s%N) - started) / 1000000 ))
say "progress bytes=\${copied:-0}"
say "copy done bytes=\${copied:-0} copy_ms=$copy_ms zero_skip=$zero_skip"
[ "\${copied:-0}" = "$size" ] || die ${BLOCK_EXIT.verifyFailed} "verify-failed dd copied \${copied:-0} bytes of the source's $size"
${verifyTail(verify)}
`;
}

/** The verdict line's head: the CLI ends the copy step on it (log.ts). */
function verdict(verify: VerifyMode): string {
  return verify === 'none' ? 'verify skipped mode=none' : `verify ok mode=${verify}`;
}

/**
 * count: the target is at least the source's size (checked before copying) and dd copied exactly
 * the source's length. checksum: sha256 of both devices over the source's length, equal; it is the
 * fingerprint a later run checks the copy against. A source that was written during the copy shows
 * here as a difference (the core also watches for pods that use the claim).
 */
function verifyTail(verify: VerifyMode): string {
  const figures = 'copy_ms=$copy_ms zero_skip=$zero_skip';
  if (verify === 'none') return `say "${verdict(verify)} bytes=$size ${figures}"`;
  if (verify === 'count') return `say "${verdict(verify)} bytes=$size ${figures}"`;
  return `sums
if [ "$src_sum" != "$dst_sum" ]; then
  die ${BLOCK_EXIT.verifyFailed} "verify-failed sha256 over $size bytes differs: source $src_sum, target $dst_sum (was the source written during the copy?)"
fi
say "fingerprint=$src_sum"
say "${verdict(verify)} bytes=$size sha256=$src_sum ${figures}"`;
}

// The shell program the copy pod runs. GNU tar, not rsync: the first full copy of many small files
// is what tar does fastest (korb#193), and it keeps owners, modes, times, links, sparse files,
// xattrs and ACLs. Every failure exits non-zero with a `PVMOVE error ...` line (crane#213: a copy
// that cannot read a file must fail loudly). Lines starting with `PVMOVE ` are the protocol the
// CLI reads from the pod's log (see log.ts).
import { EXPECT_FINGERPRINT_ENV, PASS_ENV } from '../shared/copy-pod.js';
import { COPY_LARGE_FUNCTION, LARGE_FILE_BYTES, PLAN_AWK, readaheadFunction } from './readahead.js';
import { WALK_FUNCTION } from './walk.js';
import type { VerifyMode } from '../../core/types.js';

/** Exit codes of the copy pod, reported back in failure messages. */
export const COPY_EXIT = {
  unreadable: 2,
  insufficientSpace: 3,
  tarFailed: 4,
  missingTools: 5,
  verifyFailed: 6,
  sourceChanged: 7,
} as const;

/**
 * The copy pod's environment variable that carries the source fingerprint recorded by an earlier
 * run's copy. With it, the script first checks whether the source is still exactly as it was then:
 * if so (and the target still verifies) nothing is copied again; otherwise the target is cleared
 * and the copy made again.
 */
export { EXPECT_FINGERPRINT_ENV };

/**
 * Where a warm pass leaves its state on the target: `list`, the records of the walk it copied after
 * (change time, type, size, inode and path of every source entry, sorted), `paths`, their paths
 * sorted, and `since`, the time just before that walk. The next pass copies only what changed since (CHANGES_FUNCTION) and removes from the target
 * what the source no longer has. The final pass takes the state off the target before copying, so
 * the target ends up holding exactly the source; if that pass fails, the next run finds no state and
 * copies everything.
 */
export const PRECOPY_DIR = '.kubectl-pvmove-precopy';

/**
 * How far back from `since` a change still counts as one made during the earlier pass (seconds): a
 * file system stamps change times from a clock that may run behind this pod's (a coarse clock by a
 * few ms, a file system that keeps whole seconds by up to 1 s).
 */
export const SINCE_MARGIN_S = 2;

/**
 * What a pass after a warm one copies, and what it removes (GNU tar's --listed-incremental did this
 * until 2026-12-03, but it reads every directory and its ACLs again while the application is down:
 * ~0.3 s of a 1.2 s final pass for 26,526 entries on the test bed). Sorted lists compared by
 * `comm`, so memory stays bounded however many entries a volume has:
 *
 * - copied: every source entry whose record is not in the earlier walk's list (its path is new, or
 *   its change time differs: it moves on any write, chmod, chown, xattr change, link or rename, and
 *   no program can set it back, so this holds whatever the file system's clock says), and every
 *   entry whose change time is not older than `since` less the margin (a second change within the
 *   clock's granularity leaves the record equal); with them their directories, whose times the
 *   extraction touches;
 * - removed first: what the target has and the source does not. Only two kinds of target paths can
 *   be that: paths of the earlier list's records that this walk does not have (deleted, renamed
 *   away, or changed), and target paths the earlier list does not have (copied by a pass after its
 *   walk); of those, the ones the source does not have. The second kind is listed while the source
 *   is walked (target_news), from the paths the warm pass kept sorted. A path can look present on
 *   the source through a symlink that replaced one of its directories: a directory that is no
 *   longer one on the source goes whole from the target.
 *
 * changes SINCE -> /tmp/send (paths to copy, sorted) and /tmp/extras (target paths to remove), from
 * /tmp/prev.list (the earlier walk's sorted records), /tmp/src.sorted (this walk's) and
 * /tmp/dst.news (target_news).
 */
export const CHANGES_FUNCTION = `changes_fields='s/^[^ ]* [^ ]* [^ ]* [^ ]* //'
# sorted_paths RECORDS: the records' paths, sorted (the warm pass keeps them; comm needs that order).
sorted_paths() { sed -z "$changes_fields" "$1" | sort -z; }
# on_source [missing]: of the paths on stdin, those the source has (missing: does not have).
on_source() {
  local p
  while IFS= read -r -d '' p; do
    if [ -e "/src/$p" ] || [ -L "/src/$p" ]; then [ "\${1:-}" = missing ] || printf '%s\\0' "$p"
    elif [ "\${1:-}" = missing ]; then printf '%s\\0' "$p"; fi
  done
}
# on_target_dir: of the paths on stdin, those the target has as a directory (not a link to one).
on_target_dir() {
  local p
  while IFS= read -r -d '' p; do if [ -d "/dst/$p" ] && [ ! -L "/dst/$p" ]; then printf '%s\\0' "$p"; fi; done
}
# target_news: run while the source is walked: the target's paths the earlier walk did not list (its
# paths sorted as the warm pass kept them, else from its records).
target_news() {
  (cd /dst && find . -xdev -mindepth 1 \\( "\${skip[@]}" \\) -prune -o -print0 | sort -z) > /tmp/dst.sorted &&
    { [ -s /tmp/prev.paths ] || sorted_paths /tmp/prev.list > /tmp/prev.paths; } &&
    comm -z -13 /tmp/prev.paths /tmp/dst.sorted > /tmp/dst.news
}
changes() {
  { comm -z -13 /tmp/prev.list /tmp/src.sorted && awk -v since="$1" -v margin=${SINCE_MARGIN_S} 'BEGIN { RS = ORS = "\\0" } $1 + 0 >= since - margin' /tmp/src.sorted; } > /tmp/changed || return 1
  {
    { comm -z -23 /tmp/prev.list /tmp/src.sorted | sed -z "$changes_fields" && cat /tmp/dst.news; } | on_source missing &&
      awk 'BEGIN { RS = ORS = "\\0" } $2 != "d"' /tmp/changed | sed -z "$changes_fields" | on_target_dir
  } | sort -z -u > /tmp/extras || return 1
  { sed -z "$changes_fields" /tmp/changed && parents < /tmp/extras | on_source; } | parents | sort -z -u > /tmp/send
}
# parents: each path on stdin, and its directory.
parents() { awk 'BEGIN { RS = ORS = "\\0" } { print } $0 != "." { sub(/\\/[^\\/]*$/, ""); print }'; }`;

/** Progress lines to aim for over the whole copy: enough for a smooth bar, few enough for the log. */
const TARGET_CHECKPOINTS = 400;

/**
 * tar's record, in 512-byte blocks, on both ends of the pipe: 128 KiB instead of the default 10 KiB
 * makes 13 times fewer reads and writes through the pipe (figures in docs/performance.md).
 */
export const BLOCKING_FACTOR = 256;

/**
 * Folds `find -printf '%y %s %b %n %i'` lines into "entries data-bytes used-bytes archive-blocks":
 * the data tar will actually read (a sparse file counts its allocated blocks, an inode with several
 * links once), the space it takes, and the archive's size in 512-byte blocks, which is what the
 * progress bar measures tar's checkpoints against. --xattrs makes the archive POSIX (pax): every
 * entry gets an extended header (mtime, atime, ctime with nanoseconds) of 2 blocks before its own
 * header, so an entry costs 3 blocks plus its data; counting 1 made the bar lag 10% on small files.
 */
export const MEASURE_AWK = `{ n++; alloc = $3 * 512 }
$1 == "f" && $4 > 1 && seen[$5]++ { k += 3; next }
$1 == "f" { data = ($2 < alloc ? $2 : alloc); b += data; u += alloc; k += 3 + int((data + 511) / 512); next }
{ u += alloc; k += 3 }
END { printf "%.0f %.0f %.0f %.0f\\n", n, b, u, k }`;

export { READAHEAD, PLAN_AWK, CONTROLLER_AWK, LARGE_FILE_BYTES } from './readahead.js';

export function copyScript(verify: VerifyMode): string {
  return `set -euo pipefail
export LC_ALL=C
say() { printf 'PVMOVE %s\\n' "$*"; }
die() { local code=$1; shift; say "error $*"; exit "$code"; }
# warm: the application may still write while this pass reads (see PRECOPY_DIR); final: the copy
# that is verified and relied on, made while nothing uses the source.
pass="\${${PASS_ENV}:-final}"
snapdir=/dst/${PRECOPY_DIR}

tar --version 2>/dev/null | head -n1 | grep -q 'GNU tar' || die ${COPY_EXIT.missingTools} "missing-tools the image needs GNU tar, find, du, df and sha256sum"

# A fresh ext4 target has lost+found; it is not data, so it is left out of the comparison unless
# the source has one too.
prune=""
if [ -d /dst/lost+found ] && [ ! -e /src/lost+found ]; then prune="lost+found"; fi

# stats DIR PRUNE -> "entries bytes-of-regular-files"
stats() {
  (cd "$1" && if [ -n "$2" ]; then find . -xdev -mindepth 1 -path "./$2" -prune -o -printf '%y %s\\n'; else find . -xdev -mindepth 1 -printf '%y %s\\n'; fi) \\
    | awk '{n++; if ($1 == "f") b += $2} END {printf "%.0f %.0f\\n", n, b}'
}

# changes SINCE: what a pass after a warm one copies and removes (CHANGES_FUNCTION).
${CHANGES_FUNCTION}

# walk_source [measure|stat] -> sha256 of every source entry's change time, type, size, inode and
# path (the fingerprint), whose sorted records stay in /tmp/src.sorted. ctime moves on every
# write, chmod, chown, link, rename or delete below it (a deleted entry also leaves the list) and no
# program can set it back, so two equal fingerprints mean nothing changed in between: a copy made
# from the first is still a copy of the source. The same walk writes /tmp/src.counts (type and size
# per entry, what verify_copy compares), with "measure" or "stat" the measure list /tmp/src.stat,
# and with "measure" the readahead list: one walk of the source instead of three (walk.ts: several
# finds at once).
${WALK_FUNCTION}

# verify_copy -> 0 when the target matches the source as --verify asks; else prints why and fails.
${verifyFunction(verify)}

# readahead TAR_PID (adaptive depth and chunk size) and copy_large (large files by cp): readahead.ts.
${readaheadFunction()}
${COPY_LARGE_FUNCTION}

# After a warm pass, only what changed since is copied (level 1); the warm state leaves the target
# before anything else, so a final pass that fails half way is followed by a whole copy.
walk_started=$(date +%s%N)
walk_time=$(date +%s.%N) # the next pass's "since": before this pass's walk
level=0; since=""
rm -f /tmp/prev.list /tmp/prev.paths
if [ -s "$snapdir/list" ] && read -r since < "$snapdir/since" && [[ "$since" =~ ^[0-9]+\\.[0-9]+$ ]] && cp "$snapdir/list" /tmp/prev.list; then
  level=1; cp "$snapdir/paths" /tmp/prev.paths 2>/dev/null || rm -f /tmp/prev.paths
fi
if [ "$pass" = final ] && [ -e "$snapdir" ]; then
  rm -rf -- "$snapdir" && sync -f /dst || die ${COPY_EXIT.tarFailed} "tar-failed cannot remove the warm pass's state from the target volume"
fi
# What the target holds already, for the room check, and (level 1) its paths: listed while the source
# is walked (a level 1 pass keeps the target's files; a level 0 pass clears them first, below).
du_pid=""; dst_pid=""
if [ "$level" = 1 ]; then
  du -sxB1 /dst > /tmp/dst.du & du_pid=$!
  skip=(-path "./${PRECOPY_DIR}"); if [ -n "$prune" ]; then skip+=(-o -path "./$prune"); fi
  target_news & dst_pid=$!
fi
# Measure before copying, in the walk that takes the fingerprint: the progress total, and whether the
# data fits (fail before any claim is deleted). It also lists the regular files for the readahead (a
# path with a newline in it is left to tar). A warm pass walks a tree in use: an entry that goes
# while it is walked is not an error (walk_race); the next pass copies what this one misses.
fp=""; measure=measure
if [ "$level" = 1 ]; then measure=stat; fi # no readahead after a warm pass: no list for it
if [ "$pass" = final ]; then
  fp=$(walk_source "$measure") || die ${COPY_EXIT.unreadable} "unreadable cannot list every entry of the source volume"
  say "fingerprint=$fp"
else
  walk_race=(-ignore_readdir_race)
  walk_source "$measure" > /dev/null || die ${COPY_EXIT.unreadable} "unreadable cannot list every entry of the source volume"
fi
# Level 1: what changed since the earlier pass's walk is copied; what the source no longer has leaves
# the target first.
if [ "$level" = 1 ]; then
  wait "$dst_pid" || die ${COPY_EXIT.tarFailed} "tar-failed cannot list the target volume"
  changes "$since" || die ${COPY_EXIT.tarFailed} "tar-failed cannot compare the source with the earlier pass"
  if [ -s /tmp/extras ]; then
    (cd /dst && xargs -0 -r rm -rf -- < /tmp/extras) || die ${COPY_EXIT.tarFailed} "tar-failed cannot remove from the target what the source no longer has"
  fi
  say "changes copy=$(tr -cd '\\0' < /tmp/send | wc -c) remove=$(tr -cd '\\0' < /tmp/extras | wc -c)"
fi
# An earlier run copied already: if the source is unchanged since and the target still matches, the
# copy stands; otherwise it is made again from scratch (never trusted because it was made once).
if [ "$pass" = final ] && [ -n "\${${EXPECT_FINGERPRINT_ENV}:-}" ]; then
  if [ "$fp" != "$${EXPECT_FINGERPRINT_ENV}" ]; then
    say "earlier-copy source-changed"
  elif why=$(verify_copy); then
    say "earlier-copy unchanged"
    say "${verdict(verify)} $why walk_ms=0 copy_ms=0 tar_ms=0 readahead=0/0"
    exit 0
  else
    say "earlier-copy target-differs $why"
  fi
fi
say "pass $pass level=$level"
# What an earlier, interrupted or outdated copy left on the target goes first: tar adds and
# overwrites but never removes, and the target must hold exactly what the source holds.
if [ "$level" = 0 ] && [ -n "$(find /dst -xdev -mindepth 1 -maxdepth 1 ! -name lost+found -print -quit)" ]; then
  say "clearing-target entries of an earlier copy"
  find /dst -xdev -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf -- {} + || die ${COPY_EXIT.tarFailed} "tar-failed cannot clear the target volume"
fi
read -r files total used blocks < <(awk '${MEASURE_AWK}' /tmp/src.stat)
if [ -n "$du_pid" ]; then wait "$du_pid" || die ${COPY_EXIT.tarFailed} "tar-failed cannot measure the target volume"; else du -sxB1 /dst > /tmp/dst.du; fi
dst_used=$(cut -f1 /tmp/dst.du)
avail=$(df -B1 --output=avail /dst | tail -n1 | tr -d ' ')
room=$((avail + dst_used))
records=$(( (blocks + 2 + ${BLOCKING_FACTOR} - 1) / ${BLOCKING_FACTOR} ))
every=$(( records / ${TARGET_CHECKPOINTS} ))
if [ "$every" -lt 1 ]; then every=1; fi
# A plain copy (no snapshot, level 0) leaves large files to cp (copy_large); an incremental pass
# needs every file in tar's archive.
large=0
if [ "$pass" = final ] && [ "$level" = 0 ]; then large=\${PVMOVE_LARGE_FILE_BYTES:-${LARGE_FILE_BYTES}}; fi
rm -rf /tmp/readahead /tmp/large /tmp/readahead.ctl /tmp/readahead.done; mkdir -p /tmp/readahead /tmp/large; : > /tmp/readahead/work
# The readahead's plan (and the large files' list): a level 1 pass reads ahead nothing (below).
if [ "$level" = 0 ]; then awk -v large="$large" -v bf=${BLOCKING_FACTOR} '${PLAN_AWK}' /tmp/readahead.list; fi
say "total_bytes=$total files=$files used_bytes=$used archive_records=$records checkpoint_records=$every target_room=$room"
if [ "$used" -gt "$room" ]; then die ${COPY_EXIT.insufficientSpace} "insufficient-space the data uses $used bytes but the target volume has room for $room"; fi

say "copy started"
started=$(date +%s%N)
walk_ms=$(( (started - walk_started) / 1000000 ))
# One tar pipe, large records, no compression. The checkpoint echo (on stderr, prefixed "tar: ") is
# the progress: one line per 1/400 of the archive. The two tars are joined by a fifo instead of "|"
# so the readahead can follow the reading tar by its pid. Two or more parallel tar pipes and
# --sort=inode were measured and gained nothing on the test bed (docs/performance.md).
# Level 1: only the entries the comparison chose, by name (the extraction never removes anything;
# what had to go went before). A warm pass reads a tree that may change under it: a file changed or
# gone meanwhile is not an error there (the next pass copies it), anything else is.
warm_reading=(); large_files=(); cp_files=0; cp_same_fs=0
# Large files first, by cp, into directories tar then extracts over (it sets their metadata last).
if [ -s /tmp/large/index ]; then
  copy_large || die ${COPY_EXIT.tarFailed} "tar-failed cp could not copy every large file (see the cp lines above)"
  large_files=(--anchored --no-wildcards --exclude-from=/tmp/large/exclude)
  cp_files=$(wc -l < /tmp/large/exclude)
fi
copy_ms_large=$(( ($(date +%s%N) - started) / 1000000 ))
what=(.)
if [ "$level" = 1 ]; then what=(--no-recursion --null --verbatim-files-from --no-unquote --files-from=/tmp/send); fi
if [ "$pass" = warm ]; then warm_reading=(--ignore-failed-read --warning=no-file-changed --warning=no-file-removed --warning=no-file-shrank); fi
rm -f /tmp/archive; mkfifo /tmp/archive # a warm pass before this one in the same pod made one (prepare.ts)
tar --extract --file=- --directory=/dst --numeric-owner --same-owner --preserve-permissions --acls --xattrs --xattrs-include='*' \\
    --blocking-factor=${BLOCKING_FACTOR} --read-full-records < /tmp/archive &
extract_pid=$!
tar --create --file=- --directory=/src --numeric-owner --acls --xattrs --xattrs-include='*' --sparse --one-file-system \\
    "\${warm_reading[@]}" "\${large_files[@]}" --blocking-factor=${BLOCKING_FACTOR} \\
    --checkpoint="$every" --checkpoint-action="echo=PVMOVE progress checkpoint=%u" "\${what[@]}" > /tmp/archive &
create_pid=$!
# A level 1 pass reads only what changed: warming every file ahead of it would read the whole volume.
readahead_pid=""
if [ "$level" = 0 ]; then readahead "$create_pid" /tmp/readahead/work 1 & readahead_pid=$!; fi
create_rc=0; wait "$create_pid" || create_rc=$?
extract_rc=0; wait "$extract_pid" || extract_rc=$?
if [ -n "$readahead_pid" ]; then kill "$readahead_pid" 2>/dev/null || true; fi
ra_done=0; ra_items=$(wc -l < /tmp/readahead/work); ra_depth=0; ra_chunk=0; ra_trail=-
if [ -s /tmp/readahead.done ]; then read -r ra_done ra_items ra_depth ra_chunk ra_trail < /tmp/readahead.done || true; fi
# tar's exit code 1 is "some files differ": on a tree in use, files that changed while read.
if [ "$pass" = warm ] && [ "$create_rc" -eq 1 ]; then create_rc=0; fi
if [ "$create_rc" -ne 0 ] || [ "$extract_rc" -ne 0 ]; then
  die ${COPY_EXIT.tarFailed} "tar-failed tar reported errors while copying (see the tar lines above)"
fi
tar_ms=$(( ($(date +%s%N) - started) / 1000000 ))
# The data is on the target's disk before anyone relies on it: the original claim is deleted after
# the verdict, which waits for this flush. The final pass verifies meanwhile (reads see the written
# data whether flushed or not), and its downtime is shorter by the flush.
rm -f /tmp/synced; ( sync -f /dst && date +%s%N > /tmp/synced ) & sync_pid=$!
synced() {
  wait "$sync_pid" && [ -s /tmp/synced ] || die ${COPY_EXIT.tarFailed} "tar-failed cannot flush the target volume to disk"
  copy_ms=$(( ($(cat /tmp/synced) - started) / 1000000 ))
}
# The figures the verdict lines carry (the benchmark reads them); copy_ms once flushed.
copy_ms=""
figures() { echo "walk_ms=$walk_ms \${copy_ms:+copy_ms=$copy_ms }tar_ms=$tar_ms readahead=$ra_done/$ra_items ra_depth=$ra_depth ra_chunk_mib=$ra_chunk ra_trail=$ra_trail cp_ms=$copy_ms_large cp_files=$cp_files cp_same_fs=$cp_same_fs level=$level"; }
if [ "$pass" = warm ]; then
  synced
  # The state is kept only once the pass is on disk: the next pass starts from it. The list before
  # the time: a new list with the old time copies more next time, never less. Its paths, sorted
  # (the next pass needs them, and has no time to spare), never older than the list: gone first.
  mkdir -p "$snapdir" && cp /tmp/src.sorted "$snapdir/list.new" && echo "$walk_time" > "$snapdir/since.new" \\
    && sorted_paths /tmp/src.sorted > "$snapdir/paths.new" && rm -f "$snapdir/paths" \\
    && mv -f "$snapdir/list.new" "$snapdir/list" && mv -f "$snapdir/paths.new" "$snapdir/paths" \\
    && mv -f "$snapdir/since.new" "$snapdir/since" && sync -f /dst \\
    || die ${COPY_EXIT.tarFailed} "tar-failed cannot keep the warm pass's state on the target volume"
  say "warm done $(figures)"
  exit 0
fi
say "copy done $(figures)"
rm -f /tmp/fp.now
verify_started=$(date +%s%N)
why=$(verify_copy) || die ${COPY_EXIT.verifyFailed} "verify-failed $why"
# Nothing may have written to the source while it was read (invariant 7 is also checked from
# outside, but a pod that came and went between two looks would leave no other trace). The
# verification walked the source again and took its fingerprint (/tmp/fp.now), unless it was skipped.
if [ ! -s /tmp/fp.now ]; then
  walk_source > /tmp/fp.now || die ${COPY_EXIT.unreadable} "unreadable cannot list every entry of the source volume"
fi
[ "$(cat /tmp/fp.now)" = "$fp" ] || die ${COPY_EXIT.sourceChanged} "source-changed the source volume changed while it was copied; run the move again to copy it again"
synced
ended=$(date +%s%N)
say "${verdict(verify)} $why $(figures) verify_ms=$(( (ended - verify_started) / 1000000 )) pass_ms=$(( (ended - walk_started) / 1000000 ))"
`;
}

/** The verdict line's head: the CLI ends the copy step on it (log.ts). */
function verdict(verify: VerifyMode): string {
  return verify === 'none' ? 'verify skipped mode=none' : `verify ok mode=${verify}`;
}

function verifyFunction(verify: VerifyMode): string {
  if (verify === 'none') return 'verify_copy() { :; }';
  // The source is walked again (its fingerprint to /tmp/fp.now, its counts) while the target is
  // walked: the two trees in parallel, not one after the other (the application is down meanwhile).
  const count = `stats /dst "$prune" > /tmp/dst.stats & local dst_pid=$!
  if ! walk_source > /tmp/fp.now; then wait "$dst_pid" || true; echo "cannot list every entry of the source volume"; return 1; fi
  wait "$dst_pid" || { echo "cannot list every entry of the target volume"; return 1; }
  read -r sn sb < <(awk '{n++; if ($1 == "f") b += $2} END {printf "%.0f %.0f\\n", n, b}' /tmp/src.counts)
  read -r dn db < /tmp/dst.stats
  if [ "$sn" != "$dn" ] || [ "$sb" != "$db" ]; then
    echo "source has $sn entries and $sb bytes, target has $dn entries and $db bytes"; return 1
  fi`;
  if (verify === 'count') return `verify_copy() {\n  ${count}\n  echo "files=$sn bytes=$sb"\n}`;
  return `sums() {
  (cd "$1" && if [ -n "$2" ]; then find . -xdev -path "./$2" -prune -o -type f -print0; else find . -xdev -type f -print0; fi) \\
    | sort -z | (cd "$1" && xargs -0 -r sha256sum --)
}
verify_copy() {
  ${count}
  sums /src "" > /tmp/src.sha & local src_pid=$!
  sums /dst "$prune" > /tmp/dst.sha || { wait "$src_pid" || true; echo "cannot read every file of the target volume"; return 1; }
  wait "$src_pid" || { echo "cannot read every file of the source volume"; return 1; }
  if ! cmp -s /tmp/src.sha /tmp/dst.sha; then
    diff /tmp/src.sha /tmp/dst.sha | head -n 10 >&2 || true
    echo "sha256 of some files differ (see the diff above)"; return 1
  fi
  echo "files=$sn bytes=$sb"
}`;
}

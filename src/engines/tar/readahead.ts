// The copy pod's adaptive readahead and its large-file path, as shell and awk text that script.ts
// puts into the pod's script. Three parts:
//
// - PLAN_AWK cuts the measuring walk's file list into work items in tar's read order (groups of
//   small files, segments of large files) and, on a plain copy, sets apart the large files that
//   `cp` copies in the kernel instead of tar (LARGE_FILE_BYTES).
// - CONTROLLER_AWK is the feedback controller: a pure function from (state, time, tar's read
//   counter, readahead position) to the next state, whose first fields are the readahead depth
//   (readers at once, 0 = off), the chunk size for large files and how far ahead to read. It climbs
//   a ladder of depths while tar's read rate improves by more than the noise, steps back when it
//   does not, and probes the neighbours again now and then. Unit tests drive it with synthetic rates.
// - readaheadFunction() is the bash loop that keeps that many readers busy just ahead of tar and
//   asks the controller after every sample.
//
// Figures and the reasons for each choice: docs/performance.md, "What the copy engine does, and why".

/** Readahead knobs; the depth and chunk size are the controller's, these are its bounds. */
export const READAHEAD = {
  /** The depths the controller climbs (readers at once; 0 = no readahead, tar alone), where it starts. */
  depths: [0, 2, 4, 8, 16, 32, 64],
  startDepth: 2,
  /** The chunk sizes (MiB) it may choose for large files, and the one it starts with. */
  chunksMiB: [2, 4, 8, 16, 32],
  startChunkMiB: 8,
  /** A group of small files (one `cat` process) closes at this many files or bytes. */
  filesPerReader: 64,
  groupBytes: 8 * 1024 * 1024,
  /** A large file is planned as segments of this size; the loop cuts each into chunks. */
  segmentBytes: 64 * 1024 * 1024,
  /** Files above this size are read in chunks rather than by `cat`. */
  chunkFilesAbove: 8 * 1024 * 1024,
  /** One measurement: tar's read rate over at least this long at one depth. */
  epochMs: 500,
  /** A rate must beat the reference by this fraction to count as better (the run-to-run noise). */
  noise: 0.15,
  /** A lower depth is kept if its rate is within this fraction of the reference (fewer readers). */
  tolerance: 0.05,
  /** Epochs at the chosen depth before probing a neighbour again (doubling, up to holdMax). */
  holdEpochs: 4,
  holdMax: 16,
  /** How far ahead of tar: this many seconds of tar's rate, within [minWindow, the memory cap]. */
  leadSeconds: 1,
  minWindowBytes: 32 * 1024 * 1024,
  /** The most it reads ahead (less if a quarter of the available memory or of the pod's limit is smaller). */
  windowBytes: 1024 * 1024 * 1024,
} as const;

/**
 * Regular files at least this large are copied by `cp` before tar runs, one at a time, on a plain
 * copy (not an incremental pass): no pipe and no archive framing; on one filesystem its
 * copy_file_range copies in the kernel, without a user-space copy (and without readers); between two
 * filesystems cp reads and writes, the readahead following its progress. tar then copies everything
 * else and sets the directories' metadata last. Files with several links, sparse files and names
 * with a backslash or a newline stay with tar. The copy pod's environment may lower it
 * (PVMOVE_LARGE_FILE_BYTES: tests).
 */
export const LARGE_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads the walk's list (`size blocks links inode path` per regular file, in walk order) and writes
 * work lists for the readahead (`start length kind arg [path]` lines; kind `f`: group of small files
 * N, listed in /tmp/readahead/N.files; kind `c`: segment of a large file at file offset `arg`),
 * start being the data bytes the copying process has read before the item: /tmp/readahead/work for
 * tar, in walk order. When `large` > 0, each regular file of at least that size goes to cp instead:
 * /tmp/large/index (`N archive-records-done-after-it bytes-before-it path`), /tmp/large/N.work (its
 * segments, for the readahead that follows that cp, counted from the first large file) and /tmp/large/exclude (`./path`, for tar). Sparse files,
 * empty files and further links of an inode are not read ahead (tar reads a sparse file's data
 * only, a link's not at all).
 */
export const PLAN_AWK = `function group() {
  if (g) { close(dir "/" g ".files"); printf "%.0f %.0f f %d\\n", gstart, gb, g > (dir "/work") }
  g = 0
}
function segments(size, from, file,   o, len) {
  for (o = 0; o < size; o += ${READAHEAD.segmentBytes}) {
    len = size - o; if (len > ${READAHEAD.segmentBytes}) len = ${READAHEAD.segmentBytes}
    printf "%.0f %.0f c %.0f %s\\n", from + o, len, o, path > file
  }
}
BEGIN { dir = "/tmp/readahead"; ldir = "/tmp/large"; n = 0; ln = 0 }
{ size = $1; alloc = $2 * 512 }
size == 0 || alloc < size { next }
$3 > 1 && seen[$4]++ { next }
{
  path = $0; for (i = 0; i < 4; i++) path = substr(path, index(path, " ") + 1)
  if (substr(path, 1, 2) == "./") path = substr(path, 3)
  if (large > 0 && size >= large && $3 == 1 && index(path, "\\\\") == 0) {
    ln++; lblocks += 3 + int((size + 511) / 512)
    printf "%d %.0f %.0f %s\\n", ln, int(lblocks / bf), loff, path > (ldir "/index")
    print "./" path > (ldir "/exclude")
    segments(size, loff, ldir "/" ln ".work"); close(ldir "/" ln ".work"); loff += size
    next
  }
  if (size <= ${READAHEAD.chunkFilesAbove}) {
    if (g == 0 || gf >= ${READAHEAD.filesPerReader} || gb >= ${READAHEAD.groupBytes}) { group(); g = ++n; gstart = off; gf = 0; gb = 0 }
    print path > (dir "/" g ".files")
    gf++; gb += size; off += size
    next
  }
  group(); segments(size, off, dir "/work"); off += size
}
END { group() }`;

/**
 * The controller: \`awk -v s=STATE -v t=MS -v p=POSITION -v a=READAHEAD_AT -v cap=BYTES [-v reset=1]
 * [-v fixed=DEPTH]\` prints the next state (one line). An empty s starts it. Fields: depth
 * chunk-bytes window phase idx cidx best-idx best-rate t0 p0 mark hold hold-len chunk-probed
 * best-chunk-idx trail. An epoch starts once the copying process has read up to \`mark\` (where the
 * readahead stood when the depth last changed: before that, it still reads what the old depth
 * warmed) and ends after epochMs; its rate (bytes read per second) decides:
 *
 * - up: from startDepth, each next depth is kept while its rate beats the best by more than the
 *   noise; if the first step up does not, down: each lower depth (to 0, tar alone) is kept while it
 *   is not slower than the best by more than tolerance (fewer readers for the same rate);
 * - chunk: once, with a depth above 0, larger then smaller chunks, kept only if faster by the noise;
 * - hold: stays, taking the current rate as the reference, then probes the next depth up (kept if
 *   faster by the noise, and the climb goes on), then down (kept if within tolerance); each
 *   fruitless probe doubles the hold (up to holdMax epochs).
 *
 * \`fixed\` pins the depth (measurements only). The trail (depth:MB/s of each epoch, the last 12)
 * goes to the verdict line.
 */
export const CONTROLLER_AWK = `function out() {
  w = best * ${READAHEAD.leadSeconds}; if (w < ${READAHEAD.minWindowBytes}) w = ${READAHEAD.minWindowBytes}; if (cap > 0 && w > cap) w = cap
  printf "%d %.0f %.0f %s %d %d %d %.0f %.0f %.0f %.0f %d %d %d %d %s\\n", D[idx], C[cidx] * 1048576, w, phase, idx, cidx, bidx, best, t0, p0, mark, hold, hlen, cdone, bc, trail
}
function go(i) { if (i != idx) { idx = i; t0 = -1; mark = a } }
function gochunk(i) { if (i != cidx) { cidx = i; t0 = -1; mark = a } }
function settle() { go(bidx); phase = "hold"; hold = hlen }
function next_() {
  go(bidx)
  if (D[bidx] > 0 && !cdone) { cdone = 1; bc = cidx; if (cidx < nc) { phase = "chunkup"; gochunk(cidx + 1) } else { phase = "chunkdown"; gochunk(cidx - 1) } }
  else settle()
}
function backoff() { if (hlen < ${READAHEAD.holdMax}) hlen *= 2; settle() }
BEGIN {
  nd = split("${READAHEAD.depths.join(',')}", D, ","); nc = split("${READAHEAD.chunksMiB.join(',')}", C, ",")
  for (i = 1; i <= nd; i++) if (D[i] == ${READAHEAD.startDepth}) start = i
  if (s == "") {
    idx = start; for (i = 1; i <= nc; i++) if (C[i] == ${READAHEAD.startChunkMiB}) cidx = i
    phase = "up"; bidx = idx; best = -1; t0 = -1; p0 = 0; mark = 0; hold = 0; hlen = ${READAHEAD.holdEpochs}; cdone = 0; bc = cidx; trail = "-"
  } else {
    split(s, F, " "); phase = F[4]; idx = F[5]; cidx = F[6]; bidx = F[7]; best = F[8]; t0 = F[9]; p0 = F[10]; mark = F[11]
    hold = F[12]; hlen = F[13]; cdone = F[14]; bc = F[15]; trail = F[16]
    if (reset) { t0 = -1; mark = 0 }
  }
  if (fixed != "") { for (i = 1; i <= nd; i++) if (D[i] == fixed) idx = i; phase = "fixed" }
  if (t0 < 0) { if (p >= mark) { t0 = t; p0 = p }; out(); exit }
  if (t - t0 < ${READAHEAD.epochMs}) { out(); exit }
  r = (p - p0) * 1000 / (t - t0)
  tok = D[idx] (phase ~ /^chunk/ ? "/" C[cidx] "M" : "") ":" int(r / 1000000 + 0.5)
  trail = (trail == "-" ? tok : trail "," tok); k = split(trail, T, ",")
  if (k > 12) { trail = T[k - 11]; for (i = k - 10; i <= k; i++) trail = trail "," T[i] }
  t0 = t; p0 = p; better = r > best * (1 + ${READAHEAD.noise}); same = r >= best * (1 - ${READAHEAD.tolerance})
  if (phase == "fixed") { }
  else if (phase == "up") {
    if (best < 0 || better) { bidx = idx; best = r; if (idx < nd) go(idx + 1); else next_() }
    else if (bidx == start && bidx > 1) { phase = "down"; go(bidx - 1) }
    else next_()
  } else if (phase == "down") {
    if (same) { bidx = idx; best = r; if (idx > 1) go(idx - 1); else next_() }
    else next_()
  } else if (phase == "chunkup") {
    if (better) { best = r; bc = cidx; if (cidx < nc) gochunk(cidx + 1); else settle() }
    else if (C[bc] != ${READAHEAD.startChunkMiB} || bc == 1) { gochunk(bc); settle() }
    else { phase = "chunkdown"; gochunk(bc - 1) }
  } else if (phase == "chunkdown") {
    if (better) { best = r; bc = cidx; if (cidx > 1) gochunk(cidx - 1); else settle() }
    else { gochunk(bc); settle() }
  } else if (phase == "hold") {
    best = r; hold--
    if (hold <= 0) { if (idx < nd) { phase = "probeup"; go(idx + 1) } else if (idx > 1) { phase = "probedown"; go(idx - 1) } else hold = hlen }
  } else if (phase == "probeup") {
    if (better) { bidx = idx; best = r; hlen = ${READAHEAD.holdEpochs}; phase = "up"; if (idx < nd) go(idx + 1); else settle() }
    else if (bidx > 1) { phase = "probedown"; go(bidx - 1) }
    else backoff()
  } else if (phase == "probedown") {
    if (same) { bidx = idx; best = r; if (idx > 1) go(idx - 1); else backoff() }
    else backoff()
  }
  out()
}`;

/**
 * readahead PID WORK RESET [TARGET BASE]: warms the page cache just ahead of the copying
 * process PID (tar; or one cp: then BASE plus the size of the TARGET file it writes is its position,
 * as it copies in the kernel), item by item from the work list WORK, with as many readers at once as the controller says (0: none, it only
 * follows tar), never more than the controller's window ahead of tar's read counter (`rchar` in
 * /proc/PID/io). Only an optimisation: every error is ignored, and it stops when PID is gone. The
 * controller's state carries over from one call to the next (/tmp/readahead.ctl); RESET=1 starts a
 * new epoch (the position counts from 0 again). Leaves `items-reached items depth chunk-MiB trail`
 * (items counted over all calls) in /tmp/readahead.done.
 */
export function readaheadFunction(): string {
  return `ra_controller='${CONTROLLER_AWK.replaceAll("'", "'\\''")}'
readahead() {
  set +e
  local cap=${READAHEAD.windowBytes} avail limit key value pos ctl="" depth=0 chunk=0 window=0 now last=0
  local start len kind arg path o c running=0 done=0 items reset=$3 t0=-1 mark=0 nap
  while read -r key value _; do if [ "$key" = "MemAvailable:" ]; then avail=$((value * 1024)); fi; done < /proc/meminfo
  if [ -n "\${avail:-}" ] && [ $((avail / 4)) -lt "$cap" ]; then cap=$((avail / 4)); fi
  for limit in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
    if [ -r "$limit" ] && read -r value < "$limit" && [[ "$value" =~ ^[0-9]+$ ]] && [ $((value / 4)) -lt "$cap" ]; then cap=$((value / 4)); fi
  done
  # Readers still running when the copy is over (or this is stopped) only compete with what follows.
  stop_readers() { kill $(jobs -p) 2>/dev/null; wait; }
  trap 'stop_readers; exit 0' TERM
  local before=0 planned=0
  if [ -s /tmp/readahead.done ]; then read -r before planned _ < /tmp/readahead.done; fi
  items=$(wc -l < "$2")
  # The controller's state fields the loop itself uses: depth, chunk, window, epoch start, mark.
  take_state() { read -r depth chunk window _ _ _ _ _ t0 _ mark _ <<< "$ctl"; }
  if [ -s /tmp/readahead.ctl ]; then read -r ctl < /tmp/readahead.ctl && take_state; fi
  # A reset starts a new epoch; a carried-over epoch ends when the controller says so.
  if [ "$reset" = 1 ]; then t0=-1; mark=0; fi
  # Waiting is a read with a timeout on a fifo nobody writes: no \`sleep\` process 20 times a second
  # (on a disk where tar alone is fastest, the waits are all this loop does).
  [ -p /tmp/readahead.nap ] || mkfifo /tmp/readahead.nap
  exec {nap}<>/tmp/readahead.nap
  cd /src || return 0
  # sample AT: tar's read counter into pos (1 when tar is gone), and the controller's next state.
  sample() {
    pos=""
    while read -r key value; do if [ "$key" = "rchar:" ]; then pos=$value; break; fi; done 2>/dev/null < "/proc/$1/io"
    [ -n "$pos" ] || return 1
    # cp copies a file in one copy_file_range call, which neither rchar nor the file offsets show
    # until it returns: the target's size does.
    if [ -n "$3" ]; then pos=$(stat -c %s -- "$3" 2>/dev/null) || pos=0; pos=$((pos + $4)); fi
    now=\${EPOCHREALTIME/./}; now=$((now / 1000))
    # The controller is asked only when an epoch may start (the copy passed the mark) or end: in
    # between it would repeat its state, and each question is an awk process.
    if [ $((now - last)) -ge 100 ] && { { [ "$t0" -lt 0 ] && [ "$pos" -ge "$mark" ]; } || { [ "$t0" -ge 0 ] && [ $((now - t0)) -ge ${READAHEAD.epochMs} ]; }; }; then
      last=$now
      ctl=$(awk -v s="$ctl" -v t="$now" -v p="$pos" -v a="$2" -v cap="$cap" -v reset="$reset" -v fixed="\${PVMOVE_READAHEAD_DEPTH:-}" "$ra_controller") || return 1
      reset=0; echo "$ctl" > /tmp/readahead.ctl
      take_state
      echo "$((before + done)) $((planned + items)) $depth $((chunk / 1048576)) \${ctl##* }" > /tmp/readahead.done
    fi
  }
  while read -r start len kind arg path; do
    while :; do
      sample "$1" "$start" "\${4:-}" "\${5:-0}" || { stop_readers; return 0; }
      # Passed already: skip. Off (depth 0), or too far ahead: wait for tar.
      if [ "$pos" -gt $((start + len)) ]; then break; fi
      if [ "$depth" -gt 0 ] && [ $((pos + window)) -ge "$start" ]; then break; fi
      if [ "$running" -gt 0 ]; then wait -n; running=$((running - 1)); else read -r -t 0.05 -u "$nap" _; fi
    done
    done=$((done + 1))
    if [ "$pos" -gt $((start + len)) ]; then continue; fi
    if [ "$kind" = f ]; then
      xargs -d '\\n' cat -- < "/tmp/readahead/$arg.files" > /dev/null 2>&1 &
      running=$((running + 1))
    else
      for ((o = 0; o < len; o += chunk)); do
        c=$((len - o)); if [ "$c" -gt "$chunk" ]; then c=$chunk; fi
        dd if="$path" of=/dev/null bs=1M skip=$((arg + o)) count="$c" iflag=skip_bytes,count_bytes status=none 2>/dev/null &
        running=$((running + 1))
        while [ "$running" -ge "$depth" ] && [ "$running" -gt 0 ]; do wait -n; running=$((running - 1)); done
      done
    fi
    while [ "$running" -ge "$depth" ] && [ "$running" -gt 0 ]; do wait -n; running=$((running - 1)); done
  done < "$2"
  wait
  echo "$((before + done)) $((planned + items)) $depth $((chunk / 1048576)) \${ctl##* }" > /tmp/readahead.done
}`;
}

/**
 * copy_large: copies the files PLAN_AWK set apart (/tmp/large) with `cp`, one at a time, the
 * readahead following each, printing the archive records they stand for as progress (during a
 * file's copy too, from the target's size: large_progress). `cp` keeps
 * mode, ACLs, owner, times (nanoseconds) and xattrs; \`--parents\` makes the directories on the
 * way, whose metadata tar sets afterwards. Fails (non-zero) if a file could not be copied.
 */
export const COPY_LARGE_FUNCTION = `copy_large() {
  local n records base path pid ra tick reset=1 before=0
  # Both volumes on one filesystem (hostPath or local-path volumes of one node disk): cp's
  # copy_file_range copies in the kernel, which reads ahead for it; readers would read every byte a
  # second time, into user space, on a copy bound by the CPU. Between two filesystems the kernel
  # refuses it (EXDEV) and cp reads and writes: there the readers keep requests in flight.
  cp_same_fs=0
  if [ "$(stat -c %d /src)" = "$(stat -c %d /dst)" ] && [ -z "\${PVMOVE_CP_READAHEAD:-}" ]; then cp_same_fs=1; fi
  while read -r n records base path; do
    (cd /src && exec cp --parents --no-dereference --preserve=mode,ownership,timestamps,xattr -t /dst -- "$path") &
    pid=$!
    ra=""
    if [ "$cp_same_fs" = 0 ]; then readahead "$pid" "/tmp/large/$n.work" "$reset" "/dst/$path" "$base" & ra=$!; fi
    large_progress "$before" "$records" "/src/$path" "/dst/$path" & tick=$!
    reset=0
    # (kill and wait in a group whose stderr is dropped: bash reports a killed job as "Terminated")
    wait "$pid" || { { kill $ra "$tick"; wait "$tick"; } 2>/dev/null; return 1; }
    { kill "$tick"; wait "$tick"; } 2>/dev/null
    if [ -n "$ra" ]; then wait "$ra" || true; fi
    say "progress copied_records=$records"
    before=$records
  done < /tmp/large/index
}
# large_progress RECORDS_BEFORE RECORDS_AFTER SOURCE TARGET: while cp copies one file (for a big
# file, minutes in one system call), the target's share of the source's size as progress, each
# second it has grown by a checkpoint's worth.
large_progress() {
  local said=$1 total size now
  total=$(stat -c %s -- "$3" 2>/dev/null) || return 0
  [ "$total" -gt 0 ] || return 0
  while sleep 1; do
    size=$(stat -c %s -- "$4" 2>/dev/null) || continue
    now=$(($1 + ($2 - $1) * size / total))
    if [ $((now - said)) -ge "$every" ] && [ "$now" -lt "$2" ]; then said=$now; say "progress copied_records=$now"; fi
  done
}`;

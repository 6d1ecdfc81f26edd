// The copy pod's walk of the source (shell text that script.ts puts into the pod's script): the
// fingerprint, the counts the verification compares and, before the copy, the measure and readahead
// lists. It runs after the application stopped and before tar starts, so it is downtime: on a cold
// cache it waits for the disk at every directory and inode block (1.8 s for 100,000 small files on
// the test bed's local disk, next to an 11 s copy). Several finds over disjoint parts of the tree
// wait side by side (0.95 s there with four; docs/performance.md).

/** Finds that walk at once; the tree is cut into WALK_PARTS parts that they take in turn. */
export const WALK_WORKERS = 4;
export const WALK_PARTS = 8;
/** Below this many entries to cut (files one level down, entries two levels down), one find walks all. */
export const WALK_MIN_UNITS = 8;

/**
 * Present once the source's metadata were read into memory just before (the final pass's read-ahead,
 * prepare.ts): the finds would then wait for no disk, and one find is faster than starting several
 * (0.12 s against 0.35 s for 26,526 entries on the test bed).
 */
export const SOURCE_CACHED = '/tmp/src.cached';

/**
 * walk_source [measure] -> sha256 of every source entry's change time, type, size, inode and path
 * (the fingerprint), and the lists.
 *
 * The parts: the entries two levels down (and the files one level down) are walked whole, each by
 * one find, in walk order; the root, the directories of the first level and anything on another
 * filesystem (walked alone, not descended, as `find -xdev` and `tar --one-file-system` do) by one
 * more. The fingerprint sorts its lines, so it does not depend on how the tree was cut: it equals a
 * single find's. The readahead list must follow tar's read order, which is the walk order: the parts
 * are contiguous runs of that order and are joined in it. An image whose find or split lacks
 * `-files0-from` or `-t` (findutils < 4.9) gets the single find, and so does a source whose metadata
 * were just read (SOURCE_CACHED).
 */
export const WALK_FUNCTION = `nl=$'\\n'
walk_race=() # -ignore_readdir_race for a tree in use (a warm pass)
# walk_part FROM OUT [measure|stat] [alone|tree]: one find over the entries the file FROM names (tree:
# the whole tree from /src itself); writes OUT.fp, OUT.counts, OUT.stat (measure, stat), OUT.list
# (measure) and OUT.rc, its exit code.
walk_part() {
  local from=(-files0-from "$1") measure=() rc=0
  if [ "\${4:-}" = alone ]; then from+=(-maxdepth 0); elif [ "\${4:-}" = tree ]; then from=(.); fi
  if [ "\${3:-}" = measure ] || [ "\${3:-}" = stat ]; then measure=(-fprintf "$2.stat" '%y %s %b %n %i\\n'); fi
  if [ "\${3:-}" = measure ]; then measure+=('(' -type f ! -path "*$nl*" -fprintf "$2.list" '%s %b %n %i %p\\n' ')'); fi
  (cd /src && find "\${from[@]}" "\${walk_race[@]}" -xdev -printf '%C@ %y %s %i %p\\0' \\( ! -path . -fprintf "$2.counts" '%y %s\\n' "\${measure[@]}" \\)) > "$2.fp" || rc=$?
  echo "$rc" > "$2.rc"
}
walk_source() {
  local what="\${1:-}" dev whole part running=0 outs=(/tmp/walk/alone) units=()
  # whole: files one level down and entries two levels down, of this filesystem; strip: the fields before the path.
  local strip="s/^[0-9]+ [0-9] . //"
  rm -rf /tmp/walk && mkdir -p /tmp/walk && : > /tmp/walk/empty || return 1
  if [ ! -e ${SOURCE_CACHED} ] && find -files0-from /tmp/walk/empty -prune 2>/dev/null && split -t '\\0' -n l/2 /tmp/walk/empty /tmp/walk/probe. 2>/dev/null; then
    dev=$(stat -c %d /src) || return 1
    whole="^$dev (1 [^d]|2 .) "
    (cd /src && find . "\${walk_race[@]}" -mindepth 1 -maxdepth 2 -xdev -printf '%D %d %y %p\\0') > /tmp/walk/top || return 1
    { grep -z -E "$whole" /tmp/walk/top || [ $? = 1 ]; } | sed -z -E "$strip" > /tmp/walk/whole || return 1
    mapfile -d '' -t units < /tmp/walk/whole
  fi
  # A tree of few entries up there is walked faster by one find than by starting several.
  if [ "\${#units[@]}" -ge ${WALK_MIN_UNITS} ]; then
    { printf '.\\0'; { grep -z -v -E "$whole" /tmp/walk/top || [ $? = 1 ]; } | sed -z -E "$strip"; } > /tmp/walk/alone || return 1
    split -t '\\0' -n l/${WALK_PARTS} -d -a 3 /tmp/walk/whole /tmp/walk/part. || return 1
    # In a subshell: its waits see only these finds (the verification walks the target meanwhile).
    (
      walk_part /tmp/walk/alone /tmp/walk/alone "$what" alone &
      for part in /tmp/walk/part.[0-9][0-9][0-9]; do
        [ -s "$part" ] || continue
        if [ "$running" -ge ${WALK_WORKERS - 1} ]; then wait -n || true; else running=$((running + 1)); fi
        walk_part "$part" "$part" "$what" whole &
      done
      wait
    )
    for part in /tmp/walk/part.[0-9][0-9][0-9]; do if [ -s "$part" ]; then outs+=("$part"); fi; done
  else
    walk_part "" /tmp/walk/alone "$what" tree
  fi
  local rc
  for part in "\${outs[@]}"; do rc=""; read -r rc < "$part.rc" 2>/dev/null || true; [ "$rc" = 0 ] || return 1; done
  cat "\${outs[@]/%/.fp}" | sort -z > /tmp/src.sorted || return 1
  sha256sum < /tmp/src.sorted | cut -c1-64
  cat "\${outs[@]/%/.counts}" > /tmp/src.counts || return 1
  if [ "$what" = measure ] || [ "$what" = stat ]; then cat "\${outs[@]/%/.stat}" > /tmp/src.stat || return 1; fi
  if [ "$what" = measure ]; then cat "\${outs[@]/%/.list}" > /tmp/readahead.list || return 1; fi
}`;

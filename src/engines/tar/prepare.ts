// What the tar engine's waiting final-pass pod does when told to prepare (GO_PREPARE), just before
// the application is stopped: one more warm pass, so that the final pass, made while the application
// is down, copies only what changes between now and the stop instead of everything written since the
// warm-copy step's pass (for a large volume, all that was written during hours of copying). The
// pass also leaves both trees' metadata in memory for the final pass's walks. It runs while the
// application still runs, like every warm pass, and go stops it if it is still running.
import { PASS_ENV } from '../shared/copy-pod.js';
import { PRECOPY_DIR } from './script.js';
import { SOURCE_CACHED } from './walk.js';

/** The heredoc's end line that carries the copy script into the pod's file system. */
const SCRIPT_END = 'PVMOVE_WARM_PASS_SCRIPT';

/**
 * The copy script (`script`, the same the final pass runs) written to /tmp/warm-pass.sh as the pod
 * starts, and prepare: with a warm pass's state on the target, that script as a warm pass (its
 * output in /tmp/prepare.log: the pod's log is the final pass's, which the copy step reads), then
 * says how many entries it copied; without one (a move made by an older version), or if that pass
 * fails, it stats every entry of both volumes and reads the source's files changed since the warm
 * pass instead, four readers at once. Then says the source's metadata are in memory
 * (SOURCE_CACHED): the final pass's walks need not be cut in parts.
 */
export function prepareFunction(script: string): string {
  if (script.split('\n').includes(SCRIPT_END)) throw new Error(`the copy script contains ${SCRIPT_END}`);
  return `cat > /tmp/warm-pass.sh <<'${SCRIPT_END}'
${script}
${SCRIPT_END}
prepare() {
  local since="" changed=0 copied="" why=""
  printf 'PVMOVE preparing\\n'
  read -r since < /dst/${PRECOPY_DIR}/since 2>/dev/null || since=""
  if [[ "$since" =~ ^[0-9]+\\.[0-9]+$ ]] && [ -s /dst/${PRECOPY_DIR}/list ]; then
    if ${PASS_ENV}=warm bash /tmp/warm-pass.sh > /tmp/prepare.log 2>&1; then
      copied=$(sed -n 's/^PVMOVE changes copy=\\([0-9]*\\) .*/\\1/p' /tmp/prepare.log | tail -n1)
      : > ${SOURCE_CACHED}
      printf 'PVMOVE prepare copied_entries=%s\\n' "\${copied:-0}"
      return 0
    fi
    why=$(sed -n 's/^PVMOVE error //p' /tmp/prepare.log | tail -n1 | cut -c1-200)
    printf 'PVMOVE prepare warm-pass-failed %s\\n' "\${why:-see /tmp/prepare.log in the pod}"
    read -r since < /dst/${PRECOPY_DIR}/since 2>/dev/null || since=""
  fi
  (cd /dst && find . -xdev -printf '%C@\\n' > /dev/null 2>&1) &
  if [[ "$since" =~ ^[0-9]+\\.[0-9]+$ ]]; then
    (cd /src && find . -xdev -printf '%C@\\n' \\( -type f -newerct "@$since" -fprint0 /tmp/prepare.changed \\) > /dev/null 2>&1
      xargs -0 -r -P4 -n 64 cat -- < /tmp/prepare.changed > /dev/null 2>&1)
    changed=$(tr -cd '\\0' < /tmp/prepare.changed | wc -c)
  else
    (cd /src && find . -xdev -printf '%C@\\n' > /dev/null 2>&1)
  fi
  wait
  : > ${SOURCE_CACHED}
  printf 'PVMOVE prepare changed_files=%s\\n' "$changed"
}`;
}

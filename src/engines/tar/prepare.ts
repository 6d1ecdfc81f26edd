// What the tar engine's waiting final-pass pod does when told to prepare (GO_PREPARE), just before
// the application is stopped: the final pass walks both trees (fingerprint, tar level 1, the
// verification) and reads what changed since the warm pass, and after a long wait (a resumed move,
// a busy node) none of it is in memory any more. Reading it ahead while the application still runs
// takes that disk time out of the downtime. It only reads; the copy's correctness does not depend on
// it, and go stops it if it is still running.
import { PRECOPY_DIR } from './script.js';
import { SOURCE_CACHED } from './walk.js';

/**
 * prepare: stats every entry of both volumes (inodes and directories into memory) and reads the
 * source's regular files whose status changed since the warm pass's \`since\` (the time the final
 * pass compares against, script.ts), four readers at once. Then says so (SOURCE_CACHED): the final
 * pass's walks need not be cut in parts.
 */
export const PREPARE_FUNCTION = `prepare() {
  local since="" changed=0
  printf 'PVMOVE preparing\\n'
  (cd /dst && find . -xdev -printf '%C@\\n' > /dev/null 2>&1) &
  read -r since < /dst/${PRECOPY_DIR}/since 2>/dev/null || since=""
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

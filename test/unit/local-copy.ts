// The tar engine's copy script run on this machine as the pod runs it: /src, /dst and /tmp moved
// into a scratch directory. For unit tests of what the script makes of a tree (root, setfattr and
// setfacl needed: canRunLocally).
import { execFileSync } from 'node:child_process';
import { copyScript } from '../../src/engines/tar/script.js';
import type { VerifyMode } from '../../src/core/types.js';

/** Every entry's type, owner, mode, links, mtime (ns), size, blocks, xattrs (ACLs too), content, target. */
export const MANIFEST = `cd "$1"; export LC_ALL=C
find . -mindepth 1 -print0 | sort -z | while IFS= read -r -d '' p; do
  line="$(printf '%q' "$p")|$(stat -c '%F|%u:%g|%a|%h|%y|%s|%b' "$p")|$(getfattr -h -d -m - --absolute-names "$p" 2>/dev/null | grep -v '^#' | tr '\\n' ' ')"
  if [ -L "$p" ]; then line="$line|$(readlink "$p")"; elif [ -f "$p" ]; then line="$line|$(sha256sum < "$p")"; fi
  echo "$line"
done
stat -c 'ROOT %u:%g %a %y' .`;

export const manifest = (dir: string): string =>
  execFileSync('bash', ['-c', MANIFEST, 'manifest', dir], { encoding: 'utf8' });

/** The script's output (stdout and stderr), run in `root` (which holds src, dst and tmp). */
export function runCopyScript(root: string, verify: VerifyMode, env: Record<string, string> = {}): string {
  const script = copyScript(verify).replace(/(?<![\w.])\/(src|dst|tmp)\b/g, `${root}/$1`);
  return execFileSync('bash', ['-c', `exec 2>&1\n${script}`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function commandExists(name: string): boolean {
  try {
    execFileSync('bash', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const canRunLocally = (): boolean =>
  process.getuid?.() === 0 && commandExists('setfattr') && commandExists('setfacl');

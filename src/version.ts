// What `--version` prints: the package version and the git commit it was built from. The binary
// gets both from the bundler (esbuild `define`, scripts/binary/esbuild.config.mjs): it has no
// package.json and no git. From source they are read from package.json and `git rev-parse`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Replaced by string literals at bundle time; undeclared (typeof 'undefined') when run from source.
declare const __PVMOVE_VERSION__: string | undefined;
declare const __PVMOVE_COMMIT__: string | undefined;

const bundled = typeof __PVMOVE_VERSION__ === 'string';

export const VERSION: string = bundled ? __PVMOVE_VERSION__! : readPackageVersion();

/** "0.1.0 (commit 1a2b3c4d5e6f)", with "-dirty" when built from uncommitted changes. */
export function versionLine(): string {
  const commit = bundled && typeof __PVMOVE_COMMIT__ === 'string' ? __PVMOVE_COMMIT__ : gitCommit();
  return `${VERSION} (commit ${commit})`;
}

function repoRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(`${repoRoot()}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

function gitCommit(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repoRoot(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return git('rev-parse', '--short=12', 'HEAD') + (dirty ? '-dirty' : '');
  } catch {
    return 'unknown';
  }
}

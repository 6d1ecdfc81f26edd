import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COPY_LARGE_FUNCTION } from '../../src/engines/tar/readahead.js';
import { canRunLocally, manifest, runCopyScript } from './local-copy.js';

// The copy script run here as the pod runs it (/src, /dst and /tmp moved into a scratch directory),
// with the large-file threshold lowered so that cp copies the 1-3 MB files: the target must hold
// exactly what tar alone would have made (owners, modes, nanosecond times, xattrs, ACLs, links,
// sparse files, odd names, directory metadata set after cp wrote into the directories).
const TREE = `
mkdir -p empty-dir deep/a/b/c 'odd [x]*'
printf 'hello\\n' > plain.txt
head -c 3000000 /dev/urandom > deep/a/b/c/random.bin
head -c 2000000 /dev/urandom > 'odd [x]*/big *.bin'
head -c 1500000 /dev/urandom > ./-big
head -c 1200000 /dev/urandom > 'new
line.bin'
head -c 1100000 /dev/urandom > linked.bin; ln linked.bin linked-too.bin
ln plain.txt hardlink.txt; ln -s plain.txt symlink; ln -s /nonexistent/target dangling
truncate -s 100M sparse.img; printf 'end' | dd of=sparse.img bs=1 seek=50000000 conv=notrunc status=none
printf x > 'name with spaces'; printf z > ./-dash
head -c 1300000 /dev/urandom > owned.bin; chown 1234:5678 owned.bin; chmod 4750 owned.bin
setfattr -n user.origin -v pvmove owned.bin
setfacl -m u:1234:rw deep/a/b/c/random.bin
touch -d '2001-02-03 04:05:06.123456789' deep/a/b/c/random.bin deep/a/b/c deep/a
chmod 0700 deep; chown 999:999 deep deep/a/b
`;

describe('copy script run locally: large files by cp, the tree exactly as tar makes it', function () {
  this.timeout(120_000);
  let root: string;
  const canRun = canRunLocally();

  before(function () {
    if (!canRun) this.skip();
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-large-'));
    execFileSync('bash', ['-c', `mkdir -p ${root}/src ${root}/dst ${root}/tmp && cd ${root}/src && ${TREE}`]);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const run = (largeBytes: number, env: Record<string, string> = {}): string => {
    // Each run from an empty target and scratch directory, as a new copy pod.
    execFileSync('bash', ['-c', `rm -rf ${root}/dst ${root}/tmp && mkdir -p ${root}/dst ${root}/tmp`]);
    return runCopyScript(root, 'checksum', { PVMOVE_LARGE_FILE_BYTES: String(largeBytes), ...env });
  };

  it('copies the large single-link files by cp and everything else by tar, identically', () => {
    const log = run(1_000_000);
    const verdict = log.split('\n').find((l) => l.startsWith('PVMOVE verify ok')) ?? '';
    // random.bin, big *.bin, -big, owned.bin; not the hardlinked, sparse or newline-named ones.
    expect(verdict).to.match(/ cp_files=4 cp_same_fs=1 /);
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
    // tar left those files out (its archive is smaller by what cp copied), and the progress counts
    // both: cp's records, then tar's checkpoints, add up to the whole archive's.
    const copied = Math.max(
      ...[...log.matchAll(/PVMOVE progress copied_records=(\d+)/g)].map((m) => Number(m[1])),
    );
    const whole = lastCheckpoint(run(0));
    expect(copied).to.be.above(20);
    expect(lastCheckpoint(log) + copied).to.be.within(whole - 2, whole + 2);
  });

  it('follows cp with the readahead between two filesystems (forced here), the same tree', () => {
    // Here both directories are on one filesystem, where cp copies in the kernel without readers
    // (cp_same_fs=1 above); the readahead that follows cp between two volumes is forced on.
    const log = run(1_000_000, { PVMOVE_CP_READAHEAD: '1' });
    expect(log).to.match(/ cp_files=4 cp_same_fs=0 /);
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });

  it('makes the same tree with the large-file path off (tar alone)', () => {
    const log = run(0);
    expect(log).to.match(/ cp_files=0 /);
    expect(log).to.not.match(/copied_records/);
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });
});

describe('large_progress: one large file that cp copies for a while', function () {
  this.timeout(30_000);

  it("prints the target's share of the records as it grows, each step at least a checkpoint, never the end", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pvmove-large-progress-'));
    try {
      // The file stands for records 100 to 300 of the archive; a checkpoint is 5 records. The
      // target grows by a fifth of the source every 0.6 s, as cp's one long system call would.
      const log = execFileSync(
        'bash',
        [
          '-c',
          `say() { printf 'PVMOVE %s\\n' "$*"; }
every=5
${COPY_LARGE_FUNCTION}
head -c 1000000 /dev/zero > "$1/src"; : > "$1/dst"
large_progress 100 300 "$1/src" "$1/dst" & tick=$!
for i in 1 2 3 4 5; do sleep 0.6; head -c 200000 /dev/zero >> "$1/dst"; done
sleep 1.2
{ kill "$tick"; wait "$tick"; } 2>/dev/null
exit 0`,
          'large-progress',
          dir,
        ],
        { encoding: 'utf8' },
      );
      const seen = [...log.matchAll(/^PVMOVE progress copied_records=(\d+)$/gm)].map((m) => Number(m[1]));
      expect(seen.length, log).to.be.at.least(2);
      for (const [i, n] of seen.entries()) {
        expect(n, log).to.be.above(100).and.below(300);
        if (i > 0) expect(n - seen[i - 1]!, log).to.be.at.least(5);
      }
      expect(log, 'only progress lines').to.match(/^(PVMOVE progress copied_records=\d+\n)+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** tar's last checkpoint (records written, one checkpoint per record on a copy this small). */
function lastCheckpoint(log: string): number {
  const all = [...log.matchAll(/PVMOVE progress checkpoint=(\d+)/g)].map((m) => Number(m[1]));
  return all.length ? Math.max(...all) : 0;
}

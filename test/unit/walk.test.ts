import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WALK_FUNCTION } from '../../src/engines/tar/walk.js';

// The source walk run here as the pod runs it (/src and /tmp moved into a scratch directory). Its
// fingerprint must equal a single find's over the same tree (a re-run compares it with what an
// earlier copy recorded), its counts and measure lists must hold the same lines, and the readahead
// list must keep tar's read order (the walk order of one find), whichever way the tree was cut.
const TREE = `
mkdir -p empty-dir 'odd [x]*/in' deep/a/b/c/d wide
printf 'top\\n' > top.txt; printf z > ./-dash; printf s > 'name with spaces'
printf 'new\\n' > 'new
line'
for i in $(seq 1 40); do mkdir -p "wide/d$i"; for j in 1 2 3; do printf "$i$j" > "wide/d$i/f$j"; done; done
printf deep > deep/a/b/c/d/file; printf odd > 'odd [x]*/in/f'; printf two > deep/two
ln top.txt hard.txt; ln -s top.txt sym; ln -s /nonexistent dangling
truncate -s 10M sparse.img
`;

/** The reference: one find from the root, as the engine walked before the walk was cut in parts. */
const SINGLE_FIND = `cd "$1" && export LC_ALL=C nl=$'\\n'
find . -xdev -printf '%C@ %y %s %i %p\\0' \\( ! -path . -fprintf "$2/counts" '%y %s\\n' -fprintf "$2/stat" '%y %s %b %n %i\\n' \\
  \\( -type f ! -path "*$nl*" -fprintf "$2/list" '%s %b %n %i %p\\n' \\) \\) | sort -z | sha256sum | cut -c1-64`;

describe('source walk: several finds at once, the same fingerprint and lists as one find', function () {
  this.timeout(60_000);
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-walk-'));
    execFileSync('bash', [
      '-c',
      `mkdir -p ${root}/src ${root}/tmp ${root}/ref ${root}/bin && cd ${root}/src && ${TREE}`,
    ]);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const walk = (args: string, env: Record<string, string> = {}): string => {
    const fn = WALK_FUNCTION.replace(/(?<![\w.])\/(src|tmp)\b/g, `${root}/$1`);
    return execFileSync('bash', ['-c', `export LC_ALL=C\nset -euo pipefail\n${fn}\nwalk_source ${args}`], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    }).trim();
  };
  const reference = () =>
    execFileSync('bash', ['-c', SINGLE_FIND, '_', `${root}/src`, `${root}/ref`], { encoding: 'utf8' }).trim();
  const sorted = (file: string) => readFileSync(file, 'utf8').split('\n').sort().join('\n');
  /** A `find` that logs how it was called, then runs the real one. */
  const logFinds = () => {
    const real = execFileSync('bash', ['-c', 'command -v find'], { encoding: 'utf8' }).trim();
    writeFileSync(`${root}/bin/find`, `#!/bin/bash\necho "$*" >> ${root}/finds.log\nexec ${real} "$@"\n`, {
      mode: 0o755,
    });
    return { PATH: `${root}/bin:${process.env.PATH}` };
  };

  it('cuts the tree into parts walked by several finds, and matches one find line for line', () => {
    const fp = walk('measure', logFinds());
    expect(fp).to.match(/^[0-9a-f]{64}$/);
    expect(fp).to.equal(reference());
    expect(sorted(`${root}/tmp/src.counts`)).to.equal(sorted(`${root}/ref/counts`));
    expect(sorted(`${root}/tmp/src.stat`)).to.equal(sorted(`${root}/ref/stat`));
    // In tar's order, not only the same lines.
    expect(readFileSync(`${root}/tmp/readahead.list`, 'utf8')).to.equal(
      readFileSync(`${root}/ref/list`, 'utf8'),
    );
    const parts = readFileSync(`${root}/finds.log`, 'utf8')
      .split('\n')
      .filter((l) => l.includes('-files0-from'));
    expect(parts.length, 'finds over parts of the tree').to.be.at.least(3);
  });

  it('without measure: the same fingerprint and counts', () => {
    expect(walk('')).to.equal(reference());
    expect(sorted(`${root}/tmp/src.counts`)).to.equal(sorted(`${root}/ref/counts`));
  });

  it('a change anywhere changes the fingerprint', () => {
    const before = walk('');
    execFileSync('bash', ['-c', `printf X > "${root}/src/wide/d17/f2"`]);
    expect(walk('')).to.not.equal(before);
  });

  it('with a split that cannot cut at NULs (older coreutils), one find gives the same result', () => {
    writeFileSync(`${root}/bin/split`, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const env = logFinds();
    expect(walk('measure', env)).to.equal(reference());
    expect(readFileSync(`${root}/tmp/readahead.list`, 'utf8')).to.equal(
      readFileSync(`${root}/ref/list`, 'utf8'),
    );
    const walks = readFileSync(`${root}/finds.log`, 'utf8')
      .split('\n')
      .filter((l) => /^(\. |-files0-from )/.test(l) && !l.includes('/walk/empty'));
    expect(walks, 'one find from the root, after the probe: ' + walks.join(' / ')).to.have.lengthOf(1);
    expect(walks[0]).to.match(/^\. -xdev /);
  });

  it('a tree with few entries near the top is walked by one find (no parts to start)', () => {
    execFileSync('bash', [
      '-c',
      `rm -rf "${root}/src" && mkdir -p "${root}/src/a" && cd "${root}/src" && printf 1 > a/one && printf 2 > two && head -c 100000 /dev/zero > a/big`,
    ]);
    const env = logFinds();
    expect(walk('measure', env)).to.equal(reference());
    const walks = readFileSync(`${root}/finds.log`, 'utf8')
      .split('\n')
      .filter(
        (l) => /^(\. |-files0-from )/.test(l) && !l.includes('/walk/empty') && !l.includes('-maxdepth 2'),
      );
    expect(walks, walks.join(' / ')).to.have.lengthOf(1);
  });

  it('right after the read-ahead (its marker present), one find walks the tree: the same fingerprint and lists', () => {
    writeFileSync(`${root}/tmp/src.cached`, '');
    const env = logFinds();
    expect(walk('measure', env)).to.equal(reference());
    expect(readFileSync(`${root}/tmp/readahead.list`, 'utf8')).to.equal(
      readFileSync(`${root}/ref/list`, 'utf8'),
    );
    // (a logged call spans two lines: its pattern holds a newline)
    const finds = readFileSync(`${root}/finds.log`, 'utf8')
      .split('\n')
      .filter((l) => /^(\. |-files0-from )/.test(l));
    expect(finds, finds.join(' / ')).to.have.lengthOf(1);
    expect(finds[0]).to.match(/^\. -xdev /);
  });

  it('fails when one part cannot be read', () => {
    const real = execFileSync('bash', ['-c', 'command -v find'], { encoding: 'utf8' }).trim();
    // The find whose part holds wide/d3 reports an error, as on an unreadable directory.
    writeFileSync(
      `${root}/bin/find`,
      `#!/bin/bash\nif [ "$1" = -files0-from ] && grep -qz 'wide/d3$' "$2"; then ${real} "$@"; echo 'find: Permission denied' >&2; exit 1; fi\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    expect(() => walk('measure', { PATH: `${root}/bin:${process.env.PATH}` })).to.throw();
  });
});

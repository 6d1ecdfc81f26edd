import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readaheadFunction } from '../../src/engines/tar/readahead.js';

// The readahead loop run locally as the copy pod runs it (/src and /tmp moved into a scratch
// directory), following a copying process that reads nothing for 3 s, the depth pinned at 0 (tar
// alone: on a fast local disk the controller settles there). On such a disk the copy is bound by
// the CPU, so what the loop costs while it only waits is taken from tar: it must not start a
// process every 50 ms (`sleep`) nor ask the controller (`awk`) when no epoch can end.
describe('readahead loop while it only waits (depth 0)', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-raloop-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('starts fewer than 20 processes in 3 s', () => {
    const fn = readaheadFunction().replace(/(?<![\w.])\/(src|tmp)\b/g, `${root}/$1`);
    const script = `set -eu
mkdir -p ${root}/src ${root}/tmp/readahead
# 300 groups of one file each, none of which the copying process will reach in 3 s
for i in $(seq 300); do echo "f$i" > ${root}/tmp/readahead/$i.files; echo "$((i * 1000000000)) 1000 f $i"; done > ${root}/tmp/readahead/work
${fn}
# Every process the loop starts by name is counted (the functions shadow the programs).
sleep() { echo sleep >> ${root}/spawned; command sleep "$@"; }
awk() { echo awk >> ${root}/spawned; command awk "$@"; }
: > ${root}/spawned
command sleep 3 & copier=$!
PVMOVE_READAHEAD_DEPTH=0 readahead "$copier" ${root}/tmp/readahead/work 1
wc -l < ${root}/spawned`;
    const spawned = Number(execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim());
    expect(spawned, 'processes started by the waiting loop').to.be.above(0).and.below(20);
  });
});

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
describe('readahead loop: what it costs while it waits', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-raloop-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Runs the loop for 3 s after `setup` (shell), depth pinned to `depth` unless empty; prints the processes it started. */
  const spawnedIn3s = (setup: string, depth: string): number => {
    const fn = readaheadFunction().replace(/(?<![\w.])\/(src|tmp)\b/g, `${root}/$1`);
    const pin = depth === '' ? '' : `PVMOVE_READAHEAD_DEPTH=${depth}`;
    const script = `set -eu
mkdir -p ${root}/src ${root}/tmp/readahead
# 300 groups of one file each, none of which the copying process will reach in 3 s
for i in $(seq 300); do echo "f$i" > ${root}/tmp/readahead/$i.files; echo "$((i * 1000000000)) 1000 f $i"; done > ${root}/tmp/readahead/work
${fn}
${setup}
# Every process the loop starts by name is counted (the functions shadow the programs).
sleep() { echo sleep >> ${root}/spawned; command sleep "$@"; }
awk() { echo awk >> ${root}/spawned; command awk "$@"; }
: > ${root}/spawned
command sleep 3 & copier=$!
${pin} readahead "$copier" ${root}/tmp/readahead/work ${setup === '' ? 1 : 0}
wc -l < ${root}/spawned`;
    return Number(execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim());
  };

  it('starts fewer than 20 processes in 3 s', () => {
    const spawned = spawnedIn3s('', '0');
    expect(spawned, 'processes started by the waiting loop').to.be.above(0).and.below(20);
  });

  it('asks the controller nothing while the copy has not reached where the last depth change stood', () => {
    // The controller's state just after a depth change: no epoch (t0 -1) until the copy passes
    // the mark (1 TB here), which the copying process never does. Depth 0: nothing to read either.
    const state = '0 8388608 33554432 down 1 4 2 50000000 -1 0 1000000000000 0 4 0 4 2:50';
    const spawned = spawnedIn3s(`echo '${state}' > ${root}/tmp/readahead.ctl`, '');
    expect(spawned, 'processes started by the loop waiting for the mark').to.be.below(3);
  });
});

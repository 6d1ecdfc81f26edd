// The crash matrix: the plugin is SIGKILLed right after each step of the itinerary is journaled
// done (and once on the first copy progress event, mid-copy), through the test-only hook
// PVMOVE_TEST_KILL_AFTER. From each point, in one namespace per point:
//   (b) `rollback` -> the original state (claim on the original PV, class, size, labels,
//       annotations, owner replicas, no temporary objects, target PV released per policy or kept
//       when the app already ran on it), data byte-identical; a second rollback is a no-op;
//   (a) the same crash again on a fresh move, then `resume` -> the state of an uninterrupted run,
//       data byte-identical.
// A Deployment-owned claim on `fast` (Immediate) moves to `standard` (WaitForFirstConsumer). The
// warm-copy points move with --precopy (the other points' moves have no warm pass to stop in).
//
// The points are dealt round-robin over the files test/e2e/crash-matrix-<n>.test.ts so that
// scripts/test.sh runs them in parallel lanes; every point runs in exactly one file, however many
// there are (add a file to split finer).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  journalOf,
  type Cluster,
} from './cluster.js';
import { explain, runCli } from './cli.js';
import { createApp, expectKilled, expectMoved, expectOriginal, resultOf } from './safety.js';

export const POINTS = [
  'preflight',
  'record-journal',
  'retain-source-pv',
  'warm-copy-progress', // --precopy, mid warm pass: killed on its first progress event, 200 MB
  'warm-copy', // --precopy: after the warm pass, before anything is stopped
  'scale-down',
  'create-target',
  'retain-target-pv',
  'copy-progress', // mid-copy: killed on the first progress event, 200 MB on the claim
  'copy',
  'release-claims',
  'prebind-target-pv',
  'recreate-claim',
  'scale-up',
  'restore-reclaim-policy',
  'finish',
];

/**
 * From the pre-bind on, a claim of the name may have bound the target PV and the application may
 * have written to it: rollback keeps it and wants --yes.
 */
export const AFTER_MOVE = [
  'prebind-target-pv',
  'recreate-claim',
  'restore-reclaim-policy',
  'scale-up',
  'finish',
];

const SHARD_FILE = /^crash-matrix-(\d+)\.test\.ts$/;

/** The points of one shard file: its place among the shard files picks every n-th point. */
export function pointsOf(file: string): { points: string[]; shard: number; shards: number } {
  const files = readdirSync(path.dirname(file))
    .filter((f) => SHARD_FILE.test(f))
    .sort((a, b) => Number(SHARD_FILE.exec(a)![1]) - Number(SHARD_FILE.exec(b)![1]));
  const shard = files.indexOf(path.basename(file));
  if (shard < 0) throw new Error(`${file} is not named crash-matrix-<n>.test.ts`);
  const points = POINTS.filter((_, i) => i % files.length === shard);
  return { points, shard: shard + 1, shards: files.length };
}

/** Declares the mocha suite of the crash matrix points that fall to `file`. */
export function describeCrashMatrix(file: string): void {
  const { points, shard, shards } = pointsOf(file);
  const matrix: { point: string; rollback: string; resume: string; seconds: number }[] = [];
  // A point's namespace is deleted while the next point runs; the suite waits for all at the end.
  const cleanups: Promise<void>[] = [];

  describe(`crash matrix ${shard}/${shards}: SIGKILL at every step boundary, then rollback or resume`, function () {
    let c: Cluster;
    before(() => {
      c = connect();
    });
    after(async function () {
      this.timeout(600_000);
      console.log(`\nCrash matrix ${shard}/${shards} (SIGKILL after the step, then rollback / resume):`);
      console.table(matrix);
      await Promise.all(cleanups);
    });

    for (const point of points) {
      it(`killed after ${point}: rollback restores the original, resume completes the move`, async () => {
        const started = Date.now();
        const row = { point, rollback: 'not reached', resume: 'not reached', seconds: 0 };
        matrix.push(row);
        const ns = await createNamespace(c, 'e2e-crash');
        try {
          await crashAt(c, ns, point, row);
        } finally {
          row.seconds = Math.round((Date.now() - started) / 1000);
          cleanups.push(cleanUp(c, ns));
        }
      });
    }
  });
}

async function crashAt(
  c: Cluster,
  ns: string,
  point: string,
  row: { rollback: string; resume: string },
): Promise<void> {
  const app = await createApp(c, ns, { extraMb: point.endsWith('copy-progress') ? 200 : 0 });
  const precopy = point.startsWith('warm-copy') ? ['--precopy'] : [];
  const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json', ...precopy];
  const kill = { env: { PVMOVE_TEST_KILL_AFTER: point } };

  // (b) crash, then rollback.
  row.rollback = 'failed';
  expectKilled(await runCli(move, kill));
  const journal = await journalOf(c, ns, 'data');
  const targetPv = journal?.original.targetPv?.name;
  const keep = AFTER_MOVE.includes(point);
  if (keep) {
    const refused = await runCli(['rollback', 'data', '-n', ns, '-o', 'json']);
    expect(refused.code, explain(refused)).to.equal(2);
    expect(refused.stderr).to.contain('--yes');
  }
  const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json', '--yes']);
  if (point === 'preflight') {
    expect(rb.code, explain(rb)).to.equal(2);
    expect(rb.stderr).to.contain('nothing to roll back');
  } else {
    expect(rb.code, explain(rb)).to.equal(0);
    expect(resultOf(rb)?.status).to.equal('rolled-back');
  }
  await expectOriginal(c, ns, app, { targetPv, keepTarget: keep });
  if (point !== 'preflight') {
    const again = await runCli(['rollback', 'data', '-n', ns, '-o', 'json', '--yes']);
    expect(again.code, explain(again)).to.equal(0);
    expect(String(resultOf(again)?.message)).to.contain('already rolled back');
  }
  row.rollback = keep ? 'original (target PV kept: Retain)' : 'original';

  // (a) the same crash on a new move, then resume.
  row.resume = 'failed';
  expectKilled(await runCli(move, kill));
  const resume =
    point === 'preflight'
      ? await runCli(move) // nothing recorded yet: re-running the command is the resume
      : await runCli(['resume', 'data', '-n', ns, '-o', 'json']);
  expect(resume.code, explain(resume)).to.equal(0);
  await expectMoved(c, ns, app, 'standard');
  row.resume = 'moved';
}

/** Deletes the point's namespace and its PVs, then checks no PV still points at it. */
function cleanUp(c: Cluster, ns: string): Promise<void> {
  const done = (async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
    const left = (await c.core.listPersistentVolume()).items.filter(
      (p) => p.spec?.claimRef?.namespace === ns,
    );
    expect(
      left.map((p) => p.metadata?.name),
      `PVs left by ${ns}`,
    ).to.deep.equal([]);
  })();
  // Awaited by the suite's `after`; until then a failure must not surface as another test's.
  done.catch(() => undefined);
  return done;
}

// Pre-copy (--precopy, issue 13): a warm pass copies the claim to the target while the application
// still runs; then the owners are scaled down and a final pass copies only what changed since, is
// verified, and the claims are swapped. Checked the way a user would:
//  - the data on the new volume is exactly the source at the moment of the stop, whatever changed
//    between the warm pass and the stop (deletions, renames, a same-size rewrite with the old
//    mtime, a chmod, a new hardlink, new files);
//  - the application runs, untouched, through the warm pass; the downtime reported is the scale-down
//    to ready-again window only;
//  - killed in the middle of the warm pass, the same command run again makes the warm pass again
//    and completes the move;
//  - --precopy is refused for claims it cannot work on (ReadWriteOncePod, Block);
//  - a rollback from right after the warm pass leaves the claim, the app and the data as they were.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  journalOf,
  sleep,
  waitFor,
  type Cluster,
} from '../helpers/cluster.js';
import { explain, runCli, type CliResult } from '../helpers/cli.js';
import { createBlockClaim, devicePod } from '../helpers/block.js';
import {
  createApp,
  createDeployment,
  expectKilled,
  expectMoved,
  expectOriginal,
  resultOf,
  snapshot,
  startCli,
  waitForReady,
} from '../helpers/safety.js';
import { MANIFEST_SCRIPT } from '../helpers/tree.js';
import { hostPathOf, manifestOnNode } from '../helpers/volumes.js';
import { runPod, waitForClaimBound, waitForPodGone } from '../helpers/workloads.js';
import { copyPodName } from '../../src/core/names.js';

const execFileP = promisify(execFile);

/** The move of claim `data` (Deployment web, class fast) to class standard with a warm pass. */
const MOVE = (ns: string) => ['data', '--to-class', 'standard', '-n', ns, '--precopy', '-o', 'json', '--yes'];

/** The one live pod of Deployment web (Running, not being deleted). */
async function appPod(c: Cluster, ns: string): Promise<k8s.V1Pod> {
  return waitFor(`the pod of Deployment web in ${ns}`, 60_000, async () => {
    const pods = await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
    const live = pods.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    return live.length === 1 ? live[0] : undefined;
  });
}

function isReady(p: k8s.V1Pod | undefined): boolean {
  return p?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
}

/** Runs a command in the application's container, as a user would with `kubectl exec`. */
async function execInApp(c: Cluster, ns: string, command: string[]): Promise<string> {
  const pod = (await appPod(c, ns)).metadata!.name!;
  const { stdout } = await execFileP('kubectl', ['exec', '-n', ns, pod, '-c', 'app', '--', ...command], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The manifest (test/helpers/tree.ts) of the claim as the running application sees it. */
function manifestInApp(c: Cluster, ns: string): Promise<string> {
  return execInApp(c, ns, ['bash', '-c', MANIFEST_SCRIPT, 'manifest', '/data']);
}

/** A manifest line's fields: name|type|uid:gid|mode|links|mtime|size|sha256 for a regular file. */
function entry(manifest: string, name: string): string[] {
  const line = manifest.split('\n').find((l) => l.startsWith(`${name}|`));
  if (!line) throw new Error(`${name} is not in the manifest:\n${manifest}`);
  return line.split('|');
}

function stepAt(r: CliResult, step: string, status: string): number {
  return r.events.findIndex((e) => e.type === 'step' && e.step === step && e.status === status);
}

function timeOf(r: CliResult, step: string, status: string): number {
  const i = stepAt(r, step, status);
  expect(i, `step ${step} ${status} in the events\n${explain(r)}`).to.be.at.least(0);
  return Date.parse(String(r.events[i]!.time));
}

/** A varied tree: nested dirs, owners, modes, a hardlink, symlinks (one dangling), a fifo. */
const TREE = `
cd /data
mkdir -p keep/nested/deep gone/sub/subsub olddir/inner
printf 'hello\\n' > keep/plain.txt
ln keep/plain.txt keep/hardlink.txt
ln -s ../keep/plain.txt olddir/link-to-plain
ln -s /nonexistent/target dangling
head -c 2000000 /dev/urandom > keep/nested/deep/blob.bin
head -c 200000 /dev/urandom > gone/sub/subsub/x.bin
echo y > gone/y.txt
echo inner > olddir/inner/file.txt
echo 'to be deleted' > delete-me.txt
echo 'to be renamed' > rename-me.txt
head -c 65536 /dev/urandom > same-size.bin
echo mode > chmod-me.txt && chmod 0600 chmod-me.txt
echo secret > owned.txt && chown 1234:5678 owned.txt && chmod 0640 owned.txt
chown -R 999:998 keep/nested && chmod 0711 keep/nested
mkfifo fifo
touch -d '2020-02-02 02:02:02' keep/plain.txt same-size.bin rename-me.txt olddir/inner/file.txt
`;

/**
 * What the application changes between the warm pass and the stop. same-size.bin gets new bytes
 * of the same length and its old mtime back (only its ctime tells); chmod-me.txt only its mode;
 * keep/plain.txt (unchanged content) a third link.
 */
const CHANGES = `
cd /data
rm delete-me.txt
rm -rf gone
mv rename-me.txt renamed.txt
mv olddir newdir
dd if=/dev/urandom of=same-size.bin bs=65536 count=1 conv=notrunc status=none
touch -d '2020-02-02 02:02:02' same-size.bin
chmod 0755 chmod-me.txt
echo new > new-file.txt
mkdir -p added/dir && head -c 100000 /dev/urandom > added/dir/new.bin && chown 4321:4321 added/dir/new.bin
echo more > keep/nested/deep/added.txt
ln keep/plain.txt added/third-link.txt
sync
`;

describe('kubectl pvmove --precopy: a warm pass while the application runs', function () {
  let c: Cluster;
  let ns: string;
  // A test's namespace is deleted while the next test runs; the suite waits for all at the end.
  const cleanups: Promise<unknown>[] = [];
  before(() => {
    c = connect();
  });
  after(async function () {
    this.timeout(600_000);
    await Promise.all(cleanups);
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-precopy');
  });
  afterEach(() => {
    const done = ns;
    const cleanup = deleteNamespace(c, done).then(() => deleteVolumesOf(c, done));
    // Awaited by `after`; until then a failure must not surface as another test's.
    cleanup.catch(() => undefined);
    cleanups.push(cleanup);
  });

  it('final data equals the source at the moment of the stop (changes after the warm pass: deletions, renames, same-size rewrite, chmod, new files)', async () => {
    const app = await createApp(c, ns);
    await execInApp(c, ns, ['bash', '-ec', TREE]);
    const seeded = await manifestInApp(c, ns);
    const uid = (await appPod(c, ns)).metadata!.uid;

    expectKilled(await runCli(MOVE(ns), { env: { PVMOVE_TEST_KILL_AFTER: 'warm-copy' } }));
    const journal = await journalOf(c, ns, 'data');
    expect(journal?.steps['warm-copy']?.status, 'warm-copy journaled done').to.equal('done');
    expect(journal?.steps['scale-down']?.status, 'not scaled down yet').to.not.equal('done');
    const running = await appPod(c, ns);
    expect(running.metadata?.uid, 'the app pod ran through the warm pass').to.equal(uid);
    expect(isReady(running)).to.equal(true);
    // The final pass's pod is already up, beside the running app, waiting for the go.
    const pods = await c.core.listNamespacedPod({
      namespace: ns,
      labelSelector: 'pvmove.kubectl.io/role=copy-pod',
    });
    expect(pods.items.map((p) => p.metadata?.name)).to.deep.equal([
      copyPodName('data', journal!.migrationId),
    ]);
    const waiting = pods.items[0]!;
    expect(waiting.metadata?.labels?.['pvmove.kubectl.io/pass'], 'the final pass pod').to.equal('final');
    expect(waiting.status?.phase, 'started before the stop').to.equal('Running');
    expect(waiting.metadata?.annotations?.['pvmove.kubectl.io/go'], 'no go while the app runs').to.equal(
      undefined,
    );
    expect(waiting.spec?.nodeName, 'on the node where the app runs').to.equal(running.spec?.nodeName);

    // The application changes the data after the warm pass; the manifest right then is the source
    // at the moment of the stop (nothing writes after it: the app only sleeps).
    await execInApp(c, ns, ['bash', '-ec', CHANGES]);
    const atStop = await manifestInApp(c, ns);
    const [before, after] = [entry(seeded, './same-size.bin'), entry(atStop, './same-size.bin')];
    expect(after[5], 'same-size.bin keeps its mtime').to.equal(before[5]);
    expect(after[6], 'same-size.bin keeps its size').to.equal(before[6]);
    expect(after[7], 'same-size.bin has new content').to.not.equal(before[7]);
    expect(entry(atStop, './chmod-me.txt')[3]).to.equal('755');
    expect(entry(atStop, './keep/plain.txt')[4], 'three links to plain.txt').to.equal('3');

    const r = await runCli(['resume', 'data', '-n', ns, '-o', 'json', '--yes']);
    expect(r.code, explain(r)).to.equal(0);
    expect(resultOf(r)?.status, explain(r)).to.equal('done');
    expect(stepAt(r, 'warm-copy', 'started'), 'the resume does not make the warm pass again').to.equal(-1);
    expect(stepAt(r, 'scale-down', 'started'), explain(r)).to.be.at.least(0);
    // Before the owners were stopped, the waiting pod made one more warm pass: it copied what
    // changed since the first one (rewritten, chmod-ed, renamed, new, and their directories).
    const prepared = r.events.find((e) => e.type === 'info' && e.step === 'scale-down');
    const copied = /copied (\d+) entries changed since the warm pass ahead in [\d.]+ s$/.exec(
      String(prepared?.message),
    );
    expect(copied, explain(r)).to.not.equal(null);
    expect(Number(copied![1]), String(prepared?.message)).to.be.at.least(3);

    const newPv = await expectMoved(c, ns, { ...app, data: atStop }, 'standard');
    const newDir = await hostPathOf(c, newPv);
    expect(manifestOnNode(newDir), 'the new volume, byte for byte').to.equal(atStop);
    for (const gone of ['delete-me.txt', 'gone', 'rename-me.txt', 'olddir'])
      expect(existsSync(path.join(newDir, gone)), `${gone} is not on the new volume`).to.equal(false);
    for (const there of ['renamed.txt', 'newdir/inner/file.txt', 'added/dir/new.bin'])
      expect(existsSync(path.join(newDir, there)), `${there} is on the new volume`).to.equal(true);
    // The retained source PV still holds the data as it was at the stop.
    expect(manifestOnNode(await hostPathOf(c, app.pv))).to.equal(atStop);
  });

  it('a warm pass runs while the app keeps running; the downtime reported excludes it', async () => {
    const app = await createApp(c, ns, { extraMb: 4 });
    const uid = (await appPod(c, ns)).metadata!.uid;

    // The app pod's state, sampled while the move runs: [request sent, response received, alive].
    const samples: { sent: number; received: number; alive: boolean }[] = [];
    let running = true;
    const sampler = (async () => {
      while (running) {
        const sent = Date.now();
        const pods = await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
        const pod = pods.items.find((p) => p.metadata?.uid === uid);
        const alive = pod?.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && isReady(pod);
        samples.push({ sent, received: Date.now(), alive });
        await sleep(200);
      }
    })();
    let r: CliResult;
    try {
      r = await startCli(MOVE(ns), () => undefined).done;
    } finally {
      running = false;
      await sampler;
    }
    expect(r.code, explain(r)).to.equal(0);

    // warm-copy comes between retain-source-pv and scale-down, and ends before the scale-down starts.
    expect(stepAt(r, 'retain-source-pv', 'done'), explain(r)).to.be.below(stepAt(r, 'warm-copy', 'started'));
    expect(stepAt(r, 'warm-copy', 'done'), explain(r)).to.be.at.least(0);
    expect(stepAt(r, 'warm-copy', 'done'), explain(r)).to.be.below(stepAt(r, 'scale-down', 'started'));
    const warmStarted = timeOf(r, 'warm-copy', 'started');
    const warmDone = timeOf(r, 'warm-copy', 'done');
    const during = samples.filter((s) => s.sent >= warmStarted && s.received <= warmDone);
    expect(during.length, 'the app pod was looked at during the warm pass').to.be.at.least(1);
    expect(
      samples.filter((s) => s.received <= warmDone).every((s) => s.alive),
      'the original app pod was Running and Ready until the warm pass was done',
    ).to.equal(true);

    const result = resultOf(r)!;
    expect(result.status, explain(r)).to.equal('done');
    expect(result.downtimeMs, explain(r)).to.be.a('number');
    expect(result.durationMs, explain(r)).to.be.a('number');
    const downtime = result.downtimeMs as number;
    const warmMs = Number(r.events[stepAt(r, 'warm-copy', 'done')]!.durationMs ?? warmDone - warmStarted);
    expect(downtime).to.be.above(0);
    expect(downtime, 'the warm pass is not downtime').to.be.below((result.durationMs as number) - warmMs);
    // From the owners told to stop (after the warm pass before the stop, said in the scale-down's
    // info event, while the app still ran) to owners ready again, as the events tell it.
    const prepared = r.events.find((e) => e.type === 'info' && e.step === 'scale-down');
    expect(String(prepared?.message), explain(r)).to.match(
      /copied \d+ entries changed since the warm pass ahead/,
    );
    const window = timeOf(r, 'scale-up', 'done') - Date.parse(String(prepared!.time));
    expect(Math.abs(downtime - window), `downtimeMs ${downtime} vs events ${window}`).to.be.below(1000);

    await expectMoved(c, ns, app, 'standard');
  });

  it('killed mid warm pass, the same move command re-run: the warm pass is made again and the move completes', async () => {
    const app = await createApp(c, ns, { extraMb: 4 });
    const uid = (await appPod(c, ns)).metadata!.uid;

    expectKilled(await runCli(MOVE(ns), { env: { PVMOVE_TEST_KILL_AFTER: 'warm-copy-progress' } }));
    expect((await journalOf(c, ns, 'data'))?.steps['warm-copy']?.status, 'killed in the warm pass').to.equal(
      'started',
    );
    expect((await appPod(c, ns)).metadata?.uid, 'the app still runs').to.equal(uid);

    const r = await runCli(MOVE(ns));
    expect(r.code, explain(r)).to.equal(0);
    expect(resultOf(r)?.status, explain(r)).to.equal('done');
    expect(stepAt(r, 'warm-copy', 'done'), explain(r)).to.be.below(stepAt(r, 'scale-down', 'started'));
    await expectMoved(c, ns, app, 'standard');
  });

  it('--precopy is refused (exit 2, one line, nothing changed) for a ReadWriteOncePod claim and a Block claim', async () => {
    await c.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: {
        metadata: { name: 'solo' },
        spec: {
          accessModes: ['ReadWriteOncePod'],
          storageClassName: 'fast',
          resources: { requests: { storage: '1Gi' } },
        },
      },
    });
    await createDeployment(c, ns, 'solo-app', 'solo');
    await createBlockClaim(c, ns, 'raw', '64Mi');
    await runPod(
      c,
      ns,
      devicePod('seed-raw', [{ claim: 'raw', path: '/dev/raw' }], 'printf SEEDED01 > /dev/raw'),
    );
    await c.core.deleteNamespacedPod({ name: 'seed-raw', namespace: ns, gracePeriodSeconds: 0 });
    await waitForPodGone(c, ns, 'seed-raw');
    await waitForClaimBound(c, ns, 'solo');
    await waitForClaimBound(c, ns, 'raw');
    await waitForReady(c, ns, 'solo-app', 1);

    const cases: [string, string[], RegExp][] = [
      ['solo', ['--to-class', 'standard'], /ReadWriteOncePod/],
      ['raw', ['--to-class', 'local-block', '--size', '128Mi'], /Block/],
    ];
    for (const [claim, flags, why] of cases) {
      const pv = (await c.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns })).spec
        ?.volumeName;
      const before = await snapshot(c, ns);
      const r = await runCli([claim, ...flags, '-n', ns, '--precopy', '-o', 'json', '--yes']);
      expect(r.code, explain(r)).to.equal(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, explain(r)).to.have.length(1);
      expect(lines[0], explain(r)).to.match(why);
      expect(lines[0], explain(r)).to.contain('--precopy');
      expect(lines[0], explain(r)).to.not.match(/unknown argument/i);
      expect(resultOf(r)?.status, explain(r)).to.equal('refused');
      expect(await snapshot(c, ns), 'nothing changed').to.deep.equal(before);
      const after = await c.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns });
      expect(after.status?.phase).to.equal('Bound');
      expect(after.spec?.volumeName).to.equal(pv);
      expect(await journalOf(c, ns, claim), 'no journal').to.equal(undefined);
    }
  });

  it('the app scaled back up (GitOps) after the stop, before the final pass: the resume stops it again and the final pass holds its new writes', async () => {
    const app = await createApp(c, ns, { extraMb: 2 });
    expectKilled(await runCli(MOVE(ns), { env: { PVMOVE_TEST_KILL_AFTER: 'scale-down' } }));
    const journal = await journalOf(c, ns, 'data');
    expect(journal?.steps['scale-down']?.status, 'stopped right after the scale-down').to.equal('done');
    const waiting = await c.core.readNamespacedPod({
      name: copyPodName('data', journal!.migrationId),
      namespace: ns,
    });
    expect(
      waiting.metadata?.annotations?.['pvmove.kubectl.io/go'],
      'the final pass still waits (told to prepare before the stop, not to go)',
    ).to.equal('prepare');
    // Something restores the replicas behind the tool's back; the app writes again.
    await c.apps.patchNamespacedDeploymentScale(
      { namespace: ns, name: 'web', body: { spec: { replicas: 1 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await appPod(c, ns);
    await execInApp(c, ns, ['bash', '-ec', 'echo after-the-stop > /data/late.txt; rm /data/r.bin; sync']);
    const atResume = await manifestInApp(c, ns);
    expect(atResume).to.contain('late.txt');

    const r = await runCli(['resume', 'data', '-n', ns, '-o', 'json', '--yes']);
    expect(r.code, explain(r)).to.equal(0);
    expect(stepAt(r, 'scale-down', 'started'), 'the owner is stopped again').to.be.at.least(0);
    expect(stepAt(r, 'scale-down', 'done'), explain(r)).to.be.below(stepAt(r, 'copy', 'started'));
    const newPv = await expectMoved(c, ns, { ...app, data: atResume }, 'standard');
    expect(manifestOnNode(await hostPathOf(c, newPv)), 'the new volume, byte for byte').to.equal(atResume);
  });

  it('rollback from right after the warm pass: claim on its original PV, app untouched, nothing left, data unchanged', async () => {
    const app = await createApp(c, ns, { extraMb: 2 });
    const uid = (await appPod(c, ns)).metadata!.uid;

    expectKilled(await runCli(MOVE(ns), { env: { PVMOVE_TEST_KILL_AFTER: 'warm-copy' } }));
    expect((await journalOf(c, ns, 'data'))?.steps['warm-copy']?.status).to.equal('done');
    // The warm pass copied to a target volume: every PV of this namespace but the source.
    const targets = (await c.core.listPersistentVolume()).items
      .filter((pv) => pv.spec?.claimRef?.namespace === ns && pv.metadata?.name !== app.pv)
      .map((pv) => pv.metadata!.name!);
    expect(targets, 'the warm pass made a target volume').to.have.length.at.least(1);

    const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json', '--yes']);
    expect(rb.code, explain(rb)).to.equal(0);
    expect(resultOf(rb)?.status, explain(rb)).to.equal('rolled-back');
    // Claim on the original PV (policy Delete again), labels, app ready, no temporary claim or
    // pvmove pod, the same data; the target PV reclaimed.
    await expectOriginal(c, ns, app, { targetPv: targets[0] });
    await waitFor('every target PV of the warm pass to be reclaimed', 90_000, async () => {
      const left = (await c.core.listPersistentVolume()).items.filter((pv) =>
        targets.includes(pv.metadata?.name ?? ''),
      );
      return left.length === 0 ? true : undefined;
    });
    const pod = await appPod(c, ns);
    expect(pod.metadata?.uid, 'the app was never stopped').to.equal(uid);
    expect(isReady(pod)).to.equal(true);
  });
});

// Writes made between two runs are never lost, whatever a person (or GitOps) does in between:
//  - a run stops after the copy, the application is scaled back up and writes, the move is
//    resumed: the copy is made again and the write is on the new PV;
//  - a run stops after the claim was re-created on the new PV, the application is scaled up and
//    writes, the move is rolled back: the new PV is kept (Retain, labelled) with the write on it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Journal } from '../../src/core/journal.js';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  type Cluster,
  journalOf,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { hostPathOf } from '../helpers/volumes.js';
import { runPod, shellPod, waitForPodGone } from '../helpers/workloads.js';
import { createApp, expectKilled, expectOriginal, resultOf, waitForReady } from '../helpers/safety.js';

async function scaleWeb(c: Cluster, ns: string, replicas: number): Promise<void> {
  await c.apps.patchNamespacedDeploymentScale({
    name: 'web',
    namespace: ns,
    body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
  });
  await waitForReady(c, ns, 'web', replicas);
}

/** What a user does while no run is going: the application is back and writes a file. */
async function writeWhileAppRuns(c: Cluster, ns: string, file: string, text: string): Promise<void> {
  await scaleWeb(c, ns, 1);
  const writer = `writer-${file.replace(/\W/g, '')}`;
  await runPod(c, ns, shellPod(writer, 'data', `echo ${text} > /data/${file}`));
  // A completed pod still holds the claim (pvc-protection) until it is deleted.
  await c.core.deleteNamespacedPod({ name: writer, namespace: ns, gracePeriodSeconds: 0 });
  await waitForPodGone(c, ns, writer);
}

async function journalNamed(c: Cluster, ns: string): Promise<Journal> {
  const j = await journalOf(c, ns, 'data');
  if (!j) throw new Error(`no journal of claim data in ${ns}`);
  return j;
}

describe('writes made between two runs', function () {
  let c: Cluster;
  let ns: string;
  before(() => {
    c = connect();
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-writes');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('stopped after the copy, the app writes, the move resumed: the copy is made again and holds the write', async () => {
    await createApp(c, ns);
    const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json'];
    expectKilled(await runCli(move, { env: { PVMOVE_TEST_KILL_AFTER: 'copy' } }));
    expect((await journalNamed(c, ns)).steps.copy?.status).to.equal('done');

    await writeWhileAppRuns(c, ns, 'after-copy.txt', 'written-after-the-copy');

    const r = await runCli(['resume', 'data', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);
    const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    expect(pvc.spec?.storageClassName).to.equal('standard');
    const onNewPv = path.join(await hostPathOf(c, pvc.spec!.volumeName!), 'after-copy.txt');
    expect(existsSync(onNewPv), 'the write made between the runs is on the new PV').to.equal(true);
    expect(readFileSync(onNewPv, 'utf8')).to.equal('written-after-the-copy\n');
    const warnings = r.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.join('\n')).to.match(/claim data changed after an earlier run copied it/);
  });

  it('a resume with the source unchanged checks the earlier copy and does not copy again', async () => {
    await createApp(c, ns);
    const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json'];
    expectKilled(await runCli(move, { env: { PVMOVE_TEST_KILL_AFTER: 'copy' } }));
    const r = await runCli(['resume', 'data', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);
    const infos = r.events.filter((e) => e.type === 'info').map((e) => String(e.message));
    expect(infos.join('\n')).to.contain('the copy an earlier run made still matches claim data');
  });

  it('stopped after the re-creation, the app writes, rolled back: the new PV is kept with the write', async () => {
    const app = await createApp(c, ns);
    const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json'];
    expectKilled(await runCli(move, { env: { PVMOVE_TEST_KILL_AFTER: 'recreate-claim' } }));
    const targetPv = (await journalNamed(c, ns)).original.targetPv!.name;

    await writeWhileAppRuns(c, ns, 'after-move.txt', 'written-on-the-new-pv');

    const refused = await runCli(['rollback', 'data', '-n', ns, '-o', 'json']);
    expect(refused.code, explain(refused)).to.equal(2);
    expect(refused.stderr).to.contain('--yes');
    const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json', '--yes']);
    expect(rb.code, explain(rb)).to.equal(0);
    expect(String(resultOf(rb)?.message)).to.contain(`kubectl delete pv ${targetPv}`);
    await expectOriginal(c, ns, app, { targetPv, keepTarget: true });

    const kept = await c.core.readPersistentVolume({ name: targetPv });
    expect(kept.metadata?.labels).to.include({ 'pvmove.kubectl.io/kept-by-rollback': 'true' });
    const file = path.join(await hostPathOf(c, targetPv), 'after-move.txt');
    expect(readFileSync(file, 'utf8')).to.equal('written-on-the-new-pv\n');
  });
});

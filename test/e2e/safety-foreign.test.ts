// Objects kubectl-pvmove did not make are never taken for its own:
//  - a StatefulSet scaled up inside the swap window creates the claim from its template, and the
//    PV controller binds it to the pre-bound target PV: the move stops naming that claim instead of
//    adopting it, and continues once it is gone;
//  - a finished pod that names the claim, run between the copy and the swap: the claims are not
//    freed under it (their protection stays); the move names the pod and goes on once it is gone;
//  - a journal edited to name another namespace's retained PV: cleanup and rollback refuse, and
//    that PV and its data are untouched (no confused deputy).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { newMigrationJournal, type Journal } from '../../src/core/journal.js';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
  type Cluster,
  journalOf,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { hostPathOf, manifestViaPod } from '../helpers/volumes.js';
import {
  createClaim,
  createSeedDatabase,
  runPod,
  shellPod,
  waitForClaimBound,
  waitForPodGone,
  waitForReadyReplicas,
} from '../helpers/workloads.js';
import { createApp, expectKilled, expectMoved, resultOf } from '../helpers/safety.js';

const CLAIM = 'postgres-db-0';

async function scaleDb(c: Cluster, ns: string, replicas: number): Promise<void> {
  await c.apps.patchNamespacedStatefulSetScale({
    name: 'db',
    namespace: ns,
    body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
  });
}

async function journalNamed(c: Cluster, ns: string, claim: string): Promise<Journal> {
  const j = await journalOf(c, ns, claim);
  if (!j) throw new Error(`no journal of claim ${claim} in ${ns}`);
  return j;
}

describe('objects pvmove did not make', function () {
  let c: Cluster;
  const namespaces: string[] = [];
  before(() => {
    c = connect();
  });
  afterEach(async () => {
    for (const ns of namespaces.splice(0)) {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
    }
  });

  it('a StatefulSet scaled up in the swap window: its claim is not adopted; the move continues once it is gone', async () => {
    const ns = await createNamespace(c, 'e2e-foreign');
    namespaces.push(ns);
    await createSeedDatabase(c, ns);
    const before = await manifestViaPod(c, ns, CLAIM);
    const move = [CLAIM, '--to-class', 'fast', '-n', ns, '-o', 'json'];
    expectKilled(await runCli(move, { env: { PVMOVE_TEST_KILL_AFTER: 'prebind-target-pv' } }));
    const targetPv = (await journalNamed(c, ns, CLAIM)).original.targetPv!.name;

    // Someone scales the database up: the StatefulSet creates the claim from its template (class
    // standard) and the PV controller binds it to the target PV, which is pre-bound to the name.
    await scaleDb(c, ns, 1);
    const foreign = await waitFor(`the StatefulSet's claim to bind ${targetPv}`, 120_000, async () => {
      const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
      return pvc.status?.phase === 'Bound' && pvc.spec?.volumeName === targetPv ? pvc : undefined;
    });
    expect(foreign.spec?.storageClassName).to.equal('standard');

    const r = await runCli(['resume', CLAIM, '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(1);
    const message = String(resultOf(r)?.message);
    expect(message).to.contain(`claim ${CLAIM} was created by someone else`);
    expect(message).to.contain(`kubectl delete pvc ${CLAIM} -n ${ns}`);
    expect(message.split('\n')).to.have.length(1);
    // Not adopted: the claim is still the StatefulSet's, unchanged, and both PVs are kept.
    const still = await c.core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
    expect(still.metadata?.uid).to.equal(foreign.metadata?.uid);
    expect(still.metadata?.annotations ?? {}).to.not.have.property('pvmove.kubectl.io/migration-id');
    const target = await c.core.readPersistentVolume({ name: targetPv });
    expect(target.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');

    // What the message says: (the resume scaled the StatefulSet down again) delete the claim, resume.
    await waitForReadyReplicas(c, ns, 'db', 0, 'statefulset');
    await c.core.deleteNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
    await waitFor(`claim ${CLAIM} to be deleted`, 120_000, async () => {
      const list = await c.core.listNamespacedPersistentVolumeClaim({ namespace: ns });
      return list.items.some((p) => p.metadata?.name === CLAIM) ? undefined : true;
    });
    const again = await runCli(['resume', CLAIM, '-n', ns, '-o', 'json']);
    expect(again.code, explain(again)).to.equal(0);
    const moved = await c.core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
    expect(moved.spec?.volumeName).to.equal(targetPv);
    expect(moved.spec?.storageClassName).to.equal('fast');
    expect(moved.metadata?.labels).to.include({ app: 'db', tier: 'data' });
    expect(moved.metadata?.annotations).to.include({ 'backup.example.com/schedule': 'nightly' });
    expect(await manifestViaPod(c, ns, CLAIM)).to.equal(before);
  });

  it('a finished pod that names the claim, run after the copy: the claims are not freed under it; the move names it and goes on once it is deleted', async () => {
    const ns = await createNamespace(c, 'e2e-foreign');
    namespaces.push(ns);
    const app = await createApp(c, ns);
    const before = await manifestViaPod(c, ns, 'data');
    const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json'];
    expectKilled(await runCli(move, { env: { PVMOVE_TEST_KILL_AFTER: 'copy' } }));

    // Someone runs a one-off pod against the claim (a report) that finishes: Kubernetes keeps a
    // claim while a scheduled pod names it, finished or not, and so must the swap, which otherwise
    // removes the protection of the claims it deleted.
    await runPod(c, ns, shellPod('report', 'data', 'ls /data > /dev/null'));
    const r = await runCli(['resume', 'data', '-n', ns, '-o', 'json', '--timeout-delete', '15s']);
    expect(r.code, explain(r)).to.not.equal(0);
    const message = String(resultOf(r)?.message);
    expect(message).to.contain(`report (Succeeded: delete it with \`kubectl delete pod report -n ${ns}\`)`);
    const held = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    expect(held.metadata?.deletionTimestamp, 'the claim is deleted but held').to.not.equal(undefined);
    expect(held.metadata?.finalizers).to.include('kubernetes.io/pvc-protection');

    // What the message says: delete the pod, resume.
    await c.core.deleteNamespacedPod({ name: 'report', namespace: ns });
    await waitForPodGone(c, ns, 'report');
    const again = await runCli(['resume', 'data', '-n', ns, '-o', 'json']);
    expect(again.code, explain(again)).to.equal(0);
    await expectMoved(c, ns, app, 'standard');
    expect(await manifestViaPod(c, ns, 'data')).to.equal(before);
  });

  it("a journal edited to name another namespace's retained PV: cleanup and rollback refuse and touch nothing", async () => {
    // The victim: a finished move, its old PV Released and Retain until its owner cleans up.
    const victim = await createNamespace(c, 'e2e-victim');
    namespaces.push(victim);
    await createClaim(c, victim, 'data', { storageClassName: 'fast' });
    await runPod(c, victim, shellPod('seed', 'data', 'echo precious > /data/precious.txt'));
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: victim, gracePeriodSeconds: 0 });
    await waitForClaimBound(c, victim, 'data');
    const done = await runCli(['data', '--to-class', 'standard', '-n', victim, '-o', 'json']);
    expect(done.code, explain(done)).to.equal(0);
    const real = await journalNamed(c, victim, 'data');
    const victimPv = real.original.sourcePv.name;
    const dir = await hostPathOf(c, victimPv);
    const pvBefore = await c.core.readPersistentVolume({ name: victimPv });

    // The attacker may only edit ConfigMaps in their own namespace: a claim of the same name there,
    // and a journal copied from the victim's that names the victim's PV as its "source".
    const attacker = await createNamespace(c, 'e2e-attacker');
    namespaces.push(attacker);
    await createClaim(c, attacker, 'data', { storageClassName: 'fast' });
    const own = await waitForClaimBound(c, attacker, 'data');
    const forged = newMigrationJournal({
      ...real,
      claim: { namespace: attacker, name: 'data' },
      original: { ...real.original, targetPv: { name: own.spec!.volumeName!, reclaimPolicy: 'Delete' } },
    });
    await c.core.createNamespacedConfigMap({
      namespace: attacker,
      body: { metadata: { name: 'pvmove-data' }, data: { 'journal.json': JSON.stringify(forged) } },
    });

    const cleanup = await runCli(['cleanup', 'data', '-n', attacker, '-o', 'json', '--yes']);
    expect(cleanup.code, explain(cleanup)).to.equal(2);
    expect(String(resultOf(cleanup)?.message)).to.contain(`belongs to ${victim}/data`);
    const rollback = await runCli(['rollback', 'data', '-n', attacker, '-o', 'json', '--yes']);
    expect(rollback.code, explain(rollback)).to.equal(2);
    expect(String(resultOf(rollback)?.message)).to.contain(`belongs to ${victim}/data`);

    const pvAfter = await c.core.readPersistentVolume({ name: victimPv });
    expect(pvAfter.metadata?.resourceVersion).to.equal(pvBefore.metadata?.resourceVersion);
    expect(pvAfter.spec?.claimRef?.namespace).to.equal(victim);
    expect(pvAfter.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(readFileSync(path.join(dir, 'precious.txt'), 'utf8')).to.equal('precious\n');
  });
});

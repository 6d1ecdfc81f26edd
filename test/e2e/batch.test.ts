// Several claims in one migration: a whole StatefulSet (one downtime, its claim templates rewritten
// so the next replica gets the new class), claims picked by label across a Deployment and a
// StatefulSet, every claim of a class, and a batch killed half-way then resumed, or rolled back
// (every claim back on its own PV, the StatefulSet's original templates back).
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
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
import { expectKilled, resultOf } from '../helpers/safety.js';
import { manifestViaPod } from '../helpers/volumes.js';
import {
  createClaim,
  createDeployment,
  runPod,
  shellPod,
  TEST_IMAGE,
  waitForClaimBound,
  waitForReadyReplicas,
} from '../helpers/workloads.js';

/** A StatefulSet whose pods each write a file of their own once, then sleep. */
function statefulSet(name: string, replicas: number, labels: Record<string, string> = {}): k8s.V1StatefulSet {
  return {
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'app',
              image: TEST_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: [
                'bash',
                '-c',
                '[ -f /data/id ] || { hostname > /data/id; head -c 300000 /dev/urandom > /data/blob; mkdir -p /data/d; chmod 0700 /data/d; }; exec sleep infinity',
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: 'standard',
            resources: { requests: { storage: '64Mi' } },
          },
        },
      ],
    },
  };
}

async function claimOf(c: Cluster, ns: string, name: string): Promise<k8s.V1PersistentVolumeClaim> {
  return c.core.readNamespacedPersistentVolumeClaim({ name, namespace: ns });
}

async function manifests(c: Cluster, ns: string, claims: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const claim of claims) out[claim] = await manifestViaPod(c, ns, claim);
  return out;
}

/** The step events of one step, by claim and status. */
function stepStatuses(r: CliResult, step: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of r.events) {
    if (e.type !== 'step' || e.step !== step || e.status === 'started') continue;
    (out[String(e.status)] ??= []).push(String(e.claim));
  }
  return out;
}

async function templateOf(c: Cluster, ns: string, sts: string): Promise<{ cls?: string; size?: string }> {
  const s = await c.apps.readNamespacedStatefulSet({ name: sts, namespace: ns });
  const t = s.spec?.volumeClaimTemplates?.[0];
  return { cls: t?.spec?.storageClassName, size: t?.spec?.resources?.requests?.storage };
}

describe('batches: several claims in one migration', function () {
  let c: Cluster;
  const namespaces: string[] = [];
  before(() => {
    c = connect();
  });
  after(async () => {
    for (const ns of namespaces) {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
    }
  });

  it('moves a 3-replica StatefulSet in one downtime and rewrites its claim template without restarting its pods', async () => {
    const ns = await createNamespace(c, 'e2e-batch-sts');
    namespaces.push(ns);
    await c.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet('db', 3) });
    await waitForReadyReplicas(c, ns, 'db', 3, 'statefulset');
    const claims = ['data-db-0', 'data-db-1', 'data-db-2'];
    const before = await manifests(c, ns, claims);
    const sources = await Promise.all(claims.map(async (x) => (await claimOf(c, ns, x)).spec?.volumeName));

    const r = await runCli([
      'statefulset/db',
      '--to-class',
      'fast',
      '--size',
      '128Mi',
      '-n',
      ns,
      '-o',
      'json',
      '--yes',
    ]);
    expect(r.code, explain(r)).to.equal(0);
    // One downtime: the StatefulSet was stopped by the first claim's scale-down and started once.
    for (const step of ['scale-down', 'scale-up']) {
      const s = stepStatuses(r, step);
      expect(s.done, `${step} ${explain(r)}`).to.have.length(1);
      expect(s.skipped ?? []).to.have.length(2);
    }
    // Every claim moved, its data as it was.
    for (const [i, claim] of claims.entries()) {
      const pvc = await claimOf(c, ns, claim);
      expect(pvc.spec?.storageClassName, claim).to.equal('fast');
      expect(pvc.spec?.resources?.requests?.storage).to.equal('128Mi');
      expect(pvc.spec?.volumeName).to.not.equal(sources[i]);
    }
    expect(await manifests(c, ns, claims)).to.deep.equal(before);
    expect(await templateOf(c, ns, 'db')).to.deep.equal({ cls: 'fast', size: '128Mi' });

    // The re-created StatefulSet adopted the pods: same revision, nothing rolled, nothing restarted.
    await waitForReadyReplicas(c, ns, 'db', 3, 'statefulset');
    const pods = async () =>
      (await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=db' })).items.map((p) => ({
        uid: p.metadata?.uid,
        revision: p.metadata?.labels?.['controller-revision-hash'],
        restarts: p.status?.containerStatuses?.[0]?.restartCount,
      }));
    const first = await pods();
    await sleep(10_000);
    expect(await pods()).to.deep.equal(first);
    const sts = await c.apps.readNamespacedStatefulSet({ name: 'db', namespace: ns });
    expect(sts.status?.currentRevision).to.equal(sts.status?.updateRevision);
    expect(first.every((p) => p.revision === sts.status?.updateRevision && p.restarts === 0)).to.equal(true);

    // The next replica gets a claim of the new class from the rewritten template.
    await c.apps.patchNamespacedStatefulSetScale({
      name: 'db',
      namespace: ns,
      body: [{ op: 'replace', path: '/spec/replicas', value: 4 }],
    });
    const fourth = await waitForClaimBound(c, ns, 'data-db-3');
    expect(fourth.spec?.storageClassName).to.equal('fast');
    expect(fourth.spec?.resources?.requests?.storage).to.equal('128Mi');
    expect((await journalOf(c, ns, 'data-db-1'))?.phase).to.equal('finished');

    // Cleanup one claim at a time: the batch's journal keeps the others, and goes with the last.
    const journals = async () =>
      (
        await c.core.listNamespacedConfigMap({
          namespace: ns,
          labelSelector: 'pvmove.kubectl.io/role=journal',
        })
      ).items;
    for (const [i, claim] of claims.entries()) {
      const cl = await runCli(['cleanup', claim, '-n', ns, '-o', 'json', '--yes']);
      expect(cl.code, explain(cl)).to.equal(0);
      expect(await journalOf(c, ns, claim)).to.equal(undefined);
      expect(await journals()).to.have.length(i === claims.length - 1 ? 0 : 1);
    }
  });

  it('moves claims picked by label across a Deployment and a StatefulSet, each owner stopped once', async () => {
    const ns = await createNamespace(c, 'e2e-batch-label');
    namespaces.push(ns);
    await createClaim(c, ns, 'uploads', {
      storageClassName: 'standard',
      size: '64Mi',
      labels: { group: 'shop' },
    });
    await runPod(
      c,
      ns,
      shellPod('seed', 'uploads', 'mkdir -p /data/u && echo one > /data/u/1 && chown 33:33 /data/u/1'),
    );
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    await createDeployment(c, ns, 'web', 'uploads');
    await c.apps.createNamespacedStatefulSet({
      namespace: ns,
      body: statefulSet('cache', 1, { group: 'shop' }),
    });
    await createClaim(c, ns, 'other', { storageClassName: 'standard', size: '64Mi' });
    await waitForReadyReplicas(c, ns, 'web', 1);
    await waitForReadyReplicas(c, ns, 'cache', 1, 'statefulset');
    const claims = ['data-cache-0', 'uploads'];
    const before = await manifests(c, ns, claims);

    const r = await runCli(['-l', 'group=shop', '--to-class', 'fast', '-n', ns, '-o', 'json', '--yes']);
    expect(r.code, explain(r)).to.equal(0);
    for (const claim of claims)
      expect((await claimOf(c, ns, claim)).spec?.storageClassName, claim).to.equal('fast');
    expect((await claimOf(c, ns, 'other')).spec?.storageClassName).to.equal('standard');
    expect(await manifests(c, ns, claims)).to.deep.equal(before);
    expect(stepStatuses(r, 'scale-down').done?.sort()).to.deep.equal(claims);
    await waitForReadyReplicas(c, ns, 'web', 1);
    await waitForReadyReplicas(c, ns, 'cache', 1, 'statefulset');
    // Not a whole-StatefulSet selection: its template is left as it was (and the plan said so).
    expect(await templateOf(c, ns, 'cache')).to.deep.equal({ cls: 'standard', size: '64Mi' });
  });

  it('moves every claim of a class with --from-class, and only those', async () => {
    const ns = await createNamespace(c, 'e2e-batch-class');
    namespaces.push(ns);
    for (const [name, cls] of [
      ['a', 'standard'],
      ['b', 'standard'],
      ['f', 'fast'],
    ] as const) {
      await createClaim(c, ns, name, { storageClassName: cls, size: '64Mi' });
      await runPod(c, ns, shellPod(`seed-${name}`, name, `echo ${name} > /data/${name}.txt`));
      await c.core.deleteNamespacedPod({ name: `seed-${name}`, namespace: ns, gracePeriodSeconds: 0 });
    }
    const fBefore = (await claimOf(c, ns, 'f')).spec?.volumeName;
    const before = await manifests(c, ns, ['a', 'b']);
    const r = await runCli([
      '--from-class',
      'standard',
      '--to-class',
      'fast',
      '-n',
      ns,
      '-o',
      'json',
      '--yes',
    ]);
    expect(r.code, explain(r)).to.equal(0);
    for (const claim of ['a', 'b'])
      expect((await claimOf(c, ns, claim)).spec?.storageClassName).to.equal('fast');
    expect(await manifests(c, ns, ['a', 'b'])).to.deep.equal(before);
    expect((await claimOf(c, ns, 'f')).spec?.volumeName, 'not selected, not touched').to.equal(fBefore);
  });

  it('a batch killed half-way is resumed to the end; another, killed after its template rewrite, is rolled back whole', async () => {
    const run = async (prefix: string) => {
      const ns = await createNamespace(c, prefix);
      namespaces.push(ns);
      await c.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet('db', 2) });
      await waitForReadyReplicas(c, ns, 'db', 2, 'statefulset');
      const claims = ['data-db-0', 'data-db-1'];
      const sources = await Promise.all(claims.map(async (x) => (await claimOf(c, ns, x)).spec?.volumeName));
      return { ns, claims, sources, before: await manifests(c, ns, claims) };
    };
    const move = (ns: string) => ['statefulset/db', '--to-class', 'fast', '-n', ns, '-o', 'json', '--yes'];

    // Killed right after the first claim's copy: the second has not copied yet.
    const a = await run('e2e-batch-resume');
    expectKilled(await runCli(move(a.ns), { env: { PVMOVE_TEST_KILL_AFTER: 'copy' } }));
    const half = await Promise.all(a.claims.map((x) => journalOf(c, a.ns, x)));
    expect(half.map((j) => j?.migrationId)).to.satisfy((ids: string[]) => ids[0] && ids[0] === ids[1]);
    expect(half.filter((j) => j?.steps.copy?.status === 'done')).to.have.length(1);
    // A second terminal (or a retried CI job) moves one claim of the half-done batch alone: its
    // owner would start before the other claim is moved, so it is refused and nothing changes.
    const alone = await runCli(['data-db-1', '--to-class', 'fast', '-n', a.ns, '-o', 'json', '--yes']);
    expect(alone.code, explain(alone)).to.equal(2);
    expect(alone.stderr).to.contain('resume them together with `');
    expect((await journalOf(c, a.ns, 'data-db-1'))?.steps).to.deep.equal(half[1]?.steps);
    const resumed = await runCli(move(a.ns));
    expect(resumed.code, explain(resumed)).to.equal(0);
    for (const claim of a.claims)
      expect((await claimOf(c, a.ns, claim)).spec?.storageClassName).to.equal('fast');
    expect(await manifests(c, a.ns, a.claims)).to.deep.equal(a.before);
    await waitForReadyReplicas(c, a.ns, 'db', 2, 'statefulset');

    // Killed after the template rewrite: a rollback of any one claim returns both, and the template.
    const b = await run('e2e-batch-rollback');
    expectKilled(await runCli(move(b.ns), { env: { PVMOVE_TEST_KILL_AFTER: 'rewrite-template' } }));
    expect((await templateOf(c, b.ns, 'db')).cls).to.equal('fast');
    const rb = await runCli(['rollback', 'data-db-1', '-n', b.ns, '-o', 'json', '--yes']);
    expect(rb.code, explain(rb)).to.equal(0);
    expect(String(resultOf(rb)?.message)).to.contain('data-db-0');
    for (const [i, claim] of b.claims.entries()) {
      const pvc = await claimOf(c, b.ns, claim);
      expect(pvc.spec?.volumeName, claim).to.equal(b.sources[i]);
      expect(pvc.spec?.storageClassName).to.equal('standard');
    }
    expect(await templateOf(c, b.ns, 'db')).to.deep.equal({ cls: 'standard', size: '64Mi' });
    await waitForReadyReplicas(c, b.ns, 'db', 2, 'statefulset');
    expect(await manifests(c, b.ns, b.claims)).to.deep.equal(b.before);
    await waitFor('the journal to say rolled back', 30_000, async () =>
      (await journalOf(c, b.ns, 'data-db-0'))?.phase === 'rolled-back' ? true : undefined,
    );
  });
});

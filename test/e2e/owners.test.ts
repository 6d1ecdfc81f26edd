// Owners that need more than "scale to 0 and back": a StatefulSet whose claim retention policy
// deletes claims on scale-down (and ties them to the StatefulSet), and a Job plus a CronJob that are
// suspended instead of scaled. Each is moved through the CLI and checked as a user would: the
// owner's own settings, the claim's metadata and ownership, the workload running again, the data.
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { APP_ANNOTATIONS, APP_LABELS, resultOf, startCli } from '../helpers/safety.js';
import { manifestViaPod } from '../helpers/volumes.js';
import {
  createClaim,
  createSeedDatabase,
  runPod,
  shellPod,
  sleeperPodSpec,
  waitForClaimBound,
  waitForReadyReplicas,
} from '../helpers/workloads.js';

const CLAIM = 'postgres-db-0';
const DELETE_BOTH = { whenScaled: 'Delete', whenDeleted: 'Delete' };

describe('owners: claim retention policy, Jobs and CronJobs', function () {
  let c: Cluster;
  let ns: string;

  before(() => {
    c = connect();
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-owners');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  /** The StatefulSet db with Delete/Delete, its claim's volume, data and the StatefulSet's uid. */
  async function seedDeletingDatabase(): Promise<{ pv: string; data: string; setUid: string }> {
    await createSeedDatabase(c, ns, { claimRetention: DELETE_BOTH });
    const set = await c.apps.readNamespacedStatefulSet({ name: 'db', namespace: ns });
    const claim = await c.core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
    const setUid = set.metadata!.uid!;
    // whenDeleted: Delete makes the controller tie the claim to the StatefulSet.
    expect(ownedBySet(claim, setUid), 'the controller set the ownerReference').to.equal(true);
    return { pv: claim.spec!.volumeName!, data: await manifestViaPod(c, ns, CLAIM), setUid };
  }

  async function expectPolicyAndReady(): Promise<void> {
    const set = await c.apps.readNamespacedStatefulSet({ name: 'db', namespace: ns });
    expect(set.spec?.persistentVolumeClaimRetentionPolicy).to.deep.equal(DELETE_BOTH);
    await waitForReadyReplicas(c, ns, 'db', 1, 'statefulset');
  }

  it('moves a StatefulSet claim with retention policy Delete/Delete and rolls the finished move back, never losing the claim', async () => {
    const db = await seedDeletingDatabase();

    const r = await runCli([CLAIM, '--to-class', 'fast', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);

    const after = await c.core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
    expect(after.status?.phase).to.equal('Bound');
    expect(after.spec?.storageClassName).to.equal('fast');
    const newPv = after.spec!.volumeName!;
    expect(newPv).to.not.equal(db.pv);
    expect(after.metadata?.labels).to.include({ app: 'db', tier: 'data' });
    expect(after.metadata?.annotations).to.include({ 'backup.example.com/schedule': 'nightly' });
    expect(ownedBySet(after, db.setUid), 'the re-created claim is still owned by the StatefulSet').to.equal(
      true,
    );
    await expectPolicyAndReady();
    const old = await c.core.readPersistentVolume({ name: db.pv });
    expect(old.status?.phase).to.equal('Released');
    expect(old.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(await manifestViaPod(c, ns, CLAIM)).to.equal(db.data);

    // The rollback stops the StatefulSet again, with its policy back at Delete: the claim on the new
    // PV must survive that too, and the new PV (the application ran on it) is kept.
    const rb = await runCli(['rollback', CLAIM, '-n', ns, '-o', 'json', '--yes']);
    expect(rb.code, explain(rb)).to.equal(0);
    expect(resultOf(rb)?.status).to.equal('rolled-back');
    const back = await c.core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: ns });
    expect(back.status?.phase).to.equal('Bound');
    expect(back.spec?.volumeName).to.equal(db.pv);
    expect(back.spec?.storageClassName).to.equal('standard');
    expect(ownedBySet(back, db.setUid)).to.equal(true);
    await expectPolicyAndReady();
    const kept = await c.core.readPersistentVolume({ name: newPv });
    expect(kept.status?.phase).to.equal('Released');
    expect(kept.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(await manifestViaPod(c, ns, CLAIM)).to.equal(db.data);
  });

  it('suspends a running Job and a CronJob that mount the claim during the copy, and resumes both', async () => {
    await createClaim(c, ns, 'data', {
      storageClassName: 'standard',
      labels: APP_LABELS,
      annotations: APP_ANNOTATIONS,
    });
    await runPod(
      c,
      ns,
      shellPod('seed', 'data', 'mkdir -p /data/a; echo hi > /data/a/b; chown -R 33:33 /data/a'),
    );
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    const oldPv = (await waitForClaimBound(c, ns, 'data')).spec!.volumeName!;
    const data = await manifestViaPod(c, ns, 'data');
    const template = { spec: { ...sleeperPodSpec('data'), restartPolicy: 'Never' } };
    await c.batch.createNamespacedJob({
      namespace: ns,
      body: { metadata: { name: 'worker' }, spec: { parallelism: 1, backoffLimit: 0, template } },
    });
    await c.batch.createNamespacedCronJob({
      namespace: ns,
      // Never fires during the test: only its template mounts the claim.
      body: {
        metadata: { name: 'report' },
        spec: { schedule: '0 0 1 1 *', jobTemplate: { spec: { template } } },
      },
    });
    const firstPod = await runningJobPod();

    let duringCopy: Promise<{ job?: boolean; cronJob?: boolean; active: string[] }> | undefined;
    const run = startCli(['data', '--to-class', 'fast', '-n', ns, '-o', 'json'], (e) => {
      if (e.type === 'step' && e.step === 'copy' && e.status === 'started' && !duringCopy) {
        duringCopy = (async () => {
          const [job, cronJob, active] = await Promise.all([
            c.batch.readNamespacedJob({ name: 'worker', namespace: ns }),
            c.batch.readNamespacedCronJob({ name: 'report', namespace: ns }),
            activeJobPods(),
          ]);
          return { job: job.spec?.suspend, cronJob: cronJob.spec?.suspend, active: active.map(nameOf) };
        })();
      }
    });
    const r = await run.done;
    expect(r.code, explain(r)).to.equal(0);
    expect(duringCopy, 'the copy step started').to.not.equal(undefined);
    expect(await duringCopy).to.deep.equal({ job: true, cronJob: true, active: [] });

    const job = await c.batch.readNamespacedJob({ name: 'worker', namespace: ns });
    const cronJob = await c.batch.readNamespacedCronJob({ name: 'report', namespace: ns });
    expect(job.spec?.suspend).to.equal(false);
    expect(cronJob.spec?.suspend).to.equal(false);
    const again = await runningJobPod();
    expect(nameOf(again), 'a new pod of the Job runs').to.not.equal(nameOf(firstPod));
    const claim = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    expect(claim.spec?.storageClassName).to.equal('fast');
    expect(claim.spec?.volumeName).to.not.equal(oldPv);
    expect(claim.metadata?.labels).to.deep.equal(APP_LABELS);
    expect(await manifestViaPod(c, ns, 'data')).to.equal(data);
  });

  async function activeJobPods(): Promise<k8s.V1Pod[]> {
    const pods = await c.core.listNamespacedPod({
      namespace: ns,
      labelSelector: 'batch.kubernetes.io/job-name=worker',
    });
    return pods.items.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  }

  /** The Job's one pod, Running and ready, mounting the claim. */
  async function runningJobPod(): Promise<k8s.V1Pod> {
    return waitFor('a ready pod of Job worker', 180_000, async () => {
      const pods = (await activeJobPods()).filter(
        (p) =>
          p.metadata?.deletionTimestamp === undefined &&
          p.status?.phase === 'Running' &&
          p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') &&
          p.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === 'data'),
      );
      return pods.length === 1 ? pods[0] : undefined;
    });
  }
});

function ownedBySet(claim: k8s.V1PersistentVolumeClaim, uid: string): boolean {
  return (claim.metadata?.ownerReferences ?? []).some(
    (o) => o.kind === 'StatefulSet' && o.name === 'db' && o.uid === uid,
  );
}

function nameOf(pod: k8s.V1Pod): string {
  return pod.metadata?.name ?? '';
}

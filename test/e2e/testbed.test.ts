// The test bed is a real cluster: binding, the pvc-protection finalizer, scaling and pods that
// really write bytes. These tests prove it before any migration test relies on it.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  isNotFound,
  waitFor,
} from '../helpers/cluster.js';
import {
  createClaim,
  runPod,
  shellPod,
  TEST_IMAGE,
  waitForClaimBound,
  waitForPodGone,
} from '../helpers/workloads.js';

describe('test bed cluster', function () {
  let c: Cluster;
  let ns: string;

  before(async () => {
    c = connect();
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-testbed');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
  });

  it('has a Ready node and the two StorageClasses', async () => {
    const nodes = await c.core.listNode();
    expect(nodes.items).to.have.length(1);
    const ready = nodes.items[0]!.status?.conditions?.find((cond) => cond.type === 'Ready');
    expect(ready?.status).to.equal('True');
    const standard = await c.storage.readStorageClass({ name: 'standard' });
    expect(standard.volumeBindingMode).to.equal('WaitForFirstConsumer');
    expect(standard.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class']).to.equal('true');
    const fast = await c.storage.readStorageClass({ name: 'fast' });
    expect(fast.volumeBindingMode).to.equal('Immediate');
    for (const sc of [standard, fast]) {
      expect(sc.reclaimPolicy).to.equal('Delete');
      expect(sc.allowVolumeExpansion).to.equal(false);
    }
  });

  for (const storageClassName of ['standard', 'fast']) {
    it(`binds a claim of class ${storageClassName} and keeps bytes written by one pod for the next`, async () => {
      await createClaim(c, ns, 'data', { storageClassName, size: '1Gi' });
      if (storageClassName === 'fast') {
        // Immediate binding: bound before any pod exists.
        await waitForClaimBound(c, ns, 'data');
      } else {
        // WaitForFirstConsumer: still Pending without a consumer.
        const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
        expect(pvc.status?.phase).to.equal('Pending');
      }
      // One exec argument may hold at most 128 KiB.
      const payload = randomBytes(64 * 1024).toString('base64');
      const digest = createHash('sha256').update(payload).digest('hex');
      await runPod(c, ns, shellPod('writer', 'data', `printf '%s' '${payload}' > /data/payload; sync`));
      const bound = await waitForClaimBound(c, ns, 'data');
      const pv = await c.core.readPersistentVolume({ name: bound.spec!.volumeName! });
      expect(pv.spec?.storageClassName).to.equal(storageClassName);
      expect(pv.spec?.claimRef?.name).to.equal('data');
      const out = await runPod(c, ns, shellPod('reader', 'data', 'sha256sum /data/payload'));
      expect(out.trim().split(/\s+/)[0]).to.equal(digest);
    });
  }

  it('scales a Deployment 1 -> 0 -> 1', async () => {
    const labels = { app: 'web' };
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'sleep', image: TEST_IMAGE, command: ['sleep', 'infinity'] }],
            },
          },
        },
      },
    });
    const readyReplicas = async () =>
      (await c.apps.readNamespacedDeployment({ name: 'web', namespace: ns })).status?.readyReplicas ?? 0;
    await waitFor('deployment web ready', 120_000, async () =>
      (await readyReplicas()) === 1 ? true : undefined,
    );
    await c.apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: ns, body: { spec: { replicas: 0 } } },
      mergePatch(),
    );
    await waitFor('pods of web gone', 120_000, async () => {
      const pods = await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      return pods.items.length === 0 ? true : undefined;
    });
    await c.apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: ns, body: { spec: { replicas: 1 } } },
      mergePatch(),
    );
    await waitFor('deployment web ready again', 120_000, async () =>
      (await readyReplicas()) === 1 ? true : undefined,
    );
  });

  it('keeps a claim in use Terminating until its pod is gone (pvc-protection)', async () => {
    await createClaim(c, ns, 'held', { storageClassName: 'fast' });
    await waitForClaimBound(c, ns, 'held');
    const holder = shellPod('holder', 'held', 'sleep infinity');
    holder.spec!.terminationGracePeriodSeconds = 0;
    await c.core.createNamespacedPod({ namespace: ns, body: holder });
    await waitFor('holder running', 120_000, async () => {
      const p = await c.core.readNamespacedPod({ name: 'holder', namespace: ns });
      return p.status?.phase === 'Running' ? true : undefined;
    });
    await c.core.deleteNamespacedPersistentVolumeClaim({ name: 'held', namespace: ns });
    // Several resyncs of the controller later, the claim is still there, marked for deletion.
    await new Promise((r) => setTimeout(r, 8000));
    const terminating = await c.core.readNamespacedPersistentVolumeClaim({ name: 'held', namespace: ns });
    expect(terminating.metadata?.deletionTimestamp).to.not.equal(undefined);
    expect(terminating.metadata?.finalizers).to.include('kubernetes.io/pvc-protection');
    await c.core.deleteNamespacedPod({ name: 'holder', namespace: ns, gracePeriodSeconds: 0 });
    await waitForPodGone(c, ns, 'holder');
    await waitFor('claim held deleted', 120_000, async () => {
      try {
        await c.core.readNamespacedPersistentVolumeClaim({ name: 'held', namespace: ns });
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    });
  });
});

function mergePatch() {
  // client-node sends JSON patches unless told otherwise; scale bodies are merge patches.
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}

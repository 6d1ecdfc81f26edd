// A target class whose volume lands where the copy pod cannot run: an Immediate class binds the
// temporary claim at once to a PV pinned (required node affinity) to a node that does not exist, so
// no node can mount both volumes. The copy step stops at once with the PV and its affinity named
// (not after --timeout-start), before the source claim is deleted; rollback restores the original.
import { expect } from 'chai';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  isNotFound,
  type Cluster,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { createApp, expectOriginal, resultOf } from '../helpers/safety.js';

const NO_NODE = 'pvmove-e2e-no-such-node';

describe('a target volume that no node can mount together with the source', function () {
  let c: Cluster;
  let ns: string;
  before(async () => {
    c = connect();
    ns = await createNamespace(c, 'e2e-place');
  });
  after(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('stops at the copy step before the claim is deleted, names the PV; rollback restores', async () => {
    const sc = `pvmove-e2e-pinned-${ns.slice(-6)}`;
    const pv = `${sc}-pv`;
    await c.storage.createStorageClass({
      body: {
        metadata: { name: sc },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'Immediate',
        reclaimPolicy: 'Retain',
      },
    });
    try {
      await c.core.createPersistentVolume({
        body: {
          metadata: { name: pv },
          spec: {
            storageClassName: sc,
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            hostPath: { path: `/tmp/hostpath_pv/${pv}`, type: 'DirectoryOrCreate' },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NO_NODE] }],
                  },
                ],
              },
            },
          },
        },
      });
      const app = await createApp(c, ns);

      const r = await runCli(['data', '--to-class', sc, '-n', ns, '-o', 'json', '--timeout-start', '5m']);
      expect(r.code, explain(r)).to.equal(1);
      const failed = r.events.find((e) => e.type === 'step' && e.step === 'copy' && e.status === 'failed');
      expect(failed, explain(r)).to.not.equal(undefined);
      expect(Number(failed!.durationMs), 'stopped at once, not at the start timeout').to.be.below(45_000);
      const message = String(resultOf(r)?.message);
      expect(message, explain(r)).to.contain('Step copy failed');
      expect(message).to.contain(`target PV ${pv}`);
      expect(message).to.contain(NO_NODE);
      expect(message).to.contain('no node can mount both');
      expect(message).to.contain('WaitForFirstConsumer');
      expect(message).to.contain(`kubectl pvmove rollback data -n ${ns}`);

      // Nothing destroyed: the original claim on its PV, which is Retain.
      const claim = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
      expect(claim.status?.phase).to.equal('Bound');
      expect(claim.spec?.volumeName).to.equal(app.pv);
      const source = await c.core.readPersistentVolume({ name: app.pv });
      expect(source.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');

      const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json']);
      expect(rb.code, explain(rb)).to.equal(0);
      // The pinned PV was Retain from the start: it stays, Released, and no claim can take it.
      await expectOriginal(c, ns, app, { targetPv: pv, keepTarget: true });
    } finally {
      await c.core.deletePersistentVolume({ name: pv }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      await c.storage.deleteStorageClass({ name: sc });
    }
  });
});

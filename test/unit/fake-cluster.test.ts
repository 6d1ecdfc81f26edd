// The fake's PV controller must bind like the real one where the orchestration depends on it.
import { expect } from 'chai';
import { FakeCluster } from './fake-cluster.js';

describe('fake cluster: PV controller', () => {
  it('binds a claim to a PV pre-bound to its name, whatever the PV class, and sets the uid', async () => {
    const c = new FakeCluster();
    c.pvs.set('pv-kept', {
      metadata: { name: 'pv-kept' },
      spec: {
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'gone-class', // no such StorageClass: the class is not looked at
        capacity: { storage: '2Gi' },
        claimRef: { namespace: 'shop', name: 'data' },
      },
      status: { phase: 'Available' },
    });
    // No volumeName, another class (WaitForFirstConsumer, no pod): only the pre-binding can bind it.
    const created = await c.createPvc({
      metadata: { name: 'data', namespace: 'shop' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'standard',
        resources: { requests: { storage: '1Gi' } },
      },
    });
    c.tick();
    const claim = await c.getPvc('shop', 'data');
    expect(claim?.status?.phase).to.equal('Bound');
    expect(claim?.spec?.volumeName).to.equal('pv-kept');
    const pv = await c.getPv('pv-kept');
    expect(pv?.status?.phase).to.equal('Bound');
    expect(pv?.spec?.claimRef).to.deep.equal({ namespace: 'shop', name: 'data', uid: created.metadata.uid });
    expect([...c.pvs.keys()]).to.deep.equal(['pv-kept']); // nothing provisioned
  });

  it('does not take a PV pre-bound to another claim, or one bound to an earlier claim of that name', async () => {
    const c = new FakeCluster();
    c.pvs.set('pv-other', {
      metadata: { name: 'pv-other' },
      spec: { capacity: { storage: '2Gi' }, claimRef: { namespace: 'shop', name: 'logs' } },
      status: { phase: 'Available' },
    });
    c.pvs.set('pv-old', {
      metadata: { name: 'pv-old' },
      spec: {
        persistentVolumeReclaimPolicy: 'Retain',
        capacity: { storage: '2Gi' },
        claimRef: { namespace: 'shop', name: 'data', uid: 'uid-of-a-deleted-claim' },
      },
      status: { phase: 'Released' },
    });
    await c.createPvc({
      metadata: { name: 'data', namespace: 'shop' },
      spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } },
    });
    c.tick();
    const claim = await c.getPvc('shop', 'data');
    expect(claim?.spec?.volumeName).to.match(/^pv-new-/); // provisioned by class fast (Immediate)
  });
});

import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import {
  buildRecreatedClaim,
  buildTargetClaim,
  filterAnnotations,
  prebindPatch,
  reclaimPolicyPatch,
} from '../../src/core/manifests.js';
import { namesFor } from '../../src/core/names.js';
import { planMigration } from '../../src/core/plan.js';
import { observed, pvc, request } from './fixtures.js';

describe('manifests', () => {
  it('builds the temporary target claim with the source access modes and volume mode', () => {
    const t = buildTargetClaim({
      original: pvc({ spec: { accessModes: ['ReadWriteOncePod'] } }),
      name: 'data-pvmove-m1',
      migrationId: 'm1',
      storageClass: 'fast',
      size: '2Gi',
    });
    expect(t.metadata.name).to.equal('data-pvmove-m1');
    expect(t.metadata.namespace).to.equal('shop');
    expect(t.metadata.labels).to.include({
      'pvmove.kubectl.io/migration-id': 'm1',
      'pvmove.kubectl.io/claim': 'data',
      'app.kubernetes.io/managed-by': 'kubectl-pvmove',
    });
    expect(t.spec).to.deep.equal({
      accessModes: ['ReadWriteOncePod'],
      volumeMode: 'Filesystem',
      storageClassName: 'fast',
      resources: { requests: { storage: '2Gi' } },
    });
  });

  it('drops binding and provisioner annotations but keeps the user ones and last-applied', () => {
    const kept = filterAnnotations(pvc().metadata.annotations);
    expect(Object.keys(kept).sort()).to.deep.equal([
      'kubectl.kubernetes.io/last-applied-configuration',
      'team.example.com/owner',
    ]);
    expect(filterAnnotations({ 'volume.beta.kubernetes.io/storage-class': 'old' })).to.deep.equal({});
  });

  it('re-creates the claim with original metadata, new class and size, bound by volumeName', () => {
    const original = pvc({
      spec: {
        selector: { matchLabels: { disk: 'a' } },
        dataSource: { kind: 'VolumeSnapshot', name: 'snap' },
        dataSourceRef: { kind: 'VolumeSnapshot', name: 'snap' },
        resources: { requests: { storage: '1Gi' }, limits: { storage: '3Gi' } },
      },
    });
    const c = buildRecreatedClaim({
      original,
      migrationId: 'm1',
      storageClass: 'fast',
      size: '2Gi',
      targetPv: 'pv-target',
    });
    expect(c.metadata.name).to.equal('data');
    expect(c.metadata.labels).to.deep.equal({ app: 'web' });
    expect(c.metadata.annotations).to.deep.equal({
      'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"PersistentVolumeClaim"}',
      'team.example.com/owner': 'shop',
      'pvmove.kubectl.io/migration-id': 'm1',
    });
    expect(c.metadata.ownerReferences).to.deep.equal(original.metadata.ownerReferences);
    expect(c.metadata).to.not.have.property('uid');
    expect(c.metadata).to.not.have.property('finalizers');
    expect(c.spec).to.deep.equal({
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      storageClassName: 'fast',
      volumeName: 'pv-target',
      resources: { requests: { storage: '2Gi' }, limits: { storage: '3Gi' } },
    });
    expect(c).to.not.have.property('status');
  });

  it('pre-binds with namespace and name and explicitly removes uid and resourceVersion', () => {
    expect(prebindPatch('shop', 'data')).to.deep.equal({
      spec: {
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: 'shop',
          name: 'data',
          uid: null,
          resourceVersion: null,
        },
      },
    });
  });

  it('patches the reclaim policy only', () => {
    expect(reclaimPolicyPatch('Retain')).to.deep.equal({ spec: { persistentVolumeReclaimPolicy: 'Retain' } });
  });

  describe('VolumeAttributesClass', () => {
    // class standard, VolumeAttributesClass gold
    const original = pvc({ spec: { volumeAttributesClassName: 'gold' } });
    const both = (storageClass: string) => [
      buildTargetClaim({ original, name: 'data-pvmove-m1', migrationId: 'm1', storageClass, size: '2Gi' }),
      buildRecreatedClaim({ original, migrationId: 'm1', storageClass, size: '2Gi', targetPv: 'pv-target' }),
    ];
    const planFor = (targetClass: string) =>
      planMigration({
        engine: tarEngine,
        req: request({ toClass: targetClass }),
        names: namesFor('data', 'm1'),
        observed: observed({ claim: original }),
        owners: [],
        targetClass,
        targetSize: '2Gi',
      });

    it('same class: the target claim and the re-created claim both keep it, so the new PV binds', () => {
      for (const c of both('standard'))
        expect(c.spec?.volumeAttributesClassName, c.metadata.name).to.equal('gold');
      expect(planFor('standard').notes.join('\n')).to.not.contain('VolumeAttributesClass');
    });

    it('another class: both drop it, and the plan warns', () => {
      for (const c of both('fast'))
        expect(c.spec, c.metadata.name).to.not.have.property('volumeAttributesClassName');
      expect(planFor('fast').notes).to.include(
        "Warning: the claim's VolumeAttributesClass gold is for class standard, so the target and re-created " +
          'claims on class fast get none; set one for the new class afterwards if its driver supports it.',
      );
    });
  });
});

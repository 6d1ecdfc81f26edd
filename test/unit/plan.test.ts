import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import { namesFor } from '../../src/core/names.js';
import { planMigration, TARGET_PV_PLACEHOLDER, type PlannedChange } from '../../src/core/plan.js';
import type { Pod, Pvc } from '../../src/core/types.js';
import { journal, observed, pv, pvc, request } from './fixtures.js';

const names = namesFor('data', 'mabc1234');
const find = (changes: PlannedChange[], step: string, kind: string): PlannedChange => {
  const c = changes.find((x) => x.step === step && x.kind === kind);
  if (!c) throw new Error(`no ${kind} change in ${step}`);
  return c;
};

describe('plan', () => {
  const terms = [
    { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] },
  ];
  const fresh = () =>
    planMigration({
      engine: tarEngine,
      req: request(),
      names,
      observed: observed({
        claim: pvc({
          spec: {
            selector: { matchLabels: { a: 'b' } },
            dataSource: { kind: 'PersistentVolumeClaim', name: 'seed' },
          },
        }),
        sourcePv: pv('pv-source', { nodeAffinity: { required: { nodeSelectorTerms: terms } } }),
      }),
      owners: [{ kind: 'Deployment', name: 'web' }],
      targetClass: 'fast',
      targetSize: '2Gi',
    });

  it('describes source, target and all steps for a new migration', () => {
    const p = fresh();
    expect(p.resumed).to.equal(false);
    expect(p.source).to.deep.equal({
      pv: 'pv-source',
      storageClass: 'standard',
      size: '1Gi',
      reclaimPolicy: 'Delete',
    });
    expect(p.target).to.deep.include({ claim: 'data-pvmove-mabc1234', storageClass: 'fast', size: '2Gi' });
    const always = p.steps.filter((s) => s.id !== 'rewrite-template' && s.id !== 'warm-copy');
    expect(always.map((s) => s.done)).to.deep.equal(new Array(13).fill(false));
  });

  it('creates the target claim with the new class and size', () => {
    const body = find(fresh().changes, 'create-target', 'PersistentVolumeClaim').body as Pvc;
    expect(body.metadata.name).to.equal('data-pvmove-mabc1234');
    expect(body.spec?.storageClassName).to.equal('fast');
    expect(body.spec?.resources?.requests?.storage).to.equal('2Gi');
  });

  it("gives the copy pod the source PV's node affinity", () => {
    const body = find(fresh().changes, 'create-target', 'Pod').body as Pod;
    expect(body.metadata.name).to.equal('pvmove-copy-data-mabc1234');
    expect((body.spec as { affinity?: unknown }).affinity).to.deep.equal({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
    });
  });

  it('re-creates the claim without selector and dataSource, and says so', () => {
    const p = fresh();
    const body = find(p.changes, 'recreate-claim', 'PersistentVolumeClaim').body as Pvc;
    expect(body.spec).to.not.have.property('selector');
    expect(body.spec).to.not.have.property('dataSource');
    expect(body.spec?.volumeName).to.equal(TARGET_PV_PLACEHOLDER);
    expect(p.notes.join('\n')).to.match(/drops selector, dataSource/);
  });

  it('pre-binds, restores the source policy and scales back in the plan', () => {
    const p = fresh();
    expect(find(p.changes, 'prebind-target-pv', 'PersistentVolume').body).to.deep.equal({
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
    expect(find(p.changes, 'restore-reclaim-policy', 'PersistentVolume').body).to.deep.equal({
      spec: { persistentVolumeReclaimPolicy: 'Delete' },
    });
    expect(find(p.changes, 'scale-down', 'Deployment').body).to.deep.equal({ spec: { replicas: 0 } });
  });

  it('plans from the journal when resuming, with the known target PV and recorded replicas', () => {
    const j = journal({
      original: { ...journal().original, targetPv: { name: 'pv-target', reclaimPolicy: 'Delete' } },
    });
    const p = planMigration({
      engine: tarEngine,
      req: request(),
      names,
      observed: observed({ journal: j, targetPv: pv('pv-target') }),
      owners: j.original.owners,
      targetClass: 'fast',
      targetSize: '2Gi',
    });
    expect(p.resumed).to.equal(true);
    expect(p.target.pv).to.equal('pv-target');
    expect(find(p.changes, 'recreate-claim', 'PersistentVolumeClaim').name).to.equal('data');
    expect(
      (find(p.changes, 'recreate-claim', 'PersistentVolumeClaim').body as Pvc).spec?.volumeName,
    ).to.equal('pv-target');
    expect(find(p.changes, 'scale-up', 'Deployment').body).to.deep.equal({ spec: { replicas: 2 } });
    expect(p.steps.find((s) => s.id === 'record-journal')?.done).to.equal(true);
  });
});

import { expect } from 'chai';
import { resolveOwners } from '../../src/core/owners.js';
import { evaluatePreflight, templateDrift, type PreflightFacts } from '../../src/core/preflight.js';
import { pod, pv, pvc, request } from './fixtures.js';

function facts(over: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    claim: pvc(),
    sourcePv: pv('pv-source'),
    storageClass: { metadata: { name: 'fast' }, volumeBindingMode: 'Immediate' },
    podsUsingClaim: [],
    resolution: resolveOwners([], [], []),
    templateOwners: [],
    hpas: [],
    ...over,
  };
}

describe('preflight', () => {
  it('passes a bound claim moving to an existing class and a bigger size', () => {
    const r = evaluatePreflight(request(), facts());
    expect(r.problems).to.deep.equal([]);
    expect(r.targetClass).to.equal('fast');
    expect(r.targetSize).to.equal('2Gi');
  });

  it('keeps the class and size of the claim for what was not asked', () => {
    const r = evaluatePreflight(request({ toClass: undefined, size: '5Gi' }), facts());
    expect(r.targetClass).to.equal('standard');
    const s = evaluatePreflight(request({ size: undefined }), facts());
    expect(s.targetSize).to.equal('1Gi');
  });

  it('refuses a missing claim', () => {
    const r = evaluatePreflight(request(), facts({ claim: undefined }));
    expect(r.problems).to.deep.equal(['PersistentVolumeClaim data in namespace shop not found']);
  });

  it('refuses a claim that is not Bound', () => {
    const r = evaluatePreflight(request(), facts({ claim: pvc({ status: { phase: 'Pending' } }) }));
    expect(r.problems[0]).to.equal('PersistentVolumeClaim data in namespace shop is Pending, not Bound');
  });

  it('refuses Block volumes as not supported yet', () => {
    const r = evaluatePreflight(request(), facts({ claim: pvc({ spec: { volumeMode: 'Block' } }) }));
    expect(r.problems.join()).to.match(/volumeMode Block, which kubectl-pvmove does not support yet/);
  });

  it('refuses a class that does not exist', () => {
    const r = evaluatePreflight(request({ toClass: 'gold' }), facts({ storageClass: undefined }));
    expect(r.problems).to.deep.equal(['StorageClass gold not found']);
  });

  it('refuses shrinking, and accepts the same size', () => {
    const r = evaluatePreflight(request({ size: '500Mi' }), facts());
    expect(r.problems.join()).to.match(/--size 500Mi is smaller than the claim's current request 1Gi/);
    expect(evaluatePreflight(request({ size: '1024Mi' }), facts()).problems).to.deep.equal([]);
  });

  it('refuses DaemonSets and bare pods, but bare pods pass with --delete-pods (with a warning)', () => {
    const pods = [pod('ds-1', 'data', { kind: 'DaemonSet', name: 'agent' }), pod('bare', 'data')];
    const f = facts({ podsUsingClaim: pods, resolution: resolveOwners(pods, [], []) });
    const r = evaluatePreflight(request(), f);
    expect(r.problems).to.have.length(2);
    expect(r.problems[0]).to.match(/DaemonSet agent mounts data/);
    expect(r.problems[1]).to.match(/pods bare use data and have no controller.*--delete-pods/);
    const d = evaluatePreflight(request({ deletePods: true }), f);
    expect(d.problems).to.have.length(1);
    expect(d.warnings.join()).to.match(/bare have no controller: they will be deleted and NOT re-created/);
    expect(d.barePods).to.deep.equal(['bare']);
  });

  it('refuses an HPA on an owner unless --ignore-hpa', () => {
    const f = facts({
      templateOwners: [{ kind: 'Deployment', name: 'web' }],
      hpas: [{ metadata: { name: 'web' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' } } }],
    });
    expect(evaluatePreflight(request(), f).problems.join()).to.match(
      /HorizontalPodAutoscaler web targets Deployment web.*--ignore-hpa/,
    );
    const ok = evaluatePreflight(request({ ignoreHpa: true }), f);
    expect(ok.problems).to.deep.equal([]);
    expect(ok.owners).to.deep.equal([{ kind: 'Deployment', name: 'web' }]);
  });

  it('asks for --to-class when the claim has no class', () => {
    const r = evaluatePreflight(
      request({ toClass: undefined }),
      facts({ claim: pvc({ spec: { storageClassName: '' } }) }),
    );
    expect(r.problems.join()).to.match(/has no StorageClass; pass --to-class/);
  });
});

describe('StatefulSet template drift', () => {
  it('warns when the template of the claim still names another class', () => {
    const sets = [{ statefulSet: 'db', templates: [{ name: 'data', storageClassName: 'standard' }] }];
    expect(templateDrift('data-db-0', 'fast', sets)).to.have.length(1);
    expect(templateDrift('data-db-0', 'fast', sets)[0]).to.match(
      /StatefulSet db's volumeClaimTemplate data still asks for class standard/,
    );
    expect(templateDrift('data-db-0', 'standard', sets)).to.deep.equal([]);
    expect(templateDrift('other', 'fast', sets)).to.deep.equal([]);
    expect(templateDrift('data-db-x', 'fast', sets)).to.deep.equal([]);
  });
});

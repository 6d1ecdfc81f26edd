import { expect } from 'chai';
import { ITINERARY, STEP_IDS } from '../../src/core/itinerary.js';
import type { Step } from '../../src/core/step.js';
import { journal, observed, pod, pv, pvc } from './fixtures.js';

const step = (id: string): Step => {
  const s = ITINERARY.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
};

const copiedTarget = (over: Parameters<typeof pv>[1] = {}) =>
  pv(
    'pv-target',
    { persistentVolumeReclaimPolicy: 'Retain', ...over },
    { 'pvmove.kubectl.io/copied': 'mabc1234' },
  );
const jWithTarget = (over = {}) =>
  journal({
    ...over,
    original: { ...journal().original, targetPv: { name: 'pv-target', reclaimPolicy: 'Delete' } },
  });
const finalClaim = () =>
  pvc({
    metadata: {
      name: 'data',
      namespace: 'shop',
      uid: 'uid-new',
      annotations: { 'pvmove.kubectl.io/migration-id': 'mabc1234' },
    },
    spec: { volumeName: 'pv-target' },
  });
/** The same name, bound to the target PV, but made by someone else (a StatefulSet's template). */
const foreignClaim = () =>
  pvc({
    metadata: { name: 'data', namespace: 'shop', uid: 'uid-sts' },
    spec: { volumeName: 'pv-target', storageClassName: 'standard' },
  });

describe('itinerary', () => {
  it('lists the steps in order with stable ids', () => {
    expect(STEP_IDS).to.deep.equal([
      'preflight',
      'record-journal',
      'retain-source-pv',
      'warm-copy',
      'scale-down',
      'create-target',
      'retain-target-pv',
      'copy',
      'release-claims',
      'prebind-target-pv',
      'recreate-claim',
      'rewrite-template',
      'scale-up',
      'restore-reclaim-policy',
      'finish',
    ]);
  });

  it('considers nothing past preflight done on an untouched claim', () => {
    const o = observed({ claim: pvc(), sourcePv: pv('pv-source'), podsUsingClaim: [pod('web-1', 'data')] });
    // warm-copy holds only for --precopy, rewrite-template only for batches of a whole StatefulSet.
    expect(ITINERARY.filter((s) => s.isDone(o) && !s.notNeeded?.(o)).map((s) => s.id)).to.deep.equal([]);
    expect(ITINERARY.filter((s) => s.notNeeded?.(o)).map((s) => s.id)).to.deep.equal([
      'warm-copy',
      'rewrite-template',
    ]);
  });

  it('considers every step done after a finished migration', () => {
    const o = observed({
      journal: jWithTarget({ phase: 'finished' }),
      claim: finalClaim(),
      sourcePv: pv('pv-source', { persistentVolumeReclaimPolicy: 'Retain' }),
      targetPv: copiedTarget({
        persistentVolumeReclaimPolicy: 'Delete',
        claimRef: { namespace: 'shop', name: 'data', uid: 'uid-new' },
      }),
      podsUsingClaim: [pod('web-1', 'data')],
      owners: [{ kind: 'Deployment', name: 'web', exists: true, replicas: 2, readyReplicas: 2 }],
    });
    o.sourcePv!.metadata.labels = {
      'pvmove.kubectl.io/migrated-to': 'pv-target',
      'pvmove.kubectl.io/migration-id': 'mabc1234',
    };
    expect(ITINERARY.filter((s) => !s.isDone(o)).map((s) => s.id)).to.deep.equal([]);
  });
});

describe('postconditions', () => {
  it('retain-source-pv holds only with Retain', () => {
    expect(step('retain-source-pv').isDone(observed({ sourcePv: pv('pv-source') }))).to.equal(false);
    expect(
      step('retain-source-pv').isDone(
        observed({ sourcePv: pv('pv-source', { persistentVolumeReclaimPolicy: 'Retain' }) }),
      ),
    ).to.equal(true);
  });

  it('scale-down needs owners at 0 and no pod on the claim', () => {
    const j = journal();
    const stopped = [
      { kind: 'Deployment' as const, name: 'web', exists: true, replicas: 0, readyReplicas: 0 },
    ];
    const running = [
      { kind: 'Deployment' as const, name: 'web', exists: true, replicas: 2, readyReplicas: 2 },
    ];
    const s = step('scale-down');
    expect(s.isDone(observed({ journal: j, claim: pvc(), owners: running }))).to.equal(false);
    expect(
      s.isDone(
        observed({ journal: j, claim: pvc(), owners: stopped, podsUsingClaim: [pod('web-1', 'data')] }),
      ),
    ).to.equal(false);
    expect(s.isDone(observed({ journal: j, claim: pvc(), owners: stopped }))).to.equal(true);
  });

  it('scale-down counts CronJobs and Jobs as stopped only when suspended', () => {
    const j = journal({
      original: { ...journal().original, owners: [{ kind: 'CronJob', name: 'backup', suspend: false }] },
    });
    const s = step('scale-down');
    expect(
      s.isDone(
        observed({ journal: j, owners: [{ kind: 'CronJob', name: 'backup', exists: true, suspend: false }] }),
      ),
    ).to.equal(false);
    expect(
      s.isDone(
        observed({ journal: j, owners: [{ kind: 'CronJob', name: 'backup', exists: true, suspend: true }] }),
      ),
    ).to.equal(true);
  });

  it('create-target needs both the temporary claim and the copy pod (or a finished copy)', () => {
    const s = step('create-target');
    const j = journal();
    const tmp = pvc({ metadata: { name: 'data-pvmove-mabc1234' } });
    expect(s.isDone(observed({ journal: j, targetClaim: tmp }))).to.equal(false);
    expect(
      s.isDone(observed({ journal: j, targetClaim: tmp, copyPod: pod('pvmove-copy-data-mabc1234', 'data') })),
    ).to.equal(true);
    expect(s.isDone(observed({ journal: jWithTarget(), targetPv: copiedTarget() }))).to.equal(true);
  });

  it('retain-target-pv needs the recorded original policy and Retain', () => {
    const s = step('retain-target-pv');
    expect(
      s.isDone(
        observed({
          journal: journal(),
          targetPv: pv('pv-target', { persistentVolumeReclaimPolicy: 'Retain' }),
        }),
      ),
    ).to.equal(false);
    expect(s.isDone(observed({ journal: jWithTarget(), targetPv: pv('pv-target') }))).to.equal(false);
    expect(
      s.isDone(
        observed({
          journal: jWithTarget(),
          targetPv: pv('pv-target', { persistentVolumeReclaimPolicy: 'Retain' }),
        }),
      ),
    ).to.equal(true);
  });

  it('copy is done only when the target PV carries this migration id', () => {
    const s = step('copy');
    expect(s.isDone(observed({ journal: jWithTarget(), targetPv: pv('pv-target') }))).to.equal(false);
    expect(
      s.isDone(
        observed({
          journal: jWithTarget(),
          targetPv: pv('pv-target', {}, { 'pvmove.kubectl.io/copied': 'other' }),
        }),
      ),
    ).to.equal(false);
    expect(s.isDone(observed({ journal: jWithTarget(), targetPv: copiedTarget() }))).to.equal(true);
  });

  it('copy made by an earlier run is not done while the source claim exists, until this run checks it', () => {
    const s = step('copy');
    const copied = (runId: string) => jWithTarget({ copy: { verify: 'count', verifiedAt: 't', runId } });
    const o = (runId: string) =>
      observed({ journal: copied('run-1'), targetPv: copiedTarget(), claim: pvc(), runId });
    expect(s.isDone(o('run-2'))).to.equal(false); // the app may have written in between
    expect(s.isDone(o('run-1'))).to.equal(true); // made (or checked) by this very run
    // Once the original claim is gone nothing can write to the source any more.
    expect(
      s.isDone(observed({ journal: copied('run-1'), targetPv: copiedTarget(), runId: 'run-2' })),
    ).to.equal(true);
  });

  it('release-claims needs the copy pod and both claims gone', () => {
    const s = step('release-claims');
    const j = jWithTarget();
    expect(s.isDone(observed({ journal: j, targetPv: copiedTarget(), claim: pvc() }))).to.equal(false);
    expect(s.isDone(observed({ journal: j, targetPv: copiedTarget(), copyPod: pod('p', 'data') }))).to.equal(
      false,
    );
    expect(s.isDone(observed({ journal: j, targetPv: copiedTarget() }))).to.equal(true);
    expect(s.isDone(observed({ journal: j, targetPv: copiedTarget(), claim: finalClaim() }))).to.equal(true);
    expect(s.isDone(observed({}))).to.equal(false);
  });

  it('prebind-target-pv needs a claimRef with the original namespace and name', () => {
    const s = step('prebind-target-pv');
    const j = jWithTarget();
    const ref = (name: string) => copiedTarget({ claimRef: { namespace: 'shop', name, uid: 'tmp-uid' } });
    expect(s.isDone(observed({ journal: j, targetPv: ref('data-pvmove-mabc1234') }))).to.equal(false);
    // Still bound (uid) to a claim of that name that is not ours: not pre-bound for ours.
    expect(s.isDone(observed({ journal: j, targetPv: ref('data') }))).to.equal(false);
    const prebound = copiedTarget({ claimRef: { namespace: 'shop', name: 'data' } });
    expect(s.isDone(observed({ journal: j, targetPv: prebound }))).to.equal(true);
    expect(s.isDone(observed({ journal: j }))).to.equal(false);
  });

  it('recreate-claim needs the claim Bound to the target PV', () => {
    const s = step('recreate-claim');
    const j = jWithTarget();
    expect(s.isDone(observed({ journal: j, claim: pvc() }))).to.equal(false);
    expect(
      s.isDone(
        observed({
          journal: j,
          claim: pvc({ spec: { volumeName: 'pv-target' }, status: { phase: 'Pending' } }),
        }),
      ),
    ).to.equal(false);
    expect(s.isDone(observed({ journal: j, claim: finalClaim() }))).to.equal(true);
    // A claim someone else made under the name, bound to the pre-bound target PV, is never adopted.
    expect(s.isDone(observed({ journal: j, claim: foreignClaim() }))).to.equal(false);
    // Nor one carrying our annotation but not the uid recorded when we created ours.
    const recorded = jWithTarget({ recreatedClaim: { uid: 'uid-other' } });
    expect(s.isDone(observed({ journal: recorded, claim: finalClaim() }))).to.equal(false);
  });

  it("restore-reclaim-policy needs the source's original policy on the target", () => {
    const s = step('restore-reclaim-policy');
    const j = jWithTarget();
    expect(s.isDone(observed({ journal: j, claim: finalClaim(), targetPv: copiedTarget() }))).to.equal(false);
    expect(
      s.isDone(
        observed({
          journal: j,
          claim: finalClaim(),
          targetPv: copiedTarget({ persistentVolumeReclaimPolicy: 'Delete' }),
        }),
      ),
    ).to.equal(true);
  });

  it('scale-up needs the recorded replicas, ready', () => {
    const s = step('scale-up');
    const j = jWithTarget();
    const o = (replicas: number, ready: number) =>
      observed({
        journal: j,
        claim: finalClaim(),
        targetPv: copiedTarget(),
        owners: [{ kind: 'Deployment', name: 'web', exists: true, replicas, readyReplicas: ready }],
      });
    expect(s.isDone(o(0, 0))).to.equal(false);
    expect(s.isDone(o(2, 1))).to.equal(false);
    expect(s.isDone(o(2, 2))).to.equal(true);
  });
});

// A StatefulSet with persistentVolumeClaimRetentionPolicy whenScaled: Delete would delete the claim
// when the move scales it to 0: it gets Retain before the scale-down and its policy back after.
import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import { namesFor } from '../../src/core/names.js';
import { ownersRestored, ownersStopped } from '../../src/core/observed.js';
import { deletesClaimsOnScaleDown, retentionToRestore } from '../../src/core/owners.js';
import { planMigration } from '../../src/core/plan.js';
import { restoreOwner, stopOwner } from '../../src/core/steps/owner-scaling.js';
import type { OwnerRecord, OwnerState } from '../../src/core/types.js';
import { FakeCluster } from './fake-cluster.js';
import { journal, observed, request } from './fixtures.js';

const db: OwnerRecord = { kind: 'StatefulSet', name: 'db', replicas: 1, pvcRetentionWhenScaled: 'Delete' };
const state = (replicas: number, whenScaled: string, ready = replicas): OwnerState => ({
  kind: 'StatefulSet',
  name: 'db',
  exists: true,
  replicas,
  readyReplicas: ready,
  pvcRetentionWhenScaled: whenScaled,
});
const withDb = () => journal({ original: { ...journal().original, owners: [db] } });

describe('StatefulSet claim retention policy', () => {
  it('tells which owners would delete the claim on scale-down, and what to restore', () => {
    expect(deletesClaimsOnScaleDown(state(1, 'Delete'))).to.equal(true);
    expect(deletesClaimsOnScaleDown(state(1, 'Retain'))).to.equal(false);
    expect(deletesClaimsOnScaleDown({ kind: 'StatefulSet', name: 'db' }), 'unset is Retain').to.equal(false);
    expect(deletesClaimsOnScaleDown({ kind: 'Deployment', name: 'web' })).to.equal(false);
    expect(retentionToRestore(db, state(1, 'Retain'))).to.equal('Delete');
    expect(retentionToRestore(db, state(1, 'Delete'))).to.equal(undefined);
    expect(retentionToRestore({ ...db, pvcRetentionWhenScaled: undefined }, state(1, 'Retain'))).to.equal(
      undefined,
    );
  });

  it('is not stopped at 0 replicas while whenScaled is Delete, nor restored until it is back', () => {
    const o = (s: OwnerState) => observed({ journal: withDb(), owners: [s] });
    expect(ownersStopped(o(state(0, 'Delete')))).to.equal(false);
    expect(ownersStopped(o(state(0, 'Retain')))).to.equal(true);
    expect(ownersRestored(o(state(1, 'Retain')))).to.equal(false);
    expect(ownersRestored(o(state(1, 'Delete')))).to.equal(true);
    expect(ownersRestored(o(state(1, 'Delete', 0))), 'and ready').to.equal(false);
  });

  it('sets Retain before scaling to 0, and restores the policy after the replicas', async () => {
    const c = new FakeCluster();
    await stopOwner(c, 'shop', db, state(1, 'Delete'));
    expect(c.calls).to.deep.equal(['retention db Retain', 'scale db 0']);
    c.calls = [];
    await restoreOwner(c, 'shop', db, state(0, 'Retain'));
    expect(c.calls).to.deep.equal(['scale db 1', 'retention db Delete']);
  });

  it('leaves a policy of Retain alone', async () => {
    const c = new FakeCluster();
    const kept = { ...db, pvcRetentionWhenScaled: 'Retain' };
    await stopOwner(c, 'shop', kept, state(1, 'Retain'));
    await restoreOwner(c, 'shop', kept, state(0, 'Retain'));
    expect(c.calls).to.deep.equal(['scale db 0', 'scale db 1']);
  });

  it('plans the patches around the scaling when resuming, and notes them for a new move', () => {
    const names = namesFor('data', 'mabc1234');
    const base = { req: request(), names, targetClass: 'fast', targetSize: '2Gi', engine: tarEngine };
    const resumed = planMigration({ ...base, observed: observed({ journal: withDb() }), owners: [db] });
    const steps = resumed.changes
      .filter((c) => c.kind === 'StatefulSet')
      .map((c) => `${c.step} ${c.action} ${JSON.stringify(c.body)}`);
    expect(steps).to.deep.equal([
      'scale-down patch {"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Retain"}}}',
      'scale-down scale {"spec":{"replicas":0}}',
      'scale-up scale {"spec":{"replicas":1}}',
      'scale-up patch {"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}}',
    ]);
    const fresh = planMigration({
      ...base,
      observed: observed(),
      owners: [{ kind: 'StatefulSet', name: 'db' }],
    });
    expect(fresh.changes.filter((c) => c.action === 'patch' && c.kind === 'StatefulSet')).to.deep.equal([]);
    expect(fresh.notes.join('\n')).to.contain(
      "If StatefulSet db's persistentVolumeClaimRetentionPolicy has whenScaled: Delete, it is set to Retain during the move",
    );
  });
});

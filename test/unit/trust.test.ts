import { expect } from 'chai';
import { journalIdentityProblem, sourcePvProblem, volumesProblem } from '../../src/core/trust.js';
import type { Pv } from '../../src/core/types.js';
import { journal } from './fixtures.js';

const names = { targetClaim: 'data-pvmove-mabc1234' };

function volume(
  name: string,
  claimRef: { namespace: string; name: string },
  opts: { uid?: string; label?: string } = {},
): Pv {
  return {
    metadata: {
      name,
      uid: opts.uid ?? `uid-${name}`,
      ...(opts.label ? { labels: { 'pvmove.kubectl.io/migration-id': opts.label } } : {}),
    },
    spec: { claimRef: { ...claimRef, uid: 'x' }, persistentVolumeReclaimPolicy: 'Retain' },
    status: { phase: 'Released' },
  };
}

describe('trust: the cluster must agree with the journal before a PV is touched', () => {
  const j = journal({
    original: {
      ...journal().original,
      sourcePv: { name: 'pv-source', reclaimPolicy: 'Delete', uid: 'uid-pv-source' },
      targetPv: { name: 'pv-target', reclaimPolicy: 'Delete', uid: 'uid-pv-target' },
    },
  });

  it("accepts this claim's PVs, labelled or not yet labelled", () => {
    const src = volume('pv-source', { namespace: 'shop', name: 'data' }, { label: 'mabc1234' });
    expect(sourcePvProblem(src, j, 'shop', true)).to.equal(undefined);
    const unlabelled = volume('pv-source', { namespace: 'shop', name: 'data' });
    expect(sourcePvProblem(unlabelled, j, 'shop', false)).to.equal(undefined);
    const tgt = volume('pv-target', { namespace: 'shop', name: names.targetClaim });
    expect(volumesProblem({ sourcePv: src, targetPv: tgt }, j, 'shop', names)).to.equal(undefined);
  });

  it("refuses another namespace's PV, whatever label and uid the journal was edited to carry", () => {
    const other = volume('pv-source', { namespace: 'bank', name: 'data' }, { label: 'mabc1234' });
    expect(sourcePvProblem(other, j, 'shop', true)).to.equal(
      'source PV pv-source belongs to bank/data, not to claim shop/data',
    );
    const tgt = volume('pv-target', { namespace: 'bank', name: 'vault' });
    expect(volumesProblem({ targetPv: tgt }, j, 'shop', names)).to.match(
      /^target PV pv-target belongs to bank\/vault, not to claim shop\/data .*so kubectl-pvmove touches neither PV$/,
    );
  });

  it('refuses a PV that is not the recorded object, or labelled for another migration', () => {
    const replaced = volume('pv-source', { namespace: 'shop', name: 'data' }, { uid: 'uid-new' });
    expect(sourcePvProblem(replaced, j, 'shop', false)).to.contain(
      'is not the PV migration mabc1234 recorded',
    );
    const other = volume('pv-source', { namespace: 'shop', name: 'data' }, { label: 'mzzz' });
    expect(sourcePvProblem(other, j, 'shop', false)).to.contain('(it has migration mzzz)');
    // cleanup deletes: it wants the label
    const bare = volume('pv-source', { namespace: 'shop', name: 'data' });
    expect(sourcePvProblem(bare, j, 'shop', true)).to.contain('is not labelled');
  });

  it('refuses a journal stored under another claim than the one it names', () => {
    expect(journalIdentityProblem(j, 'shop', 'data')).to.equal(undefined);
    expect(journalIdentityProblem(j, 'attacker', 'data')).to.contain('names claim shop/data');
  });
});

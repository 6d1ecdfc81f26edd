import { expect } from 'chai';
import {
  copyPodName,
  fitName,
  journalName,
  MAX_NAME,
  namesFor,
  newMigrationId,
  targetClaimName,
} from '../../src/core/names.js';

describe('names', () => {
  it('derives the journal name from the claim only', () => {
    expect(journalName('data')).to.equal('pvmove-data');
    expect(journalName('data')).to.equal(journalName('data'));
  });

  it('derives temp claim and copy pod names from claim and migration id', () => {
    const n = namesFor('data', 'mabc1234');
    expect(n).to.deep.equal({
      migrationId: 'mabc1234',
      claim: 'data',
      journal: 'pvmove-data',
      targetClaim: 'data-pvmove-mabc1234',
      copyPod: 'pvmove-copy-data-mabc1234',
    });
  });

  it('cuts long names to 63 characters with a hash that keeps similar claims apart', () => {
    const a = 'x'.repeat(70) + '-a';
    const b = 'x'.repeat(70) + '-b';
    for (const name of [journalName(a), targetClaimName(a, 'mabc1234'), copyPodName(a, 'mabc1234')]) {
      expect(name.length).to.be.at.most(MAX_NAME);
      expect(name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(journalName(a)).to.not.equal(journalName(b));
    expect(targetClaimName(a, 'mabc1234').endsWith('-pvmove-mabc1234')).to.equal(true);
    expect(journalName(a)).to.equal(journalName(a));
  });

  it('never leaves a dash before the hash', () => {
    const name = fitName('pvmove-', `${'a'.repeat(49)}-${'b'.repeat(20)}`);
    expect(name).to.not.match(/--/);
    expect(name.length).to.be.at.most(MAX_NAME);
  });

  it('makes migration ids that are valid DNS labels', () => {
    let i = 0;
    const seq = [0.99, 0.01, 0.5, 0.2, 0.7, 0.3, 0.9, 0.4];
    const id = newMigrationId(() => seq[i++ % seq.length] ?? 0);
    expect(id).to.match(/^m[a-z0-9]{7}$/);
    expect(newMigrationId()).to.not.equal(newMigrationId());
  });
});

import { expect } from 'chai';
import { JournalHandle } from '../../src/core/journal-store.js';
import { claimJournal, newMigrationJournal, putClaimJournal, withStep } from '../../src/core/journal.js';
import { FakeCluster } from './fake-cluster.js';
import { journal } from './fixtures.js';

const NAMES = { journal: 'pvmove-batch-mabc1234', migrationId: 'mabc1234' };
const CLAIMS = ['data-0', 'data-1', 'data-2', 'data-3'];

/** A stored batch journal of four claims, and a handle on it that counts its writes. */
async function batch() {
  const c = new FakeCluster();
  const view = (name: string) => journal({ claim: { namespace: 'shop', name } });
  let doc = newMigrationJournal(view(CLAIMS[0]!));
  for (const name of CLAIMS.slice(1)) doc = putClaimJournal(doc, view(name));
  const stored = await c.createJournal('shop', NAMES.journal, {}, doc);
  let writes = 0;
  const replace = c.replaceJournal.bind(c);
  c.replaceJournal = async (...args) => {
    writes++;
    await new Promise((r) => setTimeout(r, 20));
    return replace(...args);
  };
  return { c, handle: new JournalHandle(c, 'shop', NAMES, stored), writes: () => writes };
}

describe('journal handle: changes that arrive during a write go together into the next one', () => {
  it('stores every claim change, in fewer writes than changes, each caller resuming once it is stored', async () => {
    const { c, handle, writes } = await batch();
    const results = await Promise.all(
      CLAIMS.flatMap((claim) => [
        handle.update(claim, (j) => withStep(j, 'copy', { status: 'started' })),
        handle.update(claim, (j) => withStep(j, 'copy', { status: 'done' })),
      ]),
    );
    // All eight came before the first write started: one write (each alone would be eight).
    expect(writes()).to.equal(1);
    // One that comes while a write is under way waits for the next one.
    const first = handle.update('data-0', (j) => withStep(j, 'finish', { status: 'started' }));
    await new Promise((r) => setTimeout(r, 5));
    const second = handle.update('data-1', (j) => withStep(j, 'finish', { status: 'started' }));
    const third = handle.update('data-2', (j) => withStep(j, 'finish', { status: 'started' }));
    await Promise.all([first, second, third]);
    expect(writes()).to.equal(3);
    // Each caller gets its claim as stored, its own change and what came after it in the group.
    expect(results.map((j) => `${j.claim.name} ${j.steps.copy?.status}`)).to.deep.equal(
      CLAIMS.flatMap((claim) => [`${claim} done`, `${claim} done`]),
    );
    const stored = (await c.readJournal('shop', NAMES.journal))!.document;
    for (const claim of CLAIMS) expect(claimJournal(stored, claim)?.steps.copy?.status).to.equal('done');
  });

  it('a change that throws fails only its own caller', async () => {
    const { c, handle } = await batch();
    const outcomes = await Promise.allSettled([
      handle.update('data-0', (j) => withStep(j, 'copy', { status: 'done' })),
      handle.update('data-1', () => {
        throw new Error('refused');
      }),
      handle.update('data-2', (j) => withStep(j, 'copy', { status: 'done' })),
      handle.update('data-9', (j) => j),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    const stored = (await c.readJournal('shop', NAMES.journal))!.document;
    expect(claimJournal(stored, 'data-2')?.steps.copy?.status).to.equal('done');
    expect(claimJournal(stored, 'data-1')?.steps.copy).to.equal(undefined);
  });

  it('on a conflict the group is applied again to the fresh journal, keeping the other writer’s change', async () => {
    const { c, handle } = await batch();
    // Another writer (a second handle, as a rollback started elsewhere would be) changes it first.
    const other = new JournalHandle(c, 'shop', NAMES, await c.readJournal('shop', NAMES.journal));
    await other.update('data-3', (j) => withStep(j, 'finish', { status: 'done' }));
    await Promise.all([
      handle.update('data-0', (j) => withStep(j, 'copy', { status: 'done' })),
      handle.update('data-1', (j) => withStep(j, 'copy', { status: 'done' })),
    ]);
    const stored = (await c.readJournal('shop', NAMES.journal))!.document;
    expect(claimJournal(stored, 'data-3')?.steps.finish?.status).to.equal('done');
    expect(claimJournal(stored, 'data-1')?.steps.copy?.status).to.equal('done');
  });
});

import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import { PvmoveError } from '../../src/core/errors.js';
import type { PvmoveEvent } from '../../src/core/events.js';
import { STEP_IDS } from '../../src/core/itinerary.js';
import type { Journal } from '../../src/core/journal.js';
import { decideKeepTarget, planRollback, prepareRollback, runRollback } from '../../src/core/rollback.js';
import { prepareMigration, runMigration } from '../../src/core/runner.js';
import { UNDO_ITINERARY } from '../../src/core/itinerary.js';
import { FakeCluster } from './fake-cluster.js';
import { request } from './fixtures.js';

class Stop extends Error {}

/** Runs the move and stops it right after `stopAfter` was journaled done, like SIGKILL would. */
async function moveUntil(c: FakeCluster, stopAfter?: string): Promise<void> {
  const req = request();
  const deps = {
    cluster: c,
    engine: tarEngine,
    emit: () => undefined,
    signal: new AbortController().signal,
    newId: () => 'mabc1234',
    afterStep: (id: string) => {
      if (id === stopAfter) throw new Stop(id);
    },
  };
  try {
    await runMigration(req, deps, await prepareMigration(req, deps));
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
}

async function rollback(c: FakeCluster) {
  const req = {
    namespace: 'shop',
    claim: 'data',
    timeouts: request().timeouts,
    commands: request().commands,
  };
  const events: PvmoveEvent[] = [];
  const prepared = await prepareRollback(req, c);
  await runRollback(
    req,
    { cluster: c, emit: (e) => events.push(e), signal: new AbortController().signal },
    prepared,
  );
  return { events, plan: prepared.plan };
}

function journalOf(c: FakeCluster): Journal {
  const j = c.journalOf('shop', 'data');
  if (!j) throw new Error('no journal');
  return j;
}

describe('rollback against a fake cluster', () => {
  // warm-copy runs only for --precopy moves, whose stops are in the e2e crash matrix.
  for (const point of STEP_IDS.filter((s) => s !== 'preflight' && s !== 'warm-copy')) {
    it(`returns to the original state after a stop at ${point}, and is safe to run twice`, async () => {
      const c = new FakeCluster();
      c.seed();
      await moveUntil(c, point);
      const keep = decideKeepTarget(journalOf(c));
      const target = journalOf(c).original.targetPv?.name;

      const first = await rollback(c);
      // From the pre-bind on a claim of that name may have written to the target PV: it is kept.
      const mayHoldWrites = STEP_IDS.indexOf(point) >= STEP_IDS.indexOf('prebind-target-pv');
      expect(first.plan.keepTargetPv).to.equal(mayHoldWrites);
      c.tick();

      const claim = c.pvcs.get('shop/data');
      expect(claim?.spec?.volumeName).to.equal('pv-source');
      expect(claim?.status?.phase).to.equal('Bound');
      expect(claim?.spec?.storageClassName).to.equal('standard');
      expect(claim?.spec?.resources?.requests?.storage).to.equal('1Gi');
      expect(claim?.metadata.labels).to.deep.equal({ app: 'web' });
      expect(c.pvs.get('pv-source')?.spec?.persistentVolumeReclaimPolicy).to.equal('Delete');
      expect(c.pvs.get('pv-source')?.metadata.labels ?? {}).to.not.have.property(
        'pvmove.kubectl.io/migrated-to',
      );
      expect(c.deployments.get('shop/web')?.replicas).to.equal(2);
      expect([...c.pvcs.keys()]).to.deep.equal(['shop/data']);
      expect([...c.pods.keys()].filter((k) => k.includes('pvmove-copy'))).to.deep.equal([]);
      if (target) {
        if (keep) {
          expect(c.pvs.get(target)?.spec?.persistentVolumeReclaimPolicy, 'kept').to.equal('Retain');
          expect(c.pvs.get(target)?.status?.phase).to.equal('Released');
        } else {
          expect(c.pvs.has(target), 'target PV reclaimed per its original policy (Delete)').to.equal(false);
        }
      }
      expect(journalOf(c).phase).to.equal('rolled-back');

      const second = await rollback(c);
      expect(second.plan.alreadyRolledBack).to.equal(true);
      expect(second.events.find((e) => e.type === 'result')?.message).to.contain('already rolled back');

      // A new move after the rollback starts afresh and completes.
      await moveUntil(c);
      expect(journalOf(c).phase).to.equal('finished');
      expect(c.pvcs.get('shop/data')?.spec?.volumeName).to.match(/^pv-new-/);
    });
  }

  it('plans every undo step as done on an untouched claim, except marking the journal', async () => {
    const c = new FakeCluster();
    c.seed();
    await moveUntil(c, 'record-journal');
    const prepared = await prepareRollback(
      { namespace: 'shop', claim: 'data', timeouts: request().timeouts, commands: request().commands },
      c,
    );
    const todo = prepared.plan.steps.filter((s) => !s.done).map((s) => s.id);
    expect(todo).to.deep.equal(['undo-finish']);
    expect(planRollback({ ...prepared.observed, journal: journalOf(c) }).steps).to.have.length(
      UNDO_ITINERARY.length,
    );
  });

  it('refuses with exit 2 when no migration is recorded', async () => {
    const c = new FakeCluster();
    c.seed();
    try {
      await rollback(c);
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(PvmoveError);
      expect((err as PvmoveError).exitCode).to.equal(2);
      expect((err as Error).message).to.contain('nothing to roll back');
    }
  });

  it('a forward re-run refuses while a rollback is in progress', async () => {
    const c = new FakeCluster();
    c.seed();
    await moveUntil(c, 'copy');
    c.editJournal('shop', 'data', (doc) => ({ ...doc, phase: 'rolling-back' }));
    try {
      await moveUntil(c);
      expect.fail('should refuse');
    } catch (err) {
      expect((err as Error).message).to.contain('kubectl pvmove rollback data -n shop');
    }
  });
});

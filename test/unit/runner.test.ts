import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import { prepareCleanup, runCleanup } from '../../src/core/cleanup.js';
import {
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_REFUSED,
  InterruptedError,
  PvmoveError,
  StepFailedError,
  UsageError,
} from '../../src/core/errors.js';
import type { PvmoveEvent, StepEvent } from '../../src/core/events.js';
import { prepareMigration, runMigration } from '../../src/core/runner.js';
import type { MigrationRequest } from '../../src/core/types.js';
import { FakeCluster } from './fake-cluster.js';
import { request } from './fixtures.js';

async function move(
  c: FakeCluster,
  req: MigrationRequest = request(),
  signal = new AbortController().signal,
) {
  const events: PvmoveEvent[] = [];
  const deps = {
    cluster: c,
    engine: tarEngine,
    emit: (e: PvmoveEvent) => events.push(e),
    signal,
    newId: () => 'mabc1234',
  };
  let error: PvmoveError | undefined;
  try {
    await runMigration(req, deps, await prepareMigration(req, deps));
  } catch (err) {
    if (!(err instanceof PvmoveError)) throw err;
    error = err;
  }
  const steps = events.filter((e): e is StepEvent => e.type === 'step');
  const with_ = (status: string) => steps.filter((s) => s.status === status).map((s) => s.step);
  return { events, error, done: with_('done'), skipped: with_('skipped'), failed: with_('failed') };
}

const failingCopy = {
  ok: false as const,
  log: 'tar: ./secret: Cannot open: Permission denied\nPVMOVE error tar-failed tar reported errors while copying (see the tar lines above)\n',
};

describe('runner against a fake cluster', () => {
  it('moves the claim: same name, new PV, policies restored, owners back, source retained', async () => {
    const c = new FakeCluster();
    c.seed();
    const r = await move(c);
    expect(r.error).to.equal(undefined);
    expect(r.failed).to.deep.equal([]);
    expect(r.done).to.have.length(13);

    const claim = c.pvcs.get('shop/data');
    const target = claim?.spec?.volumeName ?? '';
    expect(target).to.match(/^pv-new-/);
    expect(claim?.status?.phase).to.equal('Bound');
    expect(claim?.spec?.storageClassName).to.equal('fast');
    expect(claim?.spec?.resources?.requests?.storage).to.equal('2Gi');
    expect(claim?.metadata.labels).to.deep.equal({ app: 'web' });
    expect(claim?.metadata.annotations).to.not.have.property('pv.kubernetes.io/bind-completed');

    expect(c.pvs.get(target)?.spec?.persistentVolumeReclaimPolicy).to.equal('Delete');
    const source = c.pvs.get('pv-source');
    expect(source?.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(source?.status?.phase).to.equal('Released');
    expect(source?.metadata.labels?.['pvmove.kubectl.io/migrated-to']).to.equal(target);
    expect(c.deployments.get('shop/web')?.replicas).to.equal(2);
    expect(c.pvcs.has('shop/data-pvmove-mabc1234')).to.equal(false);
    expect(c.pods.has('shop/pvmove-copy-data-mabc1234')).to.equal(false);

    const journal = c.journalOf('shop', 'data');
    expect(journal?.phase).to.equal('finished');
    expect(journal?.original.owners).to.deep.equal([{ kind: 'Deployment', name: 'web', replicas: 2 }]);
    expect(c.journals.get('shop/pvmove-data')?.labels['pvmove.kubectl.io/migration-id']).to.equal('mabc1234');

    const result = r.events.at(-1);
    expect(result).to.include({
      type: 'result',
      status: 'done',
      next: 'kubectl pvmove cleanup data -n shop',
    });
    expect((result as { message: string }).message).to.match(/kubectl pvmove cleanup data -n shop`$/);
  });

  it('sets the source PV to Retain before scaling down, and the target to Retain before deleting claims', async () => {
    const c = new FakeCluster();
    c.seed();
    await move(c);
    const i = (prefix: string) => c.calls.findIndex((x) => x.startsWith(prefix));
    const retain = (pv: RegExp) =>
      c.calls.findIndex((x) => pv.test(x) && x.includes('"persistentVolumeReclaimPolicy":"Retain"'));
    expect(retain(/^patch pv pv-source /))
      .to.be.greaterThan(-1)
      .and.lessThan(i('scale web 0'));
    expect(i('patch pv pv-new-')).to.be.greaterThan(-1);
    const targetRetain = retain(/^patch pv pv-new-\d+ /);
    expect(targetRetain).to.be.greaterThan(-1).and.lessThan(c.calls.indexOf('delete pvc data'));
    // The original claim goes first: while it exists, the temporary claim (and so the copy) does too.
    expect(c.calls.indexOf('delete pvc data')).to.be.lessThan(i('delete pvc data-pvmove-mabc1234'));
  });

  it('stops before deleting any claim when the copy fails, then resumes with the same command', async () => {
    const c = new FakeCluster();
    c.seed();
    c.copyOutcome = failingCopy;
    const first = await move(c);
    expect(first.error).to.be.instanceOf(StepFailedError);
    expect(first.error?.exitCode).to.equal(EXIT_FAILED);
    expect(first.failed).to.deep.equal(['copy']);
    expect(first.error?.message).to.match(
      /^Step copy failed: copy pod .* failed: tar-failed .*Permission denied/,
    );
    expect(first.error?.message).to.match(
      /Re-run `kubectl pvmove data -n shop --to-class fast --size 2Gi` to resume, or run `kubectl pvmove rollback data -n shop` to undo it\.$/,
    );
    expect(first.error?.message).to.not.include('\n');
    expect(c.pvcs.get('shop/data')?.metadata.uid).to.equal('uid-original');
    expect(c.pvs.get('pv-source')?.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(c.calls.some((x) => x.startsWith('delete pvc'))).to.equal(false);

    c.copyOutcome = { ok: true };
    const second = await move(c);
    expect(second.error).to.equal(undefined);
    expect(second.skipped).to.deep.equal([
      'preflight',
      'record-journal',
      'retain-source-pv',
      'warm-copy', // not needed: no --precopy
      'scale-down',
      'create-target',
      'retain-target-pv',
      'rewrite-template', // not needed: a single claim
    ]);
    expect(second.done[0]).to.equal('copy');
    expect(c.copyPodsCreated).to.equal(2);
    expect(c.pvcs.get('shop/data')?.spec?.storageClassName).to.equal('fast');
  });

  it('refuses a re-run with other flags while a migration is in progress', async () => {
    const c = new FakeCluster();
    c.seed();
    c.copyOutcome = failingCopy;
    await move(c);
    const r = await move(c, request({ size: '5Gi' }));
    expect(r.error).to.be.instanceOf(UsageError);
    expect(r.error?.exitCode).to.equal(EXIT_REFUSED);
    expect(r.error?.message).to.match(
      /in progress with --to-class fast --size 2Gi; resume it with `kubectl pvmove data -n shop --to-class fast --size 2Gi`/,
    );
  });

  it('does nothing on a re-run after it finished, and says so', async () => {
    const c = new FakeCluster();
    c.seed();
    await move(c);
    const calls = c.calls.length;
    const again = await move(c);
    expect(again.error).to.equal(undefined);
    expect(again.skipped).to.have.length(15);
    expect(c.calls.length).to.equal(calls);
  });

  it('stops with both PVs retained when someone re-creates the claim name', async () => {
    const c = new FakeCluster();
    c.seed();
    let armed = true;
    c.onTick = (cl) => {
      // After our deletion of the original claim, an impostor takes the name before the re-creation.
      if (armed && !cl.pvcs.has('shop/data') && cl.calls.includes('delete pvc data')) {
        armed = false;
        cl.pvcs.set('shop/data', {
          metadata: { name: 'data', namespace: 'shop', uid: 'impostor' },
          spec: { storageClassName: 'standard' },
          status: { phase: 'Pending' },
        });
      }
    };
    const r = await move(c);
    expect(r.error).to.be.instanceOf(StepFailedError);
    expect(r.error?.message).to.match(/claim data was created by someone else/);
    expect(c.pvs.get('pv-source')?.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    const target = [...c.pvs.values()].find((p) => p.metadata.name?.startsWith('pv-new-'));
    expect(target?.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
  });

  it('deletes no claim while a pod uses it, even one the API server cache does not show yet', async () => {
    const c = new FakeCluster();
    c.seed();
    let armed = true;
    c.onTick = (cl) => {
      // Once the copy verified, a pod of someone else's starts on the claim; the looks (cached pod
      // lists) do not see it yet, only a consistent list does.
      const copy = [...cl.pods.values()].find(
        (p) => p.metadata.labels?.['pvmove.kubectl.io/role'] === 'copy-pod',
      );
      if (armed && copy?.status?.phase === 'Succeeded') {
        armed = false;
        cl.notCachedYet.add('late');
        cl.pods.set('shop/late', {
          metadata: { name: 'late', namespace: 'shop' },
          spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] },
          status: { phase: 'Running' },
        });
      }
    };
    const r = await move(c);
    expect(r.error).to.be.instanceOf(StepFailedError);
    expect(r.error?.message).to.match(/pod late uses data again/);
    expect(r.failed).to.deep.equal(['release-claims']);
    expect(c.calls.filter((x) => x.startsWith('delete pvc'))).to.deep.equal([]);
    expect(c.pvcs.get('shop/data')?.spec?.volumeName).to.equal('pv-source');
  });

  it('refuses at preflight with exit 2 and changes nothing', async () => {
    const c = new FakeCluster();
    c.seed();
    const r = await move(c, request({ toClass: 'gold' }));
    expect(r.error?.exitCode).to.equal(EXIT_REFUSED);
    expect(r.error?.message).to.match(
      /^StorageClass gold not found; nothing was changed\. Fix that, then run `.*`\.$/,
    );
    expect(c.journals.size).to.equal(0);
    expect(c.calls).to.deep.equal([]);
  });

  it('stops at a safe point when interrupted and says how to resume', async () => {
    const c = new FakeCluster();
    c.seed();
    const ac = new AbortController();
    ac.abort();
    const r = await move(c, request(), ac.signal);
    expect(r.error).to.be.instanceOf(InterruptedError);
    expect(r.error?.exitCode).to.equal(EXIT_INTERRUPTED);
    expect(r.error?.message).to.match(
      /Re-run `kubectl pvmove data -n shop --to-class fast --size 2Gi` to resume\.$/,
    );
  });

  it('cleanup refuses an unfinished migration, then deletes the source PV and the journal', async () => {
    const c = new FakeCluster();
    c.seed();
    c.copyOutcome = failingCopy;
    await move(c);
    const creq = {
      claim: 'data',
      namespace: 'shop',
      timeouts: { deleteMs: 1000 },
      commands: request().commands,
    };
    let refusal: unknown;
    try {
      await prepareCleanup(creq, c);
    } catch (err) {
      refusal = err;
    }
    expect((refusal as PvmoveError).exitCode).to.equal(EXIT_REFUSED);
    expect((refusal as Error).message).to.match(
      /is not finished; finish it with `kubectl pvmove data -n shop --to-class fast --size 2Gi`/,
    );

    c.copyOutcome = { ok: true };
    await move(c);
    const events: PvmoveEvent[] = [];
    const target = await prepareCleanup(creq, c);
    expect(target.sourcePv).to.equal('pv-source');
    await runCleanup(creq, c, (e) => events.push(e), target);
    expect(c.pvs.has('pv-source')).to.equal(false);
    expect(c.journals.size).to.equal(0);
    expect(c.pvs.has(target.targetPv)).to.equal(true);
    expect(events.at(-1)).to.include({ type: 'result', status: 'cleaned' });
  });
});

import { expect } from 'chai';
import { withClaimLock, type ClaimLockOptions } from '../../src/core/claim-lock.js';
import { EXIT_FAILED, EXIT_REFUSED, InterruptedError, PvmoveError } from '../../src/core/errors.js';
import type { PvmoveEvent } from '../../src/core/events.js';
import {
  ANNOTATION_LOCK_COMMAND,
  ANNOTATION_LOCK_PID_NAMESPACE,
  decide,
  identityOf,
  leaseFor,
  lockedError,
  microTime,
  parseIdentity,
  type LeaseRecord,
  type LockOwner,
} from '../../src/core/lock.js';
import { FakeCluster } from './fake-cluster.js';

const NOW = new Date('2025-03-04T10:00:40.000Z');
const me: LockOwner = { host: 'laptop', pid: 200, token: 'aaaa', pidNamespace: 'pid:[1]', command: 'move' };
const target = { namespace: 'shop', claim: 'data' };
const commands = {
  rerun: 'kubectl pvmove data -n shop --to-class fast',
  status: 'kubectl pvmove status data -n shop',
};

function heldBy(identity: string, renewed: string, extra: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    namespace: 'shop',
    name: 'pvmove-data',
    uid: 'u1',
    resourceVersion: '7',
    holderIdentity: identity,
    leaseDurationSeconds: 30,
    acquireTime: '2025-03-04T10:00:00.000000Z',
    renewTime: renewed,
    annotations: { [ANNOTATION_LOCK_COMMAND]: 'rollback', [ANNOTATION_LOCK_PID_NAMESPACE]: 'pid:[1]' },
    ...extra,
  };
}

const alive = () => true;
const dead = () => false;
const verdict = (
  lease: LeaseRecord | undefined,
  opts: { force?: boolean; isAlive?: (p: number) => boolean } = {},
) => decide({ lease, self: me, now: NOW, force: opts.force ?? false, isAlive: opts.isAlive ?? alive });

describe('claim lock: who may take it', () => {
  it('takes a missing or released Lease, and its own', () => {
    expect(verdict(undefined)).to.deep.equal({ take: true, reason: 'free' });
    expect(verdict(heldBy('', '2025-03-04T10:00:39.000000Z'))).to.deep.equal({ take: true, reason: 'free' });
    expect(verdict(heldBy(identityOf(me), '2025-03-04T10:00:39.000000Z'))).to.deep.equal({
      take: true,
      reason: 'mine',
    });
  });

  it('refuses a live holder elsewhere until its renewal is older than the duration plus 5s of skew', () => {
    expect(verdict(heldBy('ci-runner/77/bbbb', '2025-03-04T10:00:39.000000Z'))).to.deep.equal({
      take: false,
    });
    // 35.0s ago: duration 30s + skew 5s not yet passed.
    expect(verdict(heldBy('ci-runner/77/bbbb', '2025-03-04T10:00:05.000000Z'))).to.deep.equal({
      take: false,
    });
    expect(verdict(heldBy('ci-runner/77/bbbb', '2025-03-04T10:00:04.900000Z'))).to.deep.equal({
      take: true,
      reason: 'expired',
    });
    // Its own duration counts, not ours.
    const long = heldBy('ci-runner/77/bbbb', '2025-03-04T09:59:40.000000Z', { leaseDurationSeconds: 120 });
    expect(verdict(long)).to.deep.equal({ take: false });
  });

  it('takes over at once from a process on this host that is gone, never from a live one', () => {
    const fresh = '2025-03-04T10:00:39.000000Z';
    expect(verdict(heldBy('laptop/123/cccc', fresh), { isAlive: dead })).to.deep.equal({
      take: true,
      reason: 'gone',
    });
    expect(verdict(heldBy('laptop/123/cccc', fresh), { isAlive: alive })).to.deep.equal({ take: false });
    // Same pid as ours with another token: an earlier process that had our pid.
    expect(verdict(heldBy('laptop/200/cccc', fresh), { isAlive: alive })).to.deep.equal({
      take: true,
      reason: 'gone',
    });
    // Same hostname, another PID namespace (containers on the host network): its pids mean nothing here.
    const otherNs = heldBy('laptop/123/cccc', fresh, {
      annotations: { [ANNOTATION_LOCK_PID_NAMESPACE]: 'pid:[2]' },
    });
    expect(verdict(otherNs, { isAlive: dead })).to.deep.equal({ take: false });
    // Another host: its pid is not checked here.
    expect(verdict(heldBy('server/123/cccc', fresh), { isAlive: dead })).to.deep.equal({ take: false });
  });

  it('takes a live holder only with --force-unlock', () => {
    const lease = heldBy('other-host/1/x', '2025-03-04T10:00:39.000000Z');
    expect(verdict(lease, { force: true })).to.deep.equal({ take: true, reason: 'forced' });
  });

  it('writes the identity host/pid/token, the command, MicroTimes, and counts transitions', () => {
    expect(parseIdentity('my.host/42/ab12')).to.deep.equal({ host: 'my.host', pid: 42, token: 'ab12' });
    expect(parseIdentity('some-controller')).to.equal(undefined);
    expect(microTime(NOW)).to.equal('2025-03-04T10:00:40.000000Z');
    const taken = leaseFor(target, me, NOW, heldBy('other-host/1/x', '2025-03-04T10:00:39.000000Z'));
    expect(taken).to.deep.include({
      name: 'pvmove-data',
      uid: 'u1',
      resourceVersion: '7',
      holderIdentity: 'laptop/200/aaaa',
      acquireTime: '2025-03-04T10:00:40.000000Z',
      renewTime: '2025-03-04T10:00:40.000000Z',
      leaseTransitions: 1,
    });
    expect(taken.annotations).to.deep.equal({
      [ANNOTATION_LOCK_COMMAND]: 'move',
      [ANNOTATION_LOCK_PID_NAMESPACE]: 'pid:[1]',
    });
    expect(taken.labels).to.deep.equal({
      'app.kubernetes.io/managed-by': 'kubectl-pvmove',
      'pvmove.kubectl.io/claim': 'data',
      'pvmove.kubectl.io/role': 'lock',
    });
  });

  it('refuses in one line: the holder, since when, its last renewal, and what to do', () => {
    const err = lockedError(
      heldBy('ci-runner/77/bbbb', '2025-03-04T10:00:36.500000Z'),
      target,
      NOW,
      commands,
    );
    expect(err.exitCode).to.equal(EXIT_REFUSED);
    expect(err.message).to.equal(
      'claim shop/data is in use by another kubectl pvmove (rollback by ci-runner/77/bbbb since 2025-03-04T10:00:00Z, ' +
        'last renewed 2025-03-04T10:00:36Z, 4s ago; Lease pvmove-data); nothing was changed. ' +
        'Wait until it ends (`kubectl pvmove status data -n shop` shows where it is) or stop it with Ctrl-C; ' +
        'only if that run is surely gone (its machine is down), run `kubectl pvmove data -n shop --to-class fast --force-unlock`.',
    );
  });
});

describe('claim lock: held while a command runs', () => {
  function options(
    c: FakeCluster,
    events: PvmoveEvent[],
    extra: Partial<ClaimLockOptions> = {},
  ): ClaimLockOptions {
    return {
      cluster: c,
      ...target,
      ...commands,
      command: 'move',
      force: false,
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
      owner: me,
      isAlive: alive,
      ...extra,
    };
  }

  it('holds the Lease while the work runs and deletes it afterwards, also when the work fails', async () => {
    const c = new FakeCluster();
    const events: PvmoveEvent[] = [];
    const seen = await withClaimLock(options(c, events), async () => c.getLease('shop', 'pvmove-data'));
    expect(seen?.holderIdentity).to.equal('laptop/200/aaaa');
    expect(c.leases.size).to.equal(0);
    let failed: unknown;
    await withClaimLock(options(c, events), async () => {
      throw new Error('boom');
    }).catch((err: unknown) => (failed = err));
    expect((failed as Error).message).to.equal('boom');
    expect(c.leases.size).to.equal(0);
    expect(events).to.deep.equal([]);
  });

  it('refuses a live holder without running the work or touching its Lease', async () => {
    const c = new FakeCluster();
    const theirs = await c.createLease(heldBy('ci-runner/77/bbbb', microTime(new Date())));
    let ran = false;
    let refused: unknown;
    await withClaimLock(options(c, []), async () => (ran = true)).catch((err: unknown) => (refused = err));
    expect(ran).to.equal(false);
    expect((refused as PvmoveError).exitCode).to.equal(EXIT_REFUSED);
    expect((refused as Error).message)
      .to.contain('ci-runner/77/bbbb')
      .and.contain('--force-unlock');
    expect(await c.getLease('shop', 'pvmove-data')).to.deep.equal(theirs);
  });

  it('--force-unlock takes it over and says from whom', async () => {
    const c = new FakeCluster();
    await c.createLease(heldBy('ci-runner/77/bbbb', microTime(new Date())));
    const events: PvmoveEvent[] = [];
    const holder = await withClaimLock(options(c, events, { force: true }), async () =>
      c.getLease('shop', 'pvmove-data'),
    );
    expect(holder?.holderIdentity).to.equal('laptop/200/aaaa');
    expect(holder?.leaseTransitions).to.equal(1);
    expect(events).to.have.length(1);
    expect(events[0]).to.deep.include({ type: 'warning' });
    expect((events[0] as { message: string }).message)
      .to.contain('ci-runner/77/bbbb')
      .and.contain('--force-unlock');
    expect(c.leases.size).to.equal(0);
  });

  it('renews the Lease while the work runs, and writes it as ours again after someone cleared it', async () => {
    const c = new FakeCluster();
    const until = async (what: (l: LeaseRecord | undefined) => boolean) => {
      for (let i = 0; i < 200 && !what(await c.getLease('shop', 'pvmove-data')); i++)
        await new Promise((r) => setTimeout(r, 5));
    };
    await withClaimLock(options(c, [], { renewMs: 5 }), async () => {
      const first = (await c.getLease('shop', 'pvmove-data'))!;
      await until((l) => Number(l?.resourceVersion) > Number(first.resourceVersion));
      const renewed = (await c.getLease('shop', 'pvmove-data'))!;
      expect(renewed.holderIdentity).to.equal('laptop/200/aaaa');
      expect(renewed.acquireTime).to.equal(first.acquireTime);
      await c.replaceLease({ ...renewed, holderIdentity: undefined });
      await until((l) => l?.holderIdentity === 'laptop/200/aaaa');
      expect((await c.getLease('shop', 'pvmove-data'))?.holderIdentity).to.equal('laptop/200/aaaa');
    });
    expect(c.leases.size).to.equal(0);
  });

  it('names the missing Lease permissions when the Lease cannot be read (before the preflight checks access)', async () => {
    const c = new FakeCluster();
    c.getLease = async () => {
      throw new Error('get Lease shop/pvmove-data: 403 leases.coordination.k8s.io is forbidden');
    };
    c.denied = ['get leases', 'update leases'];
    let refused: unknown;
    await withClaimLock(options(c, []), async () => undefined).catch((err: unknown) => (refused = err));
    expect((refused as PvmoveError).exitCode).to.equal(EXIT_REFUSED);
    expect((refused as Error).message).to.match(
      /^missing permissions: get leases\.coordination\.k8s\.io in shop, update leases\.coordination\.k8s\.io in shop; ask a cluster admin/,
    );
  });

  it('stops the work when another run takes the Lease over, and says who has it; their Lease stays', async () => {
    const c = new FakeCluster();
    let aborted = false;
    let lost: unknown;
    await withClaimLock(options(c, [], { renewMs: 5 }), async (signal) => {
      const mine = (await c.getLease('shop', 'pvmove-data'))!;
      await c.replaceLease({
        ...mine,
        holderIdentity: 'desk/9/dddd',
        annotations: { [ANNOTATION_LOCK_COMMAND]: 'rollback' },
      });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      aborted = true;
      throw new InterruptedError('before step copy', 'kubectl pvmove data -n shop');
    }).catch((err: unknown) => (lost = err));
    expect(aborted).to.equal(true);
    expect((lost as PvmoveError).exitCode).to.equal(EXIT_FAILED);
    expect((lost as Error).message).to.match(
      /^the lock on claim shop\/data \(Lease pvmove-data\) was taken over by rollback by desk\/9\/dddd since .*, so this run stopped at a safe point\. That run now acts on the claim: `kubectl pvmove status data -n shop` shows where it is\.$/,
    );
    expect((await c.getLease('shop', 'pvmove-data'))?.holderIdentity).to.equal('desk/9/dddd');
  });
});

// Holds the claim's lock (src/core/lock.ts) while a command that changes the claim runs: taken
// before anything is read for the plan, renewed on a timer, released when the command ends
// (success, failure or Ctrl-C). Losing it (taken over with --force-unlock elsewhere, or not
// renewable for a whole lease duration) aborts the command at its next safe point.
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { lockPermissions, missingPermissionsProblem } from './access.js';
import type { ClusterPort } from './cluster.js';
import { ConflictProblem, describe, PreflightError, PvmoveError } from './errors.js';
import type { Emit } from './events.js';
import {
  decide,
  identityOf,
  leaseFor,
  LOCK_DURATION_SECONDS,
  LOCK_RENEW_MS,
  lockedError,
  lockName,
  LockLostError,
  takeoverMessage,
  type LeaseRecord,
  type LockCommand,
  type LockCommands,
  type LockLoss,
  type LockOwner,
  type LockTarget,
} from './lock.js';

export interface ClaimLockOptions extends LockTarget, LockCommands {
  cluster: ClusterPort;
  command: LockCommand;
  /** --force-unlock: take the lock from a holder that still looks alive. */
  force: boolean;
  emit: Emit;
  /** The user's Ctrl-C; the work gets it combined with the loss of the lock. */
  signal: AbortSignal;
  // Injected by the unit tests.
  owner?: LockOwner;
  now?: () => Date;
  isAlive?: (pid: number) => boolean;
  renewMs?: number;
}

/** Runs `work` holding the claim's lock; refuses (exit 2, nothing changed) if another run holds it. */
export async function withClaimLock<T>(
  o: ClaimLockOptions,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const owner = o.owner ?? currentOwner(o.command);
  const now = o.now ?? (() => new Date());
  const held = await acquire(o, owner, now);
  const lost = new AbortController();
  let loss: LockLoss | undefined;
  const renewal = keepRenewing(o, owner, now, held, (why) => {
    loss = why;
    lost.abort();
  });
  try {
    return await work(AbortSignal.any([o.signal, lost.signal]));
  } catch (err) {
    if (loss && !o.signal.aborted) throw new LockLostError(o, loss, now(), o);
    throw err;
  } finally {
    const last = await renewal.stop();
    if (!loss) await release(o, last);
  }
}

export function currentOwner(command: LockCommand): LockOwner {
  let pidNamespace: string | undefined;
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid'); // "pid:[4026531836]"; Linux only
  } catch {
    pidNamespace = undefined;
  }
  return {
    host: hostname(),
    pid: process.pid,
    token: randomBytes(4).toString('hex'),
    ...(pidNamespace ? { pidNamespace } : {}),
    command,
  };
}

/** Signal 0 checks that a process exists; EPERM means it does, as another user's. */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function acquire(o: ClaimLockOptions, owner: LockOwner, now: () => Date): Promise<LeaseRecord> {
  const name = lockName(o.claim);
  try {
    // A conflict means another run wrote the Lease between our read and our write: read again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await o.cluster.getLease(o.namespace, name);
      const verdict = decide({
        lease: current,
        self: owner,
        now: now(),
        force: o.force,
        isAlive: o.isAlive ?? processIsAlive,
      });
      if (!verdict.take) throw lockedError(current!, o, now(), o);
      const desired = leaseFor(o, owner, now(), current);
      try {
        const got = current ? await o.cluster.replaceLease(desired) : await o.cluster.createLease(desired);
        if (!got) continue; // deleted since we read it
        const taken = current && takeoverMessage(current, verdict.reason, now());
        if (taken) o.emit({ type: 'warning', message: taken });
        return got;
      } catch (err) {
        if (err instanceof ConflictProblem) continue;
        throw err;
      }
    }
    throw new PreflightError(
      `the Lease ${o.namespace}/${name} kept changing while this run tried to take it`,
      o.rerun,
    );
  } catch (err) {
    if (err instanceof PvmoveError) throw err;
    // A 403 here comes before the preflight's own permission check: name what is missing.
    const missing = await o.cluster.missingPermissions(lockPermissions(o.namespace)).catch(() => []);
    if (missing.length > 0) throw new PreflightError(missingPermissionsProblem(missing), o.rerun);
    throw err;
  }
}

/** Renews every renewMs; reports a loss once, then stops. `stop` returns the last Lease written. */
function keepRenewing(
  o: ClaimLockOptions,
  owner: LockOwner,
  now: () => Date,
  held: LeaseRecord,
  onLost: (why: LockLoss) => void,
): { stop: () => Promise<LeaseRecord> } {
  let current = held;
  let renewedAt = Date.now();
  let lastError = '';
  let done = false;
  let inFlight: Promise<void> | undefined;
  const durationMs = LOCK_DURATION_SECONDS * 1000;
  const lose = (why: LockLoss): void => {
    if (done) return;
    done = true;
    clearInterval(timer);
    onLost(why);
  };

  const renew = async (): Promise<void> => {
    try {
      // leaseFor, not only a new renewTime: a Lease someone cleared by hand is written as ours again.
      const next = await o.cluster.replaceLease(leaseFor(o, owner, now(), current));
      // Deleted by hand: it is still ours to hold, so write it again.
      current = next ?? (await o.cluster.createLease(leaseFor(o, owner, now())));
      renewedAt = Date.now();
    } catch (err) {
      if (err instanceof ConflictProblem) {
        const fresh = await o.cluster.getLease(o.namespace, current.name).catch(() => undefined);
        if (fresh?.holderIdentity && fresh.holderIdentity !== identityOf(owner)) {
          lose({ takenBy: fresh });
          return;
        }
        if (fresh) current = fresh; // written by us in a retried request: renew it next time
      }
      lastError = describe(err);
    }
    if (Date.now() - renewedAt > durationMs) lose({ unrenewedMs: Date.now() - renewedAt, error: lastError });
  };

  const timer = setInterval(() => {
    if (done) return;
    // A hung request must not hide that the lease ran out meanwhile.
    if (inFlight) {
      if (Date.now() - renewedAt > durationMs)
        lose({ unrenewedMs: Date.now() - renewedAt, error: lastError || 'no answer from the API server' });
      return;
    }
    inFlight = renew().finally(() => (inFlight = undefined));
  }, o.renewMs ?? LOCK_RENEW_MS);
  timer.unref();

  return {
    stop: async () => {
      done = true;
      clearInterval(timer);
      await inFlight;
      return current;
    },
  };
}

/** Deletes the Lease if it is still the one we wrote; someone who took it over keeps theirs. */
async function release(o: ClaimLockOptions, lease: LeaseRecord): Promise<void> {
  try {
    if (!lease.uid || !lease.resourceVersion) return;
    const deleted = await o.cluster.deleteLease(o.namespace, lease.name, lease.uid, lease.resourceVersion);
    if (deleted) return;
    const fresh = await o.cluster.getLease(o.namespace, lease.name);
    // Our own retried renewal changed the resourceVersion: delete that one.
    if (fresh && fresh.holderIdentity === lease.holderIdentity && fresh.uid && fresh.resourceVersion)
      await o.cluster.deleteLease(o.namespace, lease.name, fresh.uid, fresh.resourceVersion);
  } catch (err) {
    o.emit({
      type: 'warning',
      message: `could not release the lock on the claim (Lease ${o.namespace}/${lease.name}): ${describe(err)}; it expires by itself ${LOCK_DURATION_SECONDS}s after its last renewal`,
    });
  }
}

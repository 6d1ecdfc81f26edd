// One run at a time per claim: a coordination.k8s.io/v1 Lease named like the journal
// (`pvmove-<claim>`) in the claim's namespace. Pure decisions and messages; src/core/claim-lock.ts
// takes, renews and releases the Lease through the ClusterPort.
import { LABEL_CLAIM, LABEL_MANAGED_BY, LABEL_PREFIX, LABEL_ROLE, MANAGED_BY } from './defaults.js';
import { EXIT_FAILED, PvmoveError, UsageError } from './errors.js';
import type { Role } from './manifests.js';
import { claimLabelValue, journalName } from './names.js';
import type { Labels } from './types.js';

/** A holder that stops renewing loses the lock after this long (client-go's leader election uses 15s). */
export const LOCK_DURATION_SECONDS = 30;
/** Renewed three times per duration, so one or two failed renewals do not lose it. */
export const LOCK_RENEW_MS = 10_000;
/** renewTime is written with the holder's clock: a difference this large between clocks is tolerated. */
export const LOCK_SKEW_MS = 5_000;

export const ANNOTATION_LOCK_COMMAND = `${LABEL_PREFIX}/command`;
/** The holder's PID namespace: two containers may share a hostname (host network), not PIDs. */
export const ANNOTATION_LOCK_PID_NAMESPACE = `${LABEL_PREFIX}/pid-namespace`;

export type LockCommand = 'move' | 'resume' | 'rollback' | 'cleanup';

/** A Lease as the core sees it; src/kube/facade.ts maps coordination.k8s.io/v1 Leases to it. */
export interface LeaseRecord {
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** RFC 3339 with microseconds, as the API server wants a MicroTime. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** This process, as it names itself in the Lease. */
export interface LockOwner {
  host: string;
  pid: number;
  /** Random per run: a re-used pid on the same host is not mistaken for this run. */
  token: string;
  pidNamespace?: string;
  command: LockCommand;
}

export interface LockTarget {
  namespace: string;
  claim: string;
}

export function lockName(claim: string): string {
  return journalName(claim);
}

export function identityOf(o: Pick<LockOwner, 'host' | 'pid' | 'token'>): string {
  return `${o.host}/${o.pid}/${o.token}`;
}

/** `host/pid/token`, read from the right (a host name has no '/'; a foreign identity may not parse). */
export function parseIdentity(id: string): { host: string; pid: number; token: string } | undefined {
  const m = /^(.+)\/(\d+)\/([^/]*)$/.exec(id);
  return m ? { host: m[1]!, pid: Number(m[2]), token: m[3]! } : undefined;
}

/** MicroTime: the API server parses exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

export function lockLabels(claim: string): Labels {
  const role: Role = 'lock';
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_CLAIM]: claimLabelValue(claim), [LABEL_ROLE]: role };
}

/** The Lease this owner writes: new, renewed (same holder) or taken over (`current` held by another). */
export function leaseFor(
  target: LockTarget,
  owner: LockOwner,
  now: Date,
  current?: LeaseRecord,
): LeaseRecord {
  const identity = identityOf(owner);
  const kept = current?.holderIdentity === identity;
  return {
    namespace: target.namespace,
    name: lockName(target.claim),
    ...(current?.uid ? { uid: current.uid } : {}),
    ...(current?.resourceVersion ? { resourceVersion: current.resourceVersion } : {}),
    labels: lockLabels(target.claim),
    annotations: {
      [ANNOTATION_LOCK_COMMAND]: owner.command,
      ...(owner.pidNamespace ? { [ANNOTATION_LOCK_PID_NAMESPACE]: owner.pidNamespace } : {}),
    },
    holderIdentity: identity,
    leaseDurationSeconds: LOCK_DURATION_SECONDS,
    acquireTime: kept && current?.acquireTime ? current.acquireTime : microTime(now),
    renewTime: microTime(now),
    leaseTransitions: (current?.leaseTransitions ?? 0) + (current?.holderIdentity && !kept ? 1 : 0),
  };
}

export type TakeReason = 'free' | 'mine' | 'expired' | 'gone' | 'forced';
export type Verdict = { take: true; reason: TakeReason } | { take: false };

export interface DecideInput {
  lease: LeaseRecord | undefined;
  self: LockOwner;
  now: Date;
  force: boolean;
  /** process.kill(pid, 0) on this host: false only when no such process exists. */
  isAlive: (pid: number) => boolean;
}

/** When the holder's last renewal runs out, by its own clock plus the tolerated skew. */
export function expiresAt(lease: LeaseRecord): number | undefined {
  const last = Date.parse(lease.renewTime ?? lease.acquireTime ?? '');
  if (Number.isNaN(last)) return undefined;
  return last + (lease.leaseDurationSeconds ?? LOCK_DURATION_SECONDS) * 1000 + LOCK_SKEW_MS;
}

/**
 * Can this run take the lock? A free or released Lease, our own, an expired one, one whose holder
 * was a process on this host that no longer exists (a re-run right after a crash or SIGKILL must
 * not wait for the expiry), or any with --force-unlock.
 */
export function decide(i: DecideInput): Verdict {
  const holder = i.lease?.holderIdentity;
  if (!i.lease || !holder) return { take: true, reason: 'free' };
  if (holder === identityOf(i.self)) return { take: true, reason: 'mine' };
  const expiry = expiresAt(i.lease);
  if (expiry === undefined || expiry < i.now.getTime()) return { take: true, reason: 'expired' };
  if (holderIsGone(i.lease, i.self, i.isAlive)) return { take: true, reason: 'gone' };
  if (i.force) return { take: true, reason: 'forced' };
  return { take: false };
}

function holderIsGone(lease: LeaseRecord, self: LockOwner, isAlive: (pid: number) => boolean): boolean {
  const h = parseIdentity(lease.holderIdentity ?? '');
  if (!h || h.host !== self.host) return false;
  // Another PID namespace with the same hostname (containers on the host network): its pids mean
  // nothing here. Without the annotation on either side (not Linux), the hostname decides.
  const theirs = lease.annotations?.[ANNOTATION_LOCK_PID_NAMESPACE];
  if (theirs && self.pidNamespace && theirs !== self.pidNamespace) return false;
  // Our own pid with another token: an earlier process that had this pid, not us.
  if (h.pid === self.pid) return true;
  return !isAlive(h.pid);
}

function secondsAgo(time: string | undefined, now: Date): string {
  const t = Date.parse(time ?? '');
  return Number.isNaN(t) ? '' : `, ${Math.max(0, Math.round((now.getTime() - t) / 1000))}s ago`;
}

/** "rollback by host/123/ab12 since 2025-01-02T03:04:05Z, last renewed 2025-...Z, 4s ago". */
export function describeHolder(lease: LeaseRecord, now: Date): string {
  const command = lease.annotations?.[ANNOTATION_LOCK_COMMAND] ?? 'a run';
  const plain = (t?: string) => (t ? t.replace(/\.\d+Z$/, 'Z') : 'unknown');
  return (
    `${command} by ${lease.holderIdentity ?? '?'} since ${plain(lease.acquireTime)}, ` +
    `last renewed ${plain(lease.renewTime)}${secondsAgo(lease.renewTime, now)}`
  );
}

export interface LockCommands {
  /** The command this run was, to repeat with --force-unlock. */
  rerun: string;
  /** Where the other run is. */
  status: string;
}

/** The refusal: exit 2, before anything was read or changed beyond the Lease itself. */
export function lockedError(lease: LeaseRecord, target: LockTarget, now: Date, c: LockCommands): UsageError {
  return new UsageError(
    `claim ${target.namespace}/${target.claim} is in use by another kubectl pvmove (${describeHolder(lease, now)}; Lease ${lease.name}); nothing was changed`,
    `Wait until it ends (\`${c.status}\` shows where it is) or stop it with Ctrl-C; only if that run is surely gone (its machine is down), run \`${c.rerun} --force-unlock\`.`,
  );
}

/** The warning printed when a dead or forced holder's lock is taken over. */
export function takeoverMessage(lease: LeaseRecord, reason: TakeReason, now: Date): string | undefined {
  const why =
    reason === 'expired'
      ? `it was not renewed for more than ${lease.leaseDurationSeconds ?? LOCK_DURATION_SECONDS}s`
      : reason === 'gone'
        ? 'its process on this host is gone'
        : reason === 'forced'
          ? '--force-unlock'
          : undefined;
  if (!why) return undefined;
  return `took over the lock on the claim (Lease ${lease.name}) from ${describeHolder(lease, now)}: ${why}`;
}

/** Why a running command lost its lock. */
export type LockLoss = { takenBy: LeaseRecord } | { unrenewedMs: number; error: string };

/** The lock was taken over (--force-unlock elsewhere) or could not be renewed: stopped at a safe point. */
export class LockLostError extends PvmoveError {
  readonly exitCode = EXIT_FAILED;
  constructor(target: LockTarget, loss: LockLoss, now: Date, c: LockCommands) {
    const lease = lockName(target.claim);
    super(
      'takenBy' in loss
        ? `the lock on claim ${target.namespace}/${target.claim} (Lease ${lease}) was taken over by ${describeHolder(loss.takenBy, now)}, so this run stopped at a safe point`
        : `the lock on claim ${target.namespace}/${target.claim} (Lease ${lease}) could not be renewed for ${Math.round(loss.unrenewedMs / 1000)}s (${loss.error}), so this run stopped at a safe point`,
      'takenBy' in loss
        ? `That run now acts on the claim: \`${c.status}\` shows where it is.`
        : `Run \`${c.status}\` to see where it stopped, then \`${c.rerun}\` to continue.`,
    );
    this.name = 'LockLostError';
  }
}

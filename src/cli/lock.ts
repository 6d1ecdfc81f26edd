// The claim's lock around the commands that change a claim (move, resume, rollback, cleanup), and
// their --force-unlock flag. Dry runs, status and list only read, and take no lock.
import type { Argv } from 'yargs';
import { withClaimLock } from '../core/claim-lock.js';
import type { ClusterPort } from '../core/cluster.js';
import { statusCommand, type Commands } from '../core/commands.js';
import type { Emit } from '../core/events.js';
import type { LockCommand } from '../core/lock.js';
import type { CliOptions } from './request.js';

export function withForceUnlock<T>(y: Argv<T>) {
  return y.option('force-unlock', {
    type: 'boolean',
    describe: "Take the claim's lock from another run that holds it; only if that run is surely gone",
  });
}

export interface Locked {
  cluster: ClusterPort;
  req: { claim: string; namespace: string; commands: Commands };
  cli: CliOptions;
  command: LockCommand;
  emit: Emit;
  signal: AbortSignal;
}

/** Runs `work` holding the claim's lock; `work` gets the signal to honour (Ctrl-C or the lock lost). */
export function whileLocked<T>(l: Locked, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { claim, namespace, commands } = l.req;
  return withClaimLock(
    {
      cluster: l.cluster,
      namespace,
      claim,
      command: l.command,
      force: l.cli.forceUnlock,
      // Printed with --force-unlock in a refusal (resume: the move command, which does the same).
      rerun:
        l.command === 'rollback'
          ? commands.rollback
          : l.command === 'cleanup'
            ? commands.cleanup
            : commands.resume,
      status: statusCommand({ claim, namespace, kubeArgs: commands.kubeArgs }),
      emit: l.emit,
      signal: l.signal,
    },
    work,
  );
}

export interface LockedAll extends Omit<Locked, 'req'> {
  req: { claims: string[]; namespace: string; commands: Commands };
}

/**
 * Runs `work` holding the lock of every claim of a batch. The locks are taken one inside the other
 * in sorted order, so of two batches that share claims one gets them all and the other refuses at
 * the first claim they share (never each holding some of them, both refused).
 */
export function whileLockedAll<T>(l: LockedAll, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const claims = [...new Set(l.req.claims)].sort();
  const { namespace, commands } = l.req;
  const take = (i: number, signal: AbortSignal): Promise<T> =>
    i === claims.length
      ? work(signal)
      : whileLocked({ ...l, req: { claim: claims[i]!, namespace, commands }, signal }, (inner) =>
          take(i + 1, inner),
        );
  return take(0, l.signal);
}

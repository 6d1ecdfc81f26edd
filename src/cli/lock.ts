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

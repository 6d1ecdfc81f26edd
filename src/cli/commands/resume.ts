// `kubectl pvmove resume <claim>`: continue an interrupted migration with the class and size its
// journal recorded; the same as re-running the original command. Copy flags (--image, placement,
// timeouts) may be given again, e.g. to fix an image that could not be pulled.
import type { Argv, CommandModule } from 'yargs';
import { PreflightError, UsageError } from '../../core/errors.js';
import { readClaimJournal } from '../../core/journal-store.js';
import { compareQuantities } from '../../core/quantity.js';
import { kubeTarget } from '../flags.js';
import { runMove, withMoveFlags } from './move.js';
import type { Io } from '../render/types.js';
import type { MoveArgv } from '../request.js';
import type { Connection } from '../../kube/connect.js';

export async function runResume(argv: MoveArgv, io: Io): Promise<void> {
  const { connect } = await import('../../kube/connect.js');
  if (!argv.claim)
    throw new UsageError('name the claim whose migration to resume, e.g. `kubectl pvmove resume data`');
  const connection: Connection = connect(kubeTarget(argv, io.env));
  const namespace = argv.namespace ?? connection.namespace;
  const stored = await readClaimJournal(connection.cluster, namespace, argv.claim);
  if (!stored) {
    throw new PreflightError(
      `no migration of claim ${argv.claim} is recorded in namespace ${namespace}, so there is nothing to resume`,
      `kubectl pvmove ${argv.claim} -n ${namespace} --to-class CLASS --size SIZE`,
    );
  }
  const j = stored.journal;
  if (j.phase === 'rolled-back') {
    throw new UsageError(
      `migration ${j.migrationId} of claim ${argv.claim} was rolled back; nothing to resume`,
      `Start a new one with \`kubectl pvmove ${argv.claim} -n ${namespace} --to-class ${j.request.toClass} --size ${j.request.size}\`.`,
    );
  }
  // Class and size come from the journal; a different one on the command line is a different
  // migration, which must not be silently ignored.
  const sameSize = (given: string) => {
    try {
      return compareQuantities(given, j.request.size) === 0;
    } catch {
      return false;
    }
  };
  if ((argv.toClass && argv.toClass !== j.request.toClass) || (argv.size && !sameSize(argv.size))) {
    throw new UsageError(
      `migration ${j.migrationId} of claim ${argv.claim} moves to class ${j.request.toClass} at ${j.request.size} and resume cannot change that; nothing was changed`,
      `Run \`kubectl pvmove resume ${argv.claim} -n ${namespace}\` without --to-class/--size, or \`kubectl pvmove rollback ${argv.claim} -n ${namespace}\` first.`,
    );
  }
  const resumed: MoveArgv = {
    ...argv,
    namespace,
    toClass: j.request.toClass,
    size: j.request.size,
    verify: argv.verify ?? j.request.verify,
  };
  if (stored.document.claims.length > 1 || stored.document.resume !== undefined) {
    // A claim of a batch: the batch is resumed as a whole, with every claim it holds.
    const names = stored.document.claims.map((c) => c.name);
    const { runBatchMove } = await import('./batch-move.js');
    return runBatchMove({ ...resumed, claims: names }, io, { kind: 'names', names }, 'resume');
  }
  await runMove(
    {
      ...argv,
      namespace,
      toClass: j.request.toClass,
      size: j.request.size,
      verify: argv.verify ?? j.request.verify,
    },
    io,
    'resume',
  );
}

export const resumeCommand: CommandModule<object, MoveArgv> = {
  command: 'resume [claim]',
  describe: 'Continue an interrupted migration from its journal (same as re-running the move)',
  builder: (y: Argv) => {
    const base = withMoveFlags(y).positional('claim', {
      type: 'string',
      describe: 'Name of the PersistentVolumeClaim',
    });
    // Class and size come from the journal; verify defaults to the recorded mode.
    return base.option('verify', {
      type: 'string',
      default: undefined,
      describe: 'Verification mode (default: as recorded)',
    }) as unknown as Argv<MoveArgv>;
  },
  handler: () => undefined,
};

// `kubectl pvmove cleanup <claim>`: after a finished migration, release the retained source PV and
// delete the journal. Refuses anything else.
import type { Argv, CommandModule } from 'yargs';
import { prepareCleanup, runCleanup } from '../../core/cleanup.js';
import { confirmOrStop, isInteractive } from '../confirm.js';
import { connectAfterFlags, endWithOutcome, rendererFor } from '../command-frame.js';
import { withKubeFlags } from '../flags.js';
import type { Io } from '../render/types.js';
import { completeCleanupRequest, type CleanupArgv } from '../request.js';
import { withForceUnlock, whileLocked } from '../lock.js';
import { withTimeoutFlags } from '../timeout-flags.js';

export async function runCleanupCommand(argv: CleanupArgv, io: Io): Promise<void> {
  const { request: req, cli, connection } = await connectAfterFlags(argv, io, completeCleanupRequest);
  const renderer = await rendererFor(io, cli.output, connection.target);
  const cluster = connection.cluster;
  // Quick and not interruptible: the lock only keeps a move or rollback from running meanwhile.
  const cleanup = async (): Promise<void> => {
    const target = await prepareCleanup(req, cluster);
    if (cli.output !== 'json' && isInteractive(io) && !cli.yes) {
      io.stdout.write(
        `Migration ${target.migrationId} of ${req.namespace}/${req.claim} is finished; the claim is on PV ${target.targetPv}.\n` +
          `Cleanup releases the old PV ${target.sourcePv} (original reclaim policy ${target.sourcePolicy}) and deletes the journal.\n`,
      );
      await confirmOrStop(io, `Delete PV ${target.sourcePv}?`, req.commands.cleanup);
    }
    renderer.begin([
      { id: 'delete-source-pv', title: `Release source PV ${target.sourcePv}` },
      { id: 'delete-journal', title: 'Delete the journal' },
    ]);
    await runCleanup(req, cluster, renderer.emit, target);
  };
  await endWithOutcome(renderer, () =>
    whileLocked({ cluster, req, cli, command: 'cleanup', emit: renderer.emit, signal: io.signal }, cleanup),
  );
}

export const cleanupCommand: CommandModule<object, CleanupArgv> = {
  command: 'cleanup [claim]',
  describe: 'After a finished move: delete the retained source PV and the journal',
  builder: (y: Argv) =>
    withTimeoutFlags(
      withForceUnlock(withKubeFlags(y)).positional('claim', {
        type: 'string',
        describe: 'Name of the moved PersistentVolumeClaim',
      }),
      { deleteMs: 'Max wait for the PV to be deleted' },
    ).example(
      '$0 cleanup data -n shop',
      'Delete the old PV of claim shop/data',
    ) as unknown as Argv<CleanupArgv>,
  handler: () => undefined, // replaced in app.ts, which owns the Io
};

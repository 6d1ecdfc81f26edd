// `kubectl pvmove rollback <claim>`: back to the original PV from any point before cleanup. After
// the application ran on the new PV (finished, or scale-up started), the target PV is kept
// (Retain) with what was written since, and the user must confirm (--yes off a terminal).
import type { Argv, CommandModule } from 'yargs';
import { UNDO_ITINERARY } from '../../core/itinerary.js';
import { prepareRollback, runRollback } from '../../core/rollback.js';
import { UsageError } from '../../core/errors.js';
import { confirmOrStop, isInteractive } from '../confirm.js';
import { connectAfterFlags, endWithOutcome, rendererFor } from '../command-frame.js';
import { withKubeFlags } from '../flags.js';
import type { Io } from '../render/types.js';
import { completeRollbackRequest, type RollbackArgv } from '../request.js';
import { withForceUnlock, whileLocked } from '../lock.js';
import { withTimeoutFlags } from '../timeout-flags.js';

export async function runRollbackCommand(argv: RollbackArgv, io: Io): Promise<void> {
  const { request: req, cli, connection } = await connectAfterFlags(argv, io, completeRollbackRequest);
  const renderer = await rendererFor(io, cli.output, connection.target);
  const cluster = connection.cluster;
  const rollback = async (signal: AbortSignal): Promise<void> => {
    const prepared = await prepareRollback(req, cluster);
    const plan = prepared.plan;
    if (plan.keepTargetPv && !plan.alreadyRolledBack && !cli.yes) {
      const warning =
        `Migration ${plan.migrationId} of ${req.namespace}/${req.claim} ${plan.phase === 'finished' ? 'is finished' : 'got as far as restarting the owners'}: ` +
        `anything written since the move is on the new PV ${plan.targetPv ?? '?'}, not on the original PV ${plan.sourcePv}. ` +
        `Rollback puts the claim back on ${plan.sourcePv} (the data as it was before the move) and keeps ${plan.targetPv ?? 'the new PV'} (Retain, Released).`;
      if (cli.output === 'json' || !isInteractive(io)) {
        throw new UsageError(
          `${warning} Nothing was changed`,
          `Run \`${req.commands.rollback} --yes\` to roll back anyway.`,
        );
      }
      io.stdout.write(`${warning}\n`);
      await confirmOrStop(io, 'Roll back to the pre-move data?', req.commands.rollback);
    }
    renderer.begin(UNDO_ITINERARY.map((s) => ({ id: s.id, title: s.title })));
    await runRollback(req, { cluster, emit: renderer.emit, signal }, prepared);
  };
  await endWithOutcome(renderer, () =>
    whileLocked({ cluster, req, cli, command: 'rollback', emit: renderer.emit, signal: io.signal }, rollback),
  );
}

export const rollbackCommand: CommandModule<object, RollbackArgv> = {
  command: 'rollback [claim]',
  describe: 'Undo a migration: the claim back on its original PV, owners and policies as they were',
  builder: (y: Argv) =>
    withTimeoutFlags(
      withForceUnlock(withKubeFlags(y)).positional('claim', {
        type: 'string',
        describe: 'Name of the PersistentVolumeClaim',
      }),
      {
        bindMs: 'Max wait for the claim to bind',
        scaleMs: 'Max wait for pods to stop',
        deleteMs: 'Max wait for deletions',
        readyMs: 'Max wait for owners to be ready',
      },
    ).example(
      '$0 rollback data -n shop',
      'Put claim shop/data back on its original PV',
    ) as unknown as Argv<RollbackArgv>,
  handler: () => undefined, // replaced in app.ts, which owns the Io
};

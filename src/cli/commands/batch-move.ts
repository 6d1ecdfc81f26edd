// A move of several claims as one migration (a batch): statefulset/NAME, -l SELECTOR,
// --from-class CLASS (each namespace of -A its own batch, one after the other), or several names.
// The same shape as a single move: plan, confirm on a terminal, every claim's lock, run.
import { ITINERARY } from '../../core/itinerary.js';
import type { PreparedBatch } from '../../core/batch.js';
import { prepareBatch, runBatch } from '../../core/batch.js';
import { tarEngine } from '../../engines/tar/index.js';
import { blockEngine } from '../../engines/block/index.js';
import { confirmOrStop, isInteractive } from '../confirm.js';
import { connectAfterFlags, endWithOutcome, rendererFor, emitWithKillHook } from '../command-frame.js';
import type { Io } from '../render/types.js';
import { completeBatchRequest, type MoveArgv } from '../request.js';
import { resolveSelection, type Selection } from '../selection.js';
import { whileLockedAll } from '../lock.js';

export async function runBatchMove(
  argv: MoveArgv,
  io: Io,
  selection: Selection,
  command: 'move' | 'resume' = 'move',
): Promise<void> {
  const {
    request: batch,
    cli,
    connection,
  } = await connectAfterFlags(argv, io, (a, contextNamespace) =>
    completeBatchRequest(a, selection, contextNamespace),
  );
  const renderer = await rendererFor(io, cli.output, connection.target);
  const { emit, kill } = emitWithKillHook(renderer, io.env);
  const cluster = connection.cluster;
  const requests = connection.requests;
  await endWithOutcome(renderer, async () => {
    try {
      // Reading which claims are selected changes nothing: no lock yet.
      const groups = await resolveSelection(cluster, selection, batch.namespace);
      for (const group of groups) {
        const b = batch.batchFor(group);
        const commands = b.base.commands;
        const move = async (signal: AbortSignal): Promise<void> => {
          const deps = {
            cluster,
            engine: tarEngine,
            blockEngine,
            emit,
            signal,
            afterStep: kill,
            claimInEvents: true,
          };
          const prepared = await prepareBatch(b, deps);
          if (prepared.claims.length === 0) {
            renderer.emit({
              type: 'result',
              status: 'nothing-to-do',
              migrationId: prepared.migrationId,
              message: nothingToDoMessage(prepared, group.namespace),
            });
            return;
          }
          for (const plan of prepared.plans)
            renderer.emit({ type: 'plan', migrationId: prepared.migrationId, plan });
          if (cli.dryRun) {
            await renderer.showBatchPlan(prepared, true);
            renderer.emit({
              type: 'result',
              status: 'dry-run',
              migrationId: prepared.migrationId,
              message: `Dry run: nothing was changed. Run \`${commands.resume}\` to move ${prepared.claims.length === 1 ? 'the claim' : `the ${prepared.claims.length} claims`}.`,
              next: commands.resume,
            });
            return;
          }
          if (cli.output !== 'json' && isInteractive(io) && !cli.yes) {
            await renderer.showBatchPlan(prepared, false);
            await confirmOrStop(
              io,
              `Start the migration of ${claimsText(prepared.claims.length)} in namespace ${group.namespace}?`,
              commands.resume,
            );
          }
          renderer.begin(
            ITINERARY.map((s) => ({ id: s.id, title: s.title })),
            prepared.claims.map((c) => c.plan.claim.name),
          );
          await runBatch(b, deps, prepared);
        };
        // A dry run changes nothing, so it neither takes the locks nor waits for them.
        if (cli.dryRun) await move(io.signal);
        else
          await whileLockedAll(
            {
              cluster,
              req: { claims: b.claims, namespace: group.namespace, commands },
              cli,
              command,
              emit,
              signal: io.signal,
            },
            move,
          );
      }
    } finally {
      if (requests) renderer.emit({ type: 'info', message: requests.summary() });
    }
  });
}

function claimsText(n: number): string {
  return n === 1 ? '1 claim' : `${n} claims`;
}

function nothingToDoMessage(prepared: PreparedBatch, namespace: string): string {
  const why = prepared.skipped.map((s) => `${s.claim}: ${s.message}`).join('; ');
  return `no claim of the selection in namespace ${namespace} needs moving${why ? ` (${why})` : ''}; nothing was changed`;
}

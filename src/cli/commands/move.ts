// `kubectl pvmove <claim> --to-class C --size S`: plan, confirm on a terminal, run the itinerary.
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_IMAGE, DEFAULT_IMAGE_PULL_POLICY } from '../../core/defaults.js';
import { ITINERARY } from '../../core/itinerary.js';
import { prepareMigration, runMigration } from '../../core/runner.js';
import { tarEngine } from '../../engines/tar/index.js';
import { blockEngine } from '../../engines/block/index.js';
import { confirmOrStop, isInteractive } from '../confirm.js';
import { connectAfterFlags, endWithOutcome, rendererFor, emitWithKillHook } from '../command-frame.js';
import { withKubeFlags } from '../flags.js';
import type { Io } from '../render/types.js';
import { completeMoveRequest, type MoveArgv } from '../request.js';
import { withForceUnlock, whileLocked } from '../lock.js';
import { withTimeoutFlags } from '../timeout-flags.js';
import { parseSelection, singleClaim } from '../selection.js';
import { BATCH_PARALLEL_DEFAULT } from '../../core/batch.js';

export async function runMove(argv: MoveArgv, io: Io, command: 'move' | 'resume' = 'move'): Promise<void> {
  if (command === 'move') {
    // One claim by name: the single move below. Any other selection is a batch, even of one claim.
    const selection = parseSelection(argv);
    const claim = singleClaim(selection);
    if (claim === undefined) {
      const { runBatchMove } = await import('./batch-move.js');
      return runBatchMove(argv, io, selection);
    }
    argv = { ...argv, claim };
  }
  const { request: req, cli, connection } = await connectAfterFlags(argv, io, completeMoveRequest);
  const renderer = await rendererFor(io, cli.output, connection.target);
  const { emit, kill } = emitWithKillHook(renderer, io.env);
  const cluster = connection.cluster;
  const requests = connection.requests;
  const reportRequests = (): void => {
    if (requests) renderer.emit({ type: 'info', message: requests.summary() });
  };
  const move = async (signal: AbortSignal): Promise<void> => {
    const deps = { cluster, engine: tarEngine, blockEngine, emit, signal, afterStep: kill };
    const prepared = await prepareMigration(req, deps);
    if (prepared.nothingToDo) {
      renderer.emit({ type: 'result', status: 'nothing-to-do', ...prepared.nothingToDo });
      return;
    }
    renderer.emit({ type: 'plan', migrationId: prepared.plan.migrationId, plan: prepared.plan });
    if (cli.dryRun) {
      await renderer.showPlan(prepared.plan, true);
      renderer.emit({
        type: 'result',
        status: 'dry-run',
        migrationId: prepared.plan.migrationId,
        message: `Dry run: nothing was changed. Run \`${req.commands.resume}\` to move the claim.`,
        next: req.commands.resume,
      });
      return;
    }
    if (cli.output !== 'json' && isInteractive(io) && !cli.yes) {
      await renderer.showPlan(prepared.plan, false);
      await confirmOrStop(io, 'Start the migration?', req.commands.resume);
    }
    renderer.begin(ITINERARY.map((s) => ({ id: s.id, title: s.title })));
    await runMigration(req, deps, prepared);
  };
  await endWithOutcome(renderer, async () => {
    try {
      // A dry run changes nothing, so it neither takes the lock nor waits for it.
      if (cli.dryRun) await move(io.signal);
      else await whileLocked({ cluster, req, cli, command, emit, signal: io.signal }, move);
    } finally {
      reportRequests();
    }
  });
}

/** The flags of a move, shared with resume (which names one claim and takes no selection flags). */
export function withMoveFlags(y: Argv): Argv {
  return withTimeoutFlags(
    withForceUnlock(withKubeFlags(y))
      .option('to-class', { type: 'string', describe: 'StorageClass of the new volume' })
      .option('size', {
        type: 'string',
        describe: 'Size of the new volume, e.g. 20Gi (not below the current request)',
      })
      .option('dry-run', { type: 'boolean', describe: 'Print the plan and the manifests; change nothing' })
      .option('verify', {
        type: 'string',
        describe: 'After copying: count (entries and bytes), checksum (sha256 of every file), none',
        default: 'count',
      })
      .option('image', {
        type: 'string',
        describe: 'Copy pod image (needs GNU tar, bash, findutils)',
        default: DEFAULT_IMAGE,
      })
      .option('image-pull-policy', {
        type: 'string',
        describe: 'Copy pod image pull policy',
        default: DEFAULT_IMAGE_PULL_POLICY,
      })
      .option('copy-toleration', {
        type: 'string',
        array: true,
        describe: 'Toleration for the copy pod: key[=value][:Effect], repeatable',
      })
      .option('copy-node-selector', {
        type: 'string',
        array: true,
        describe: 'Node selector for the copy pod: key=value, repeatable',
      })
      .option('delete-pods', {
        type: 'boolean',
        describe: 'Delete pods that have no controller (they are not re-created)',
      })
      .option('ignore-hpa', {
        type: 'boolean',
        describe: 'Proceed although a HorizontalPodAutoscaler targets an owner',
      })
      .option('fresh-volume', {
        type: 'boolean',
        describe: 'Copy to a new volume even if the class and size stay the same',
      })
      .option('precopy', {
        type: 'boolean',
        describe:
          'Copy while the application still runs, then stop it and copy only what changed: the downtime no longer grows with the volume',
      })
      .option('precopy-passes', {
        type: 'string',
        describe: 'Warm passes before the stop, each copying what changed since the last (implies --precopy)',
      }),
    {
      bindMs: 'Max wait for a claim to bind',
      startMs: 'Max wait for the copy pod to start',
      copyMs: 'Max duration of the copy',
      scaleMs: 'Max wait for pods to stop using the claim',
      deleteMs: 'Max wait for deletions',
      readyMs: 'Max wait for owners to be ready again',
    },
  ) as unknown as Argv;
}

export const moveCommand: CommandModule<object, MoveArgv> = {
  command: '$0 [claims..]',
  describe:
    "Move PersistentVolumeClaims to new volumes (another class and/or size), keeping their names: one claim, several, a StatefulSet's, or claims by label or class",
  builder: (y: Argv) =>
    withMoveFlags(y)
      .positional('claims', {
        type: 'string',
        array: true,
        describe:
          'Names of the claims, or statefulset/NAME (sts/NAME): every claim of its volumeClaimTemplates',
      })
      .option('selector', {
        alias: 'l',
        type: 'string',
        describe: 'Move the claims with these labels (a label selector, e.g. app=kafka)',
      })
      .option('from-class', { type: 'string', describe: 'Move every claim of this StorageClass' })
      .option('all-namespaces', {
        alias: 'A',
        type: 'boolean',
        describe: 'With -l or --from-class: in every namespace (one migration per namespace)',
      })
      .option('template', {
        type: 'string',
        describe: 'With statefulset/NAME: only the claims of this volumeClaimTemplate',
      })
      .option('keep-template', {
        type: 'boolean',
        describe: "With statefulset/NAME: leave the StatefulSet's volumeClaimTemplates as they are",
      })
      .option('parallel', {
        type: 'string',
        describe: `Several claims: how many copy at the same time (default ${BATCH_PARALLEL_DEFAULT})`,
      })
      .example('$0 data --to-class fast', 'Move claim "data" to StorageClass fast')
      .example('$0 data -n shop --size 50Gi --dry-run', 'Show the plan to grow "data" to 50Gi')
      .example(
        '$0 statefulset/db --to-class fast --size 20Gi',
        'Move every claim of StatefulSet db in one downtime and rewrite its template',
      )
      .example('$0 -l app=kafka --to-class fast', 'Move the claims labelled app=kafka together')
      .example(
        '$0 --from-class standard --to-class fast -A',
        'Move every claim of class standard, namespace by namespace',
      ) as unknown as Argv<MoveArgv>,
  handler: () => undefined, // replaced in app.ts, which owns the Io
};

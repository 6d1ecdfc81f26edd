// On a TTY: a listr2 task tree whose tasks mirror the itinerary. The core runs on its own and
// emits events; each listr task only waits for its step's outcome and shows its progress. (listr2
// does not drive the migration: its rollback only covers the failing task, see docs/invariants.md.)
// A batch shows one subtree per claim (its title the claim's name) with the steps under it, each
// claim with its own progress line; events find their task by `claim` and `step`.
import { styleText } from 'node:util';
import { Listr, type ListrTask } from 'listr2';
import { describe } from '../../core/errors.js';
import type { PvmoveEvent } from '../../core/events.js';
import { batchPlanText, planManifests, planSummary } from './plan-text.js';
import type { Io, Renderer } from './types.js';

type Outcome = { kind: 'done' } | { kind: 'skipped'; message: string } | { kind: 'failed'; message: string };

interface Slot {
  promise: Promise<Outcome>;
  settle(o: Outcome): void;
  settled: boolean;
  output?: string;
  task?: { output: string };
}

function slot(): Slot {
  let settle: (o: Outcome) => void = () => undefined;
  const promise = new Promise<Outcome>((resolve) => (settle = resolve));
  const s: Slot = {
    promise,
    settled: false,
    settle: (o) => {
      if (!s.settled) {
        s.settled = true;
        settle(o);
      }
    },
  };
  return s;
}

/** A step's slot: by step id alone in a single move, by claim and step in a batch. */
function key(claim: string | undefined, step: string): string {
  return claim === undefined ? step : `${claim}\u0000${step}`;
}

type Step = { id: string; title: string };

export function treeRenderer(io: Io): Renderer {
  // The slots of the live view begun last; a batch per namespace (-A) begins one view after another.
  let slots = new Map<string, Slot>();
  let batch = false;
  const notes: string[] = [];
  let running: Promise<unknown> | undefined;

  const find = (event: { claim?: string; step?: string }): Slot | undefined =>
    event.step === undefined ? undefined : slots.get(key(batch ? event.claim : undefined, event.step));

  const show = (event: { claim?: string; step?: string }, text: string): void => {
    const s = find(event);
    if (!s) return;
    s.output = text;
    if (s.task) s.task.output = text;
  };

  const emit = (event: PvmoveEvent): void => {
    switch (event.type) {
      case 'step': {
        const s = find(event);
        if (!s) return;
        if (event.status === 'done') s.settle({ kind: 'done' });
        else if (event.status === 'skipped')
          s.settle({ kind: 'skipped', message: event.message ?? 'skipped' });
        else if (event.status === 'failed') s.settle({ kind: 'failed', message: event.message ?? 'failed' });
        return;
      }
      case 'progress':
        show(event, event.message);
        return;
      case 'info':
      case 'warning':
        show(event, event.message);
        if (event.type === 'warning')
          notes.push(`warning: ${event.claim !== undefined ? `[${event.claim}] ` : ''}${event.message}`);
        return;
      case 'result':
        notes.push(event.message);
        return;
      default:
        return;
    }
  };

  const stepTasks = (mine: Map<string, Slot>, claim: string | undefined, steps: Step[]): ListrTask[] =>
    steps.map((step) => ({
      title: step.title,
      rendererOptions: { outputBar: 1, persistentOutput: false },
      task: async (_ctx, task) => {
        const s = mine.get(key(claim, step.id));
        if (!s) return;
        s.task = task;
        if (s.output) task.output = s.output;
        const outcome = await s.promise;
        if (outcome.kind === 'skipped') task.skip(`${step.title} (${outcome.message})`);
        if (outcome.kind === 'failed') throw new Error(outcome.message);
      },
    }));

  const options = {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false, // SIGINT is ours: stop at a safe point, not mid-step
    rendererOptions: { collapseSkips: false, showErrorMessage: true },
  } as const;

  /** Steps never reached: per claim, the first one carries the failure so listr stops there. */
  const settleRest = (map: Map<string, Slot>, err: unknown): void => {
    const failedClaim = claimOf(err);
    const first = new Set<string>();
    for (const [k, s] of map) {
      if (s.settled) continue;
      const claim = k.includes('\u0000') ? k.slice(0, k.indexOf('\u0000')) : '';
      const fails =
        err !== undefined &&
        !first.has(claim) &&
        (failedClaim === undefined || failedClaim === claim || !k.includes('\u0000'));
      first.add(claim);
      s.settle(
        fails ? { kind: 'failed', message: describe(err) } : { kind: 'skipped', message: 'not reached' },
      );
    }
  };

  return {
    emit,
    showPlan: async (plan, full) => {
      io.stdout.write(planSummary(plan));
      if (full) io.stdout.write(planManifests(plan));
    },
    showBatchPlan: async (prepared, full) => {
      io.stdout.write(batchPlanText(prepared, full));
    },
    begin: (steps, claims) => {
      settleRest(slots, undefined);
      const mine = new Map<string, Slot>();
      slots = mine;
      batch = claims !== undefined;
      for (const claim of claims ?? [undefined])
        for (const step of steps) mine.set(key(claim, step.id), slot());
      const list =
        claims === undefined
          ? new Listr<unknown, 'default', 'simple'>(stepTasks(mine, undefined, steps), options)
          : new Listr<unknown, 'default', 'simple'>(
              claims.map((claim) => ({
                title: claim,
                task: (_ctx, task) => task.newListr(stepTasks(mine, claim, steps), options),
              })),
              // The claims move side by side; one failing leaves the others' trees as they are.
              { ...options, concurrent: true, exitOnError: false },
            );
      const previous = running;
      running = (async () => {
        await previous;
        await list.run().catch(() => undefined);
      })();
    },
    end: async (err) => {
      settleRest(slots, err);
      await running;
      for (const n of notes) io.stdout.write(`${n}\n`);
      if (err !== undefined) io.stderr.write(`${styleText('red', describe(err), { stream: io.stderr })}\n`);
    },
  };
}

/** The claim a batch's failure is about, when the error says. */
function claimOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { claim?: unknown }).claim === 'string'
    ? (err as { claim: string }).claim
    : undefined;
}

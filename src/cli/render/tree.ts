// On a TTY: a listr2 task tree whose tasks mirror the itinerary. The core runs on its own and
// emits events; each listr task only waits for its step's outcome and shows its progress. (listr2
// does not drive the migration: its rollback only covers the failing task, see docs/invariants.md.)
import { styleText } from 'node:util';
import { Listr } from 'listr2';
import { describe } from '../../core/errors.js';
import type { PvmoveEvent } from '../../core/events.js';
import { planManifests, planSummary } from './plan-text.js';
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

export function treeRenderer(io: Io): Renderer {
  const slots = new Map<string, Slot>();
  const notes: string[] = [];
  let running: Promise<unknown> | undefined;

  const show = (id: string, text: string): void => {
    const s = slots.get(id);
    if (!s) return;
    s.output = text;
    if (s.task) s.task.output = text;
  };

  const emit = (event: PvmoveEvent): void => {
    switch (event.type) {
      case 'step': {
        const s = slots.get(event.step);
        if (!s) return;
        if (event.status === 'done') s.settle({ kind: 'done' });
        else if (event.status === 'skipped')
          s.settle({ kind: 'skipped', message: event.message ?? 'skipped' });
        else if (event.status === 'failed') s.settle({ kind: 'failed', message: event.message ?? 'failed' });
        return;
      }
      case 'progress':
        show(event.step, event.message);
        return;
      case 'info':
      case 'warning':
        if (event.step) show(event.step, event.message);
        if (event.type === 'warning') notes.push(`warning: ${event.message}`);
        return;
      case 'result':
        notes.push(event.message);
        return;
      default:
        return;
    }
  };

  return {
    emit,
    showPlan: async (plan, full) => {
      io.stdout.write(planSummary(plan));
      if (full) io.stdout.write(planManifests(plan));
    },
    begin: (steps) => {
      for (const step of steps) slots.set(step.id, slot());
      const list = new Listr<unknown, 'default', 'simple'>(
        steps.map((step) => ({
          title: step.title,
          rendererOptions: { outputBar: 1, persistentOutput: false },
          task: async (_ctx, task) => {
            const s = slots.get(step.id);
            if (!s) return;
            s.task = task;
            if (s.output) task.output = s.output;
            const outcome = await s.promise;
            if (outcome.kind === 'skipped') task.skip(`${step.title} (${outcome.message})`);
            if (outcome.kind === 'failed') throw new Error(outcome.message);
          },
        })),
        {
          concurrent: false,
          exitOnError: true,
          registerSignalListeners: false, // SIGINT is ours: stop at a safe point, not mid-step
          rendererOptions: { collapseSkips: false, showErrorMessage: true },
        },
      );
      running = list.run().catch(() => undefined);
    },
    end: async (err) => {
      // Steps never reached: the first one carries the failure so listr stops there.
      let first = true;
      for (const s of slots.values()) {
        if (s.settled) continue;
        s.settle(
          err !== undefined && first
            ? { kind: 'failed', message: describe(err) }
            : { kind: 'skipped', message: 'not reached' },
        );
        first = false;
      }
      await running;
      for (const n of notes) io.stdout.write(`${n}\n`);
      if (err !== undefined) io.stderr.write(`${styleText('red', describe(err), { stream: io.stderr })}\n`);
    },
  };
}

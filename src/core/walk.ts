// The one walk over an itinerary, forwards (move, resume) or backwards (rollback): for each step,
// observe -> skip if its postcondition holds -> journal "started" -> run -> check the
// postcondition -> journal "done". Level-triggered, so walking again after any failure continues
// where it stopped. The same events, journal records, failure report and interrupt handling in
// both directions; what differs (the context a step runs with, where its record goes, how a
// failure is worded) is passed in. Emits events; never prints.
import { StepProblem, type InterruptedError, type PvmoveError } from './errors.js';
import type { Emit } from './events.js';
import type { StepRecord } from './journal.js';
import type { Observed } from './observed.js';
import { reportStepFailure } from './step-failure.js';

/** What the walk needs of a step; forward steps and undo steps both have this shape. */
export interface WalkStep<C> {
  readonly id: string;
  readonly title: string;
  /** The walk does not stop on SIGINT right before this step (a window that must stay short). */
  readonly holdInterrupt?: boolean;
  /** A check, not a mutation: nothing to verify after run() beyond it not throwing. */
  readonly checkOnly?: boolean;
  isDone(o: Observed): boolean;
  whyNotDone?(o: Observed): string;
  /** Done because there is nothing to do for this migration (said so instead of "already done"). */
  notNeeded?(o: Observed): boolean;
  /** May return what its done record should also hold (StepRecord.stoppingAt). */
  run(ctx: C): Promise<void | Pick<StepRecord, 'stoppingAt'>>;
}

export interface Walk<C> {
  steps: readonly WalkStep<C>[];
  /** A fresh look at the cluster (with the journal as it is now). */
  look(): Promise<Observed>;
  /** The journal as it is now: a carried look gets it again after a record was written. */
  journal(): Observed['journal'];
  /** The context a step runs with; `previous` is its record from before this walk. */
  contextFor(step: WalkStep<C>, observed: Observed, previous: StepRecord | undefined): C;
  /** The step's record as the journal holds it now. */
  recordOf(id: string): StepRecord | undefined;
  /** Writes a step's record (started, done, failed) to the journal. */
  record(id: string, rec: StepRecord): Promise<unknown>;
  /** An error from a step as the failure the user sees (with the commands to run next). */
  failure(err: unknown, step: WalkStep<C>): PvmoveError;
  /** The interruption before or during a step. */
  interrupted(moment: 'before' | 'during', step: WalkStep<C>): InterruptedError;
  /** Called right after a step that ran is journaled done. */
  afterStep?(step: WalkStep<C>): void;
  emit: Emit;
  signal: AbortSignal;
  now(): Date;
}

export async function walk<C>(w: Walk<C>): Promise<void> {
  // The look that ends one step is the one the next step decides on: between the two only the
  // journal's step record is written, so reading the cluster again would see the same.
  let carried: Observed | undefined;
  for (const step of w.steps) {
    if (w.signal.aborted && !step.holdInterrupt) throw w.interrupted('before', step);
    const observed = carried ? { ...carried, journal: w.journal() } : await w.look();
    carried = undefined;
    if (step.isDone(observed)) {
      const message = step.notNeeded?.(observed) ? 'not needed' : 'already done';
      w.emit({ type: 'step', step: step.id, title: step.title, status: 'skipped', message });
      if (w.recordOf(step.id)?.status !== 'done') {
        await w.record(step.id, { status: 'done', finishedAt: w.now().toISOString(), message: 'found done' });
      }
      carried = observed;
      continue;
    }

    const started = Date.now();
    w.emit({ type: 'step', step: step.id, title: step.title, status: 'started' });
    const previous = w.recordOf(step.id);
    const startedAt = w.now().toISOString();
    let told: Pick<StepRecord, 'stoppingAt'> | void = undefined;
    try {
      await w.record(step.id, { status: 'started', startedAt });
      told = await step.run(w.contextFor(step, observed, previous));
      if (!step.checkOnly) {
        const after = await w.look();
        if (!step.isDone(after)) {
          if (w.signal.aborted) throw w.interrupted('during', step);
          const why = step.whyNotDone?.(after);
          throw new StepProblem(`its postcondition does not hold${why ? `: ${why}` : ' yet'}`);
        }
        carried = after;
      }
    } catch (err) {
      await reportStepFailure(step, w.failure(err, step), started, w.emit, w.record, w.now);
    }
    // The start stays in the record: the downtime is measured from the scale-down's (downtime.ts).
    await w.record(step.id, {
      status: 'done',
      startedAt,
      ...(told ?? {}),
      finishedAt: w.now().toISOString(),
    });
    w.afterStep?.(step);
    w.emit({
      type: 'step',
      step: step.id,
      title: step.title,
      status: 'done',
      durationMs: Date.now() - started,
    });
  }
}

// The step contract (see docs/invariants.md): a stable id persisted in the journal, a pure
// postcondition, one idempotent action, the undo steps that take it back (each with its own
// postcondition), and the changes it plans for --dry-run. One file per step in src/core/steps/
// holds all of that; src/core/itinerary.ts orders the steps and derives the undo walk from them.
import type { ClusterPort } from './cluster.js';
import type { WalkStep } from './walk.js';
import type { CopyEngine } from './copy-engine.js';
import type { Emit } from './events.js';
import type { Journal } from './journal.js';
import type { MigrationNames } from './names.js';
import type { Observed } from './observed.js';
import type { PreflightResult } from './preflight.js';
import type { PlanContext, PlannedChange } from './plan.js';
import type { MigrationRequest, Timeouts } from './types.js';

export type StepId =
  | 'preflight'
  | 'record-journal'
  | 'retain-source-pv'
  | 'warm-copy'
  | 'scale-down'
  | 'create-target'
  | 'retain-target-pv'
  | 'copy'
  | 'release-claims'
  | 'prebind-target-pv'
  | 'recreate-claim'
  | 'restore-reclaim-policy'
  | 'rewrite-template'
  | 'scale-up'
  | 'finish';

export interface StepContext {
  req: MigrationRequest;
  cluster: ClusterPort;
  engine: CopyEngine;
  names: MigrationNames;
  /** Fresh observation taken just before this step. */
  observed: Observed;
  /** Undefined until record-journal has run. */
  journal: Journal | undefined;
  /** Set by the preflight step during this run; record-journal writes it down. */
  preflight?: PreflightResult;
  emit: Emit;
  /** Aborted on SIGINT/SIGTERM. Waits that may be left safely pass it on. */
  signal: AbortSignal;
  now(): Date;
  /** Applies `mutate` to the stored journal (optimistic concurrency, retried on conflict). */
  /** The journal record of this step before this run started (to tell a retry from a first try). */
  previous?: { status: string };
  updateJournal(mutate: (j: Journal) => Journal): Promise<Journal>;
  /** Creates the journal; only record-journal calls this. */
  createJournal(j: Journal): Promise<Journal>;
  /** Re-reads the cluster (steps that wait use it between polls). */
  observe(): Promise<Observed>;
}

/** A forward step: the walk's step shape (src/core/walk.ts) with an id the journal keeps. */
export interface Step extends WalkStep<StepContext> {
  readonly id: StepId;
  /**
   * What takes this step back, in the order they run. A rollback walks the itinerary backwards
   * and runs each step's undo steps, so undoing a later step always comes first.
   */
  readonly undo?: readonly UndoStep[];
  /** The objects this step would create, patch, scale or delete (--dry-run and the confirmation). */
  plan?(p: PlanContext): PlannedChange[];
}

export interface UndoContext {
  namespace: string;
  claim: string;
  cluster: ClusterPort;
  names: MigrationNames;
  journal: Journal;
  observed: Observed;
  timeouts: Timeouts;
  emit: Emit;
  signal: AbortSignal;
  observe(): Promise<Observed>;
  updateJournal(mutate: (j: Journal) => Journal): Promise<Journal>;
  now(): Date;
}

/**
 * An undo step. Its id is recorded under the journal's rollback; ids of older releases that are no
 * longer used are only history (the walk decides from postconditions).
 */
export interface UndoStep {
  readonly id: string;
  readonly title: string;
  /** Pure postcondition; `keepTarget` is the decision recorded when the rollback started. */
  isDone(o: Observed, keepTarget: boolean): boolean;
  run(ctx: UndoContext): Promise<void>;
}

/** The journal, or a clear failure: every step after record-journal needs it. */
export function needJournal(ctx: StepContext): Journal {
  if (!ctx.journal) throw new Error(`internal: the journal of ${ctx.req.claim} is missing`);
  return ctx.journal;
}

// `kubectl pvmove rollback <claim>`: back to the original state from any point before cleanup. The
// itinerary walked backwards (listr2's rollback only undoes the task that threw): read the journal,
// observe, and run every step's undo steps whose postcondition does not hold yet, with the same
// walk as the move. Safe to run twice; an interrupted rollback continues where it stopped.
import type { ClusterPort } from './cluster.js';
import { describe, InterruptedError, PreflightError, PvmoveError, StepFailedError } from './errors.js';
import type { Emit } from './events.js';
import { walk } from './walk.js';
import { claimJournal, type Journal, type StepRecord } from './journal.js';
import { JournalHandle, type StoredClaimJournal } from './journal-store.js';
import { BATCH_PARALLEL_DEFAULT, walkInLockstep } from './batch.js';
import { journalName, namesFor, type MigrationNames } from './names.js';
import { observe } from './observe.js';
import { targetPvName, type Observed } from './observed.js';
import { readJournalOrRefuse } from './runner.js';
import { volumesProblem } from './trust.js';
import type { Commands } from './commands.js';
import type { Timeouts } from './types.js';
import { UNDO_ITINERARY } from './itinerary.js';
import type { UndoContext, UndoStep } from './step.js';

export interface RollbackRequest {
  namespace: string;
  claim: string;
  timeouts: Timeouts;
  commands: Commands;
}

export interface RollbackPlan {
  migrationId: string;
  claim: { namespace: string; name: string };
  /** The phase the journal is in now. */
  phase: Journal['phase'];
  sourcePv: string;
  targetPv?: string;
  /** The target PV may hold writes made after the move: it is kept (Retain) and the user must confirm. */
  keepTargetPv: boolean;
  steps: { id: string; title: string; done: boolean }[];
  alreadyRolledBack: boolean;
  /** The other claims of a batch, rolled back with this one. */
  withClaims?: string[];
}

export interface PreparedRollback {
  stored: StoredClaimJournal;
  names: MigrationNames;
  observed: Observed;
  plan: RollbackPlan;
  /** Every claim of the migration (a batch is rolled back whole), the asked one first. */
  claims: string[];
}

/**
 * From the pre-bind on, a claim of the original name can bind the target PV (ours once re-created,
 * or one a StatefulSet made meanwhile), and pods may have written to it, whatever the journal says
 * about the owners (a person or GitOps may scale them up by hand). Its data is then never deleted
 * automatically.
 */
export const TARGET_MAY_HOLD_WRITES_FROM = [
  'prebind-target-pv',
  'recreate-claim',
  'restore-reclaim-policy',
  'scale-up',
  'finish',
];

/** Decided once, when the rollback starts, and recorded: later observations cannot tell any more. */
export function decideKeepTarget(j: Journal): boolean {
  if (j.rollback) return j.rollback.keepTargetPv;
  return (
    j.phase === 'finished' ||
    j.recreatedClaim !== undefined ||
    TARGET_MAY_HOLD_WRITES_FROM.some((s) => j.steps[s] !== undefined)
  );
}

/** Pure: which undo steps are still to do, from the journal and what is observed. */
export function planRollback(o: Observed & { journal: Journal }, steps = UNDO_ITINERARY): RollbackPlan {
  const j = o.journal;
  const keep = decideKeepTarget(j);
  return {
    migrationId: j.migrationId,
    claim: { ...j.claim },
    phase: j.phase,
    sourcePv: j.original.sourcePv.name,
    targetPv: targetPvName(o),
    keepTargetPv: keep,
    steps: steps.map((s) => ({ id: s.id, title: s.title, done: s.isDone(o, keep) })),
    alreadyRolledBack: j.phase === 'rolled-back',
  };
}

export async function prepareRollback(req: RollbackRequest, cluster: ClusterPort): Promise<PreparedRollback> {
  const stored = await readJournalOrRefuse(cluster, req.namespace, req.claim, 'Nothing was changed.');
  if (!stored) {
    throw new PreflightError(
      `no migration of claim ${req.claim} is recorded in namespace ${req.namespace} (no ConfigMap ${journalName(req.claim)}), so there is nothing to roll back`,
      `kubectl pvmove list -n ${req.namespace}`,
    );
  }
  const names = namesFor(req.claim, stored.journal.migrationId, stored.name);
  const observed = await observe(cluster, req.namespace, req.claim, names, stored.journal);
  const foreign = volumesProblem(observed, stored.journal, req.namespace, names);
  if (foreign) throw new PreflightError(foreign, req.commands.rollback);
  // A batch is all-or-nothing: every claim of it goes back, each checked against the cluster first.
  const others = stored.document.claims.map((c) => c.name).filter((c) => c !== req.claim);
  for (const claim of others) {
    const view = claimJournal(stored.document, claim);
    const n = namesFor(claim, stored.journal.migrationId, stored.name);
    const o = await observe(cluster, req.namespace, claim, n, view);
    const wrong = view && volumesProblem(o, view, req.namespace, n);
    if (wrong) throw new PreflightError(wrong, req.commands.rollback);
  }
  const plan = planRollback({ ...observed, journal: stored.journal });
  // A kept target PV of any claim needs the user's --yes.
  const keepAny = stored.document.claims.some((c) => {
    const view = claimJournal(stored.document, c.name);
    return view ? decideKeepTarget(view) : false;
  });
  return {
    stored,
    names,
    observed,
    plan: {
      ...plan,
      keepTargetPv: plan.keepTargetPv || keepAny,
      ...(others.length > 0 ? { withClaims: others } : {}),
    },
    claims: [req.claim, ...others],
  };
}

export interface RollbackDeps {
  cluster: ClusterPort;
  emit: Emit;
  signal: AbortSignal;
  now?: () => Date;
  steps?: readonly UndoStep[];
}

export async function runRollback(
  req: RollbackRequest,
  deps: RollbackDeps,
  prepared: PreparedRollback,
): Promise<void> {
  const { cluster, signal } = deps;
  const now = deps.now ?? (() => new Date());
  const steps = deps.steps ?? UNDO_ITINERARY;
  const ns = req.namespace;
  const names = prepared.names;
  const next = req.commands.rollback;
  const stored = prepared.stored;
  const runStart = Date.now();
  const batch = prepared.claims.length > 1;

  if (stored.document.phase === 'rolled-back') {
    deps.emit({
      type: 'result',
      status: 'rolled-back',
      migrationId: names.migrationId,
      message: `Migration ${names.migrationId} of claim ${req.claim} was already rolled back; nothing to do`,
    });
    return;
  }
  const journal = new JournalHandle(cluster, ns, names, {
    document: stored.document,
    resourceVersion: stored.resourceVersion,
  });

  // The forward runner stops at its next journal write once it sees this (one direction at a time).
  // Each claim's keep decision is made now, from its own records, and written down.
  for (const claim of prepared.claims) {
    const view = journal.view(claim);
    if (
      !view ||
      (view.rollback && journal.document?.phase === 'rolling-back') ||
      view.phase === 'rolled-back'
    )
      continue;
    const keep = decideKeepTarget(view);
    await journal.update(claim, (j) => ({
      ...j,
      phase: 'rolling-back',
      rollback: j.rollback ?? {
        startedAt: now().toISOString(),
        fromPhase: j.phase === 'finished' ? 'finished' : 'in-progress',
        keepTargetPv: keep,
        steps: {},
      },
    }));
  }

  const walkerFor = (claim: string): { walk(steps: readonly UndoStep[]): Promise<void> } => {
    const n = namesFor(claim, names.migrationId, names.journal);
    const emit: Emit = batch
      ? (e) => deps.emit(e.type === 'plan' || e.type === 'result' ? e : { ...e, claim })
      : deps.emit;
    const look = (): Promise<Observed> => observe(cluster, ns, claim, n, journal.view(claim));
    const updateJournal = (mutate: (j: Journal) => Journal): Promise<Journal> =>
      journal.update(claim, mutate);
    const record = (id: string, rec: StepRecord): Promise<Journal> =>
      updateJournal((j) => {
        const rb = j.rollback;
        if (!rb) return j;
        return { ...j, rollback: { ...rb, steps: { ...rb.steps, [id]: { ...rb.steps[id], ...rec } } } };
      });
    const keep = (): boolean => journal.view(claim)?.rollback?.keepTargetPv ?? false;
    const walkSteps = (some: readonly UndoStep[]): Promise<void> =>
      walk<UndoContext>({
        // The keep decision was recorded when the rollback started; the walk sees plain postconditions.
        steps: some.map((s) => ({ ...s, isDone: (o: Observed) => s.isDone(o, keep()) })),
        look,
        journal: () => journal.view(claim),
        recordOf: (id) => journal.view(claim)?.rollback?.steps[id],
        record,
        emit,
        signal,
        now,
        failure: (err, step) =>
          err instanceof PvmoveError
            ? err
            : signal.aborted
              ? new InterruptedError(`during rollback step ${step.id}`, next)
              : new StepFailedError(step.id, describe(err), next),
        interrupted: (moment, step) => new InterruptedError(`${moment} rollback step ${step.id}`, next),
        contextFor: (_step, observed) => ({
          namespace: ns,
          claim,
          cluster,
          names: n,
          journal: journal.view(claim) as Journal,
          observed,
          timeouts: req.timeouts,
          emit,
          signal,
          observe: look,
          updateJournal,
          now,
        }),
      });
    return { walk: walkSteps };
  };
  const walkers = prepared.claims.map(walkerFor);
  await walkInLockstep(walkers, steps, BATCH_PARALLEL_DEFAULT);

  const kept: string[] = [];
  const back: string[] = [];
  for (const claim of prepared.claims) {
    const j = journal.view(claim);
    if (!j) continue;
    back.push(batch ? `${claim} on ${j.original.sourcePv.name}` : j.original.sourcePv.name);
    if (j.rollback?.keepTargetPv && j.original.targetPv) kept.push(j.original.targetPv.name);
  }
  const keptText =
    kept.length === 1
      ? ` The target PV ${kept[0]} is kept (Retain, Released) with whatever was written to it after the move; once you no longer need that, delete it with \`kubectl delete pv ${kept[0]}\`.`
      : kept.length > 1
        ? ` The target PVs ${kept.join(', ')} are kept (Retain, Released) with whatever was written to them after the move; once you no longer need that, delete them with \`kubectl delete pv ${kept.join(' ')}\`.`
        : '';
  deps.emit({
    type: 'result',
    status: 'rolled-back',
    migrationId: names.migrationId,
    message: batch
      ? `Rolled back migration ${names.migrationId}: claims ${back.join(', ')} in ${ns} are on their original PVs again.${keptText}`
      : `Rolled back migration ${names.migrationId}: claim ${req.claim} in ${ns} is on its original PV ${back[0] ?? '?'} again.${keptText}`,
    durationMs: Date.now() - runStart,
  });
}

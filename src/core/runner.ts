// The runner: for each step, observe -> skip if its postcondition holds -> journal "started" ->
// run -> check the postcondition -> journal "done". Level-triggered, so re-running the same command
// after any failure continues where it stopped. Emits events; never prints.
import { downtimeMs, downtimeText } from './downtime.js';
import type { ClusterPort, StoredJournal } from './cluster.js';
import { resumeCommandFor } from './commands.js';
import {
  describe,
  InterruptedError,
  PreflightError,
  PvmoveError,
  StepFailedError,
  UsageError,
} from './errors.js';
import type { Emit } from './events.js';
import { ITINERARY } from './itinerary.js';
import { walk } from './walk.js';
import { JournalFormatError, withStep, type Journal } from './journal.js';
import { readClaimJournal, JournalHandle, type StoredClaimJournal } from './journal-store.js';
import { ownedLabels, storageRequest } from './manifests.js';
import { journalName, namesFor, newMigrationId, type MigrationNames } from './names.js';
import { observe } from './observe.js';
import { targetPvName, type Observed } from './observed.js';
import { planMigration, type Plan } from './plan.js';
import { evaluatePreflight, nothingToDo, type NothingToDo, type PreflightResult } from './preflight.js';
import { compareQuantities } from './quantity.js';
import { journalIdentityProblem, volumesProblem } from './trust.js';
import type { Step, StepContext } from './step.js';
import { gatherPreflightFacts } from './steps/preflight.js';
import type { MigrationRequest } from './types.js';
import { basePermissions, missingPermissionsProblem, ownerPermissions } from './access.js';
import { admissionProblem } from './probe.js';
import { copyPodFor } from './copy-pod.js';
import type { CopyEngine } from './copy-engine.js';
import { volumeModeOf } from './local-volumes.js';

export interface RunnerDeps {
  cluster: ClusterPort;
  /** How files are copied (src/engines/*): the CLI chooses, the core only follows the port. */
  engine: CopyEngine;
  /** How a volumeMode Block claim's device is copied; without it Block claims are refused. */
  blockEngine?: CopyEngine;
  emit: Emit;
  signal: AbortSignal;
  now?: () => Date;
  newId?: () => string;
  steps?: readonly Step[];
  /** Called right after a step is journaled done (the CLI wires the test-only kill hook here). */
  afterStep?: (id: string) => void;
  /** A batch: every event of a claim's steps carries the claim's name. */
  claimInEvents?: boolean;
}

export interface Prepared {
  names: MigrationNames;
  stored?: StoredClaimJournal;
  observed: Observed;
  preflight?: PreflightResult;
  plan: Plan;
  /** A journal of a rolled-back migration of this claim: replaced when the new one is recorded. */
  rolledBack?: StoredClaimJournal;
  /** Set when the claim already has the class and size asked for: nothing to run. */
  nothingToDo?: NothingToDo;
}

export async function readJournalOrRefuse(
  cluster: ClusterPort,
  namespace: string,
  claim: string,
  next: string,
): Promise<StoredClaimJournal | undefined> {
  let stored: StoredClaimJournal | undefined;
  try {
    stored = await readClaimJournal(cluster, namespace, claim);
  } catch (err) {
    if (err instanceof JournalFormatError) {
      throw new UsageError(`ConfigMap ${journalName(claim)} in ${namespace}: ${err.message}`, next);
    }
    throw err;
  }
  const wrong = stored && journalIdentityProblem(stored.journal, namespace, claim);
  if (wrong) throw new UsageError(`${wrong}; nothing was changed`, next);
  return stored;
}

/**
 * A re-run must ask for the same move (invariant 9: one migration per claim). Omitted flags mean
 * "as the claim was", exactly as on the first run.
 */
export function checkSameRequest(req: MigrationRequest, j: Journal): string | undefined {
  const wantClass = req.toClass ?? j.original.pvc.spec?.storageClassName ?? '';
  const wantSize = req.size ?? storageRequest(j.original.pvc) ?? '';
  let sameSize: boolean;
  try {
    sameSize = compareQuantities(wantSize, j.request.size) === 0;
  } catch {
    sameSize = false;
  }
  if (wantClass === j.request.toClass && sameSize) return undefined;
  const recorded = resumeCommandFor(j, req.commands);
  if (j.phase === 'finished') {
    return `claim ${j.claim.name} was already moved by migration ${j.migrationId} (to class ${j.request.toClass}, size ${j.request.size}); run \`${req.commands.cleanup}\` before moving it again`;
  }
  return `migration ${j.migrationId} of claim ${j.claim.name} is in progress with --to-class ${j.request.toClass} --size ${j.request.size}; resume it with \`${recorded}\``;
}

/** The engine for the claim's volumeMode: files for Filesystem, the device for Block. */
export function engineFor(
  deps: Pick<RunnerDeps, 'engine' | 'blockEngine'>,
  j: Journal | undefined,
  o: Observed,
): CopyEngine {
  const mode = volumeModeOf(j?.original.pvc ?? o.claim);
  if (mode !== 'Block') return deps.engine;
  if (!deps.blockEngine)
    throw new UsageError(
      `claim ${o.claim?.metadata.name ?? j?.claim.name ?? '?'} has volumeMode Block, which this build cannot copy`,
      'Nothing was changed.',
    );
  return deps.blockEngine;
}

/** What a move finds recorded for a claim: its migration (to resume), or one rolled back (replaced). */
export interface Recorded {
  stored?: StoredClaimJournal;
  rolledBack?: StoredClaimJournal;
}

/** Reads the claim's journal and refuses what cannot be resumed with this request. */
export async function readForMove(
  req: MigrationRequest,
  deps: Pick<RunnerDeps, 'cluster'>,
): Promise<Recorded> {
  const stored = await readJournalOrRefuse(deps.cluster, req.namespace, req.claim, req.commands.resume);
  if (stored?.journal.phase === 'rolling-back') {
    throw new UsageError(
      `a rollback of migration ${stored.journal.migrationId} of claim ${req.claim} is in progress; finish it with \`${req.commands.rollback}\``,
      'Nothing was changed.',
    );
  }
  // That migration was undone: this is a new one, with a new id.
  if (stored?.journal.phase === 'rolled-back') return { rolledBack: stored };
  if (stored) {
    const mismatch = checkSameRequest(req, stored.journal);
    if (mismatch) throw new UsageError(mismatch, 'Nothing was changed.');
  }
  return { stored };
}

/** Reads the journal, observes, runs the read-only preflight on a new migration, and plans. */
export async function prepareMigration(req: MigrationRequest, deps: RunnerDeps): Promise<Prepared> {
  // Before any read that could fail with a 403 halfway: every missing permission in one message.
  const missing = await deps.cluster.missingPermissions(basePermissions(req.namespace));
  if (missing.length > 0) throw new PreflightError(missingPermissionsProblem(missing), req.commands.resume);
  const recorded = await readForMove(req, deps);
  const doc = recorded.stored?.document;
  if (doc && doc.claims.length > 1) {
    // A claim of a batch moves with the others: alone, its owners would start before they are moved.
    throw new UsageError(
      `claim ${req.claim} is one of the ${doc.claims.length} claims of migration ${doc.migrationId} (${doc.claims.map((c) => c.name).join(', ')}); ` +
        `resume them together with \`${doc.resume ?? 'the command that started it'}\`, or roll them back with \`${req.commands.rollback}\``,
      'Nothing was changed.',
    );
  }
  const migrationId = recorded.stored?.journal.migrationId ?? (deps.newId ?? newMigrationId)();
  return prepareClaim(req, deps, recorded, namesFor(req.claim, migrationId, recorded.stored?.name));
}

/** One claim of a migration (new or recorded): observed, checked by the preflight if new, planned. */
export async function prepareClaim(
  req: MigrationRequest,
  deps: RunnerDeps,
  recorded: Recorded,
  names: MigrationNames,
): Promise<Prepared> {
  const { stored, rolledBack } = recorded;
  const migrationId = names.migrationId;
  const observed = await observe(deps.cluster, req.namespace, req.claim, names, stored?.journal);
  const foreign = stored && volumesProblem(observed, stored.journal, req.namespace, names);
  if (foreign) throw new PreflightError(foreign, req.commands.resume);
  const nothing = stored ? undefined : nothingToDo(req, observed.claim);
  let preflight: PreflightResult | undefined;
  if (!stored && !nothing) {
    preflight = evaluatePreflight(req, await gatherPreflightFacts(req, deps.cluster));
    const forOwners = await deps.cluster.missingPermissions(
      ownerPermissions(req.namespace, preflight.owners),
    );
    if (forOwners.length > 0) preflight.problems.push(missingPermissionsProblem(forOwners));
    if (preflight.problems.length === 0) {
      const pseudo = {
        migrationId,
        request: { toClass: preflight.targetClass, size: preflight.targetSize, verify: req.verify },
      };
      const refused = await admissionProblem(
        deps.cluster,
        copyPodFor({ req, names, engine: engineFor(deps, undefined, observed) }, pseudo, observed.sourcePv),
      );
      if (refused) preflight.problems.push(refused);
    }
    if (preflight.problems.length > 0)
      throw new PreflightError(preflight.problems.join('; '), req.commands.resume);
  }
  const j = stored?.journal;
  const plan = planMigration({
    req,
    names,
    engine: engineFor(deps, j, observed),
    observed,
    owners: j ? j.original.owners : (preflight?.owners ?? []),
    targetClass: j ? j.request.toClass : (preflight?.targetClass ?? ''),
    targetSize: j ? j.request.size : (preflight?.targetSize ?? ''),
  });
  // Warnings belong in the plan the user confirms, not only in the run's output.
  if (preflight) plan.notes.unshift(...preflight.warnings.map((w) => `Warning: ${w}.`));
  return { names, stored, observed, preflight, plan, rolledBack, nothingToDo: nothing };
}

function toFailure(
  err: unknown,
  step: { id: string },
  req: MigrationRequest,
  signal: AbortSignal,
): PvmoveError {
  if (err instanceof PvmoveError) return err;
  const rollback = step.id === 'preflight' ? undefined : req.commands.rollback;
  if (signal.aborted) return new InterruptedError(`during step ${step.id}`, req.commands.resume, rollback);
  return new StepFailedError(step.id, describe(err), req.commands.resume, rollback);
}

/** One claim of a migration, walked step by step: a single move walks it once, a batch in lockstep. */
export interface ClaimWalker {
  claim: string;
  walk(steps: readonly Step[]): Promise<void>;
  observeNow(): Promise<Observed>;
}

export function claimWalker(
  req: MigrationRequest,
  deps: RunnerDeps,
  prepared: Prepared,
  journal: JournalHandle,
  runId: string,
): ClaimWalker {
  const { cluster, signal } = deps;
  const now = deps.now ?? (() => new Date());
  const names = prepared.names;
  const ns = req.namespace;
  const claim = req.claim;
  let preflight = prepared.preflight;
  const engine = engineFor(deps, prepared.stored?.journal, prepared.observed);
  // In a batch every event says which claim it is about.
  const emit: Emit = deps.claimInEvents
    ? (e) => deps.emit(e.type === 'plan' || e.type === 'result' ? e : { ...e, claim })
    : deps.emit;

  const updateJournal = (mutate: (j: Journal) => Journal): Promise<Journal> => journal.update(claim, mutate);
  const record = async (id: string, rec: Journal['steps'][string]): Promise<void> => {
    if (journal.view(claim)) await updateJournal((j) => withStep(j, id, { ...j.steps[id], ...rec }));
  };
  const look = (): Promise<Observed> => observe(cluster, ns, claim, names, journal.view(claim), runId);
  let current: StepContext | undefined;
  const walkSteps = (steps: readonly Step[]): Promise<void> =>
    walk<StepContext>({
      steps,
      look,
      journal: () => journal.view(claim),
      recordOf: (id) => journal.view(claim)?.steps[id],
      record,
      emit,
      signal,
      now,
      failure: (err, step) => toFailure(err, step, req, signal),
      interrupted: (moment, step) =>
        new InterruptedError(
          `${moment} step ${step.id}`,
          req.commands.resume,
          journal.view(claim) ? req.commands.rollback : undefined,
        ),
      afterStep: (step) => {
        // The preflight step's result is what record-journal writes down.
        preflight = current?.preflight ?? preflight;
        deps.afterStep?.(step.id);
      },
      contextFor: (_step, observed, previous) =>
        (current = {
          req,
          cluster,
          engine,
          names,
          observed,
          journal: journal.view(claim),
          preflight,
          emit,
          signal,
          now,
          previous,
          updateJournal,
          createJournal: (j) =>
            journal.add(j, ownedLabels(claim, names.migrationId, 'journal'), async () => {
              if (prepared.rolledBack) await cluster.deleteJournal(ns, prepared.rolledBack.name);
            }),
          observe: look,
        }),
    });
  return { claim, walk: walkSteps, observeNow: look };
}

/** The journal handle of a migration, refusing writes once another run rolls it back. */
export function journalHandleFor(
  deps: Pick<RunnerDeps, 'cluster'>,
  namespace: string,
  names: Pick<MigrationNames, 'journal' | 'migrationId'>,
  stored: StoredJournal | undefined,
): JournalHandle {
  return new JournalHandle(deps.cluster, namespace, names, stored, (fresh) =>
    fresh.phase === 'rolling-back' || fresh.phase === 'rolled-back'
      ? `migration ${names.migrationId} is being rolled back by another run`
      : undefined,
  );
}

export async function runMigration(
  req: MigrationRequest,
  deps: RunnerDeps,
  prepared: Prepared,
): Promise<void> {
  const { cluster, emit } = deps;
  const names = prepared.names;
  const ns = req.namespace;
  const runStart = Date.now();
  // What this run made or checked itself (the copy) is told apart from what an earlier run left.
  const runId = newMigrationId();
  const stored = prepared.stored;
  const journal = journalHandleFor(
    deps,
    ns,
    names,
    stored && { document: stored.document, resourceVersion: stored.resourceVersion },
  );
  await claimWalker(req, deps, prepared, journal, runId).walk(deps.steps ?? ITINERARY);

  const final = await observe(cluster, ns, req.claim, names, journal.view(req.claim), runId);
  const j = journal.view(req.claim);
  const target = targetPvName(final) ?? '?';
  const downtime = downtimeMs(j);
  emit({
    type: 'result',
    status: 'done',
    migrationId: names.migrationId,
    message:
      `Moved claim ${req.claim} in ${ns} to PV ${target} (class ${j?.request.toClass ?? '?'}, size ${j?.request.size ?? '?'}; ${downtimeText(downtime)}); ` +
      `the old PV ${j?.original.sourcePv.name ?? '?'} is kept (Retain, Released). When the application is fine, run \`${req.commands.cleanup}\``,
    next: req.commands.cleanup,
    durationMs: Date.now() - runStart,
    ...(downtime !== undefined ? { downtimeMs: downtime } : {}),
  });
}

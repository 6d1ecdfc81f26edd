// The journal: what undo needs, written to a ConfigMap before the change that makes it necessary
// (invariant 2). Versioned: schema 1 (one claim) is still read and upgraded in memory; a journal
// of a newer schema is refused.
import type { OwnerId, OwnerRecord, PrecopyOptions, Pvc, StatefulSetManifest, VerifyMode } from './types.js';
import type { StepStatus } from './events.js';

export const JOURNAL_SCHEMA_VERSION = 2;

export interface StepRecord {
  status: Exclude<StepStatus, 'skipped'>;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  /**
   * scale-down only: when the owners were told to stop, after the final pass's read-ahead
   * (final-pass-prepare.ts), during which the application still ran. The downtime starts here.
   */
  stoppingAt?: string;
}

export type MigrationPhase = 'in-progress' | 'finished' | 'rolling-back' | 'rolled-back';

/** What the user asked for; a re-run with other values is refused while in progress. */
export interface MoveRequestRecord {
  toClass: string;
  size: string;
  verify: VerifyMode;
  precopy?: PrecopyOptions;
}

/** The warm passes made while the application ran (warm-copy step); the final pass starts from them. */
export interface WarmRecord {
  passes: number;
  finishedAt: string;
  /** Duration of the warm passes together, in milliseconds. */
  ms: number;
  runId?: string;
}

/**
 * uid: the PV object's own uid, so cleanup and rollback can tell that the PV the journal names is
 * the one this migration touched (a journal is a ConfigMap: anyone who can edit it could name
 * another PV). Optional: journals written before it was recorded lack it.
 */
export interface PvRecord {
  name: string;
  reclaimPolicy: string;
  uid?: string;
}

export interface CopyRecord {
  totalBytes?: number;
  files?: number;
  verify: VerifyMode;
  verifiedAt: string;
  /** The source as it was when copied (see the copy script's fingerprint): a re-run checks it. */
  sourceFingerprint?: string;
  /** The run that made or re-checked the copy; another run must check it again before relying on it. */
  runId?: string;
}

/**
 * The stored journal, schema 2: one per migration, holding every claim it moves. What the claims
 * share (the request, the owners stopped once for all of them, the phase) is kept once; each claim
 * has its own original manifest, PVs, names, copy and step records.
 */
export interface MigrationJournal {
  schemaVersion: 2;
  migrationId: string;
  createdAt: string;
  /**
   * 'finished' once every claim's last step is done; cleanup only acts on finished migrations. A
   * rollback sets 'rolling-back' when it starts and 'rolled-back' when every claim is back.
   */
  phase: MigrationPhase;
  finishedAt?: string;
  namespace: string;
  request: MoveRequestRecord;
  /** Owners of any of the claims, stopped once and restored once. */
  owners: OwnerRecord[];
  /** Bare pods deleted with --delete-pods: they cannot be brought back, only reported. */
  deletedPods: string[];
  claims: ClaimRecord[];
  /** StatefulSet claim templates this migration rewrites to the new class and size. */
  templates?: TemplateRecord[];
  /** A batch: the command that resumes it (its selection as typed); a claim alone is resumed by name. */
  resume?: string;
  rollback?: { startedAt: string; finishedAt?: string; fromPhase: 'in-progress' | 'finished' };
}

/** One volumeClaimTemplate of a StatefulSet, as it was and as the move makes it. */
export interface TemplateRecord {
  statefulSet: string;
  template: string;
  original: { storageClassName?: string; storage?: string };
  wanted: { storageClassName: string; storage: string };
  /**
   * The StatefulSet as it was when the migration was recorded: re-created from this if a run stops
   * between deleting it (orphaning its pods and claims) and creating it again.
   */
  manifest: StatefulSetManifest;
}

export interface ClaimRecord {
  name: string;
  original: {
    /** The claim as it was, cleaned of server-owned fields; the source for re-creation and rollback. */
    pvc: Pvc;
    pvcUid: string;
    sourcePv: PvRecord;
    /** Filled in when the target PV is bound, before its policy is changed. */
    targetPv?: PvRecord;
  };
  /** Which of the migration's owners run pods that mount this claim. */
  owners: OwnerId[];
  names: { targetClaim: string; copyPod: string };
  warm?: WarmRecord;
  copy?: CopyRecord;
  /** The claim re-created under the original name (recreate-claim): only that claim is ours. */
  recreatedClaim?: { uid: string };
  steps: Record<string, StepRecord>;
  /** This claim's last step is done (the migration is finished once every claim's is). */
  finishedAt?: string;
  /** This claim is back on its source PV (the rollback is over once every claim is). */
  rolledBackAt?: string;
  rollback?: { keepTargetPv: boolean; steps: Record<string, StepRecord> };
}

/**
 * One claim's view of its migration: what the steps of that claim read and write. It is made from
 * the stored journal by claimJournal() and written back by putClaimJournal(); the fields shared by
 * all claims (phase, request, owners, the rollback's start) are read from and written to the
 * migration, the rest to the claim's own record.
 */
export interface Journal {
  migrationId: string;
  createdAt: string;
  phase: MigrationPhase;
  finishedAt?: string;
  claim: { namespace: string; name: string };
  request: MoveRequestRecord;
  original: ClaimRecord['original'] & {
    /** The full records of the owners of this claim. */
    owners: OwnerRecord[];
    deletedPods: string[];
  };
  names: ClaimRecord['names'];
  warm?: WarmRecord;
  copy?: CopyRecord;
  recreatedClaim?: { uid: string };
  steps: Record<string, StepRecord>;
  rollback?: RollbackRecord;
  /** Shared by the claims: the StatefulSet templates the migration rewrites. */
  templates?: TemplateRecord[];
  /** Shared by the claims of a batch: the command that resumes all of them. */
  resume?: string;
}

export interface RollbackRecord {
  startedAt: string;
  finishedAt?: string;
  /** The phase the migration was in when the rollback started. */
  fromPhase: 'in-progress' | 'finished';
  /**
   * The owners ran on the target PV (scale-up started): it may hold writes made after the move,
   * so it is kept (Retain, Released) instead of being released per its original policy.
   */
  keepTargetPv: boolean;
  steps: Record<string, StepRecord>;
}

/** The journal as the first release wrote it (schema 1, one claim): still read, never written. */
export interface JournalV1 extends Omit<Journal, 'claim'> {
  schemaVersion: 1;
  claim: { namespace: string; name: string };
}

export class JournalFormatError extends Error {}

export function serializeJournal(journal: MigrationJournal): string {
  return JSON.stringify(journal, null, 2);
}

const sameOwner = (a: OwnerId, b: OwnerId): boolean => a.kind === b.kind && a.name === b.name;

/** A new migration's journal from the view of its first claim. */
export function newMigrationJournal(view: Journal): MigrationJournal {
  return putClaimJournal(
    {
      schemaVersion: JOURNAL_SCHEMA_VERSION,
      migrationId: view.migrationId,
      createdAt: view.createdAt,
      phase: view.phase,
      namespace: view.claim.namespace,
      request: view.request,
      owners: [],
      deletedPods: [],
      claims: [],
    },
    view,
  );
}

/** The view of one claim of the migration; undefined if the migration does not hold that claim. */
export function claimJournal(doc: MigrationJournal, claim: string): Journal | undefined {
  const c = doc.claims.find((x) => x.name === claim);
  if (!c) return undefined;
  const owners = c.owners.map((id) => doc.owners.find((o) => sameOwner(o, id)) ?? { ...id });
  // A claim of a migration still under way can be finished (or rolled back) on its own.
  const phase =
    doc.phase === 'in-progress' && c.finishedAt
      ? 'finished'
      : doc.phase === 'rolling-back' && c.rolledBackAt
        ? 'rolled-back'
        : doc.phase;
  const finishedAt = phase === 'finished' ? (c.finishedAt ?? doc.finishedAt) : doc.finishedAt;
  return {
    migrationId: doc.migrationId,
    createdAt: doc.createdAt,
    phase,
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    claim: { namespace: doc.namespace, name: c.name },
    request: doc.request,
    original: { ...c.original, owners, deletedPods: doc.deletedPods },
    names: c.names,
    ...(c.warm !== undefined ? { warm: c.warm } : {}),
    ...(c.copy !== undefined ? { copy: c.copy } : {}),
    ...(c.recreatedClaim !== undefined ? { recreatedClaim: c.recreatedClaim } : {}),
    steps: c.steps,
    ...(doc.templates ? { templates: doc.templates } : {}),
    ...(doc.resume ? { resume: doc.resume } : {}),
    ...(doc.rollback
      ? {
          rollback: {
            ...doc.rollback,
            keepTargetPv: c.rollback?.keepTargetPv ?? false,
            steps: c.rollback?.steps ?? {},
          },
        }
      : {}),
  };
}

/** The migration with one claim's view written back (added if the migration did not hold it). */
export function putClaimJournal(doc: MigrationJournal, view: Journal): MigrationJournal {
  const { owners, deletedPods, ...original } = view.original;
  const record: ClaimRecord = {
    name: view.claim.name,
    original,
    owners: owners.map((o) => ({ kind: o.kind, name: o.name })),
    names: view.names,
    ...(view.warm !== undefined ? { warm: view.warm } : {}),
    ...(view.copy !== undefined ? { copy: view.copy } : {}),
    ...(view.recreatedClaim !== undefined ? { recreatedClaim: view.recreatedClaim } : {}),
    steps: view.steps,
    ...(view.phase === 'finished' ? { finishedAt: view.finishedAt ?? view.createdAt } : {}),
    ...(view.phase === 'rolled-back' ? { rolledBackAt: view.rollback?.finishedAt ?? view.createdAt } : {}),
    ...(view.rollback
      ? { rollback: { keepTargetPv: view.rollback.keepTargetPv, steps: view.rollback.steps } }
      : {}),
  };
  const known = doc.claims.some((c) => c.name === record.name);
  const claims = known
    ? doc.claims.map((c) => (c.name === record.name ? record : c))
    : [...doc.claims, record];
  // The migration is finished (rolled back) once every claim is; until then it stays in progress
  // (rolling back) while the claims that are done say so on their own.
  const phase =
    view.phase === 'finished'
      ? claims.every((c) => c.finishedAt)
        ? 'finished'
        : 'in-progress'
      : view.phase === 'rolled-back'
        ? claims.every((c) => c.rolledBackAt)
          ? 'rolled-back'
          : 'rolling-back'
        : view.phase;
  const { finishedAt: _f, rollback: _r, templates: _t, resume: _c, ...rest } = doc;
  return {
    ...rest,
    phase,
    ...(phase === 'finished' && view.finishedAt !== undefined ? { finishedAt: view.finishedAt } : {}),
    request: view.request,
    owners: [...doc.owners.filter((o) => !owners.some((x) => sameOwner(x, o))), ...owners],
    deletedPods: [...new Set([...doc.deletedPods, ...deletedPods])],
    claims,
    ...(view.templates ? { templates: view.templates } : doc.templates ? { templates: doc.templates } : {}),
    ...(view.resume ? { resume: view.resume } : doc.resume ? { resume: doc.resume } : {}),
    ...(view.rollback
      ? {
          rollback: {
            startedAt: view.rollback.startedAt,
            fromPhase: view.rollback.fromPhase,
            ...(view.rollback.finishedAt !== undefined ? { finishedAt: view.rollback.finishedAt } : {}),
          },
        }
      : {}),
  };
}

/** A schema-1 journal as schema 2: the same migration with its one claim. */
export function upgradeV1(v1: JournalV1): MigrationJournal {
  const { schemaVersion: _v, ...view } = v1;
  return newMigrationJournal(view);
}

export function parseJournal(text: string): MigrationJournal {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new JournalFormatError(`the journal is not valid JSON (${(err as Error).message})`);
  }
  if (typeof data !== 'object' || data === null) throw new JournalFormatError('the journal is not an object');
  const version = (data as { schemaVersion?: unknown }).schemaVersion;
  if (version === 1) {
    const v1 = data as JournalV1;
    for (const field of ['migrationId', 'claim', 'original', 'names', 'steps', 'request'] as const) {
      if (v1[field] === undefined) throw new JournalFormatError(`the journal lacks "${field}"`);
    }
    return upgradeV1(v1);
  }
  if (version !== JOURNAL_SCHEMA_VERSION) {
    const newer = typeof version === 'number' && version > JOURNAL_SCHEMA_VERSION;
    throw new JournalFormatError(
      newer
        ? `the journal has schemaVersion ${version}, written by a newer kubectl-pvmove; upgrade it`
        : `the journal has unsupported schemaVersion ${JSON.stringify(version)} (expected 1 or ${JOURNAL_SCHEMA_VERSION})`,
    );
  }
  const doc = data as MigrationJournal;
  for (const field of ['migrationId', 'namespace', 'request', 'owners', 'claims'] as const) {
    if (doc[field] === undefined) throw new JournalFormatError(`the journal lacks "${field}"`);
  }
  if (!Array.isArray(doc.claims) || doc.claims.length === 0)
    throw new JournalFormatError('the journal holds no claim');
  for (const c of doc.claims) {
    for (const field of ['name', 'original', 'names', 'steps'] as const) {
      if (c[field] === undefined) throw new JournalFormatError(`a claim of the journal lacks "${field}"`);
    }
  }
  return doc;
}

export function isStepDone(journal: Journal | undefined, step: string): boolean {
  return journal?.steps[step]?.status === 'done';
}

/** A copy with one step's record replaced; journals are treated as values. */
export function withStep(journal: Journal, step: string, record: StepRecord): Journal {
  return { ...journal, steps: { ...journal.steps, [step]: record } };
}

/** Strips what the API server owns, so the manifest can be re-created and diffed. */
export function cleanPvcForJournal(pvc: Pvc): Pvc {
  const m = pvc.metadata;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      ...(m.labels ? { labels: { ...m.labels } } : {}),
      ...(m.annotations ? { annotations: { ...m.annotations } } : {}),
      ...(m.ownerReferences ? { ownerReferences: m.ownerReferences.map((r) => ({ ...r })) } : {}),
      ...(m.finalizers ? { finalizers: [...m.finalizers] } : {}),
    },
    spec: JSON.parse(JSON.stringify(pvc.spec ?? {})) as Pvc['spec'],
    ...(pvc.status ? { status: { phase: pvc.status.phase, capacity: pvc.status.capacity } } : {}),
  };
}

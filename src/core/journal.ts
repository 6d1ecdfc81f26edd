// The journal: what undo needs, written to a ConfigMap before the change that makes it necessary
// (invariant 2). Versioned so later releases (rollback, several claims, warm pre-copy) can read
// journals written by this one and refuse ones written by a newer one.
import type { OwnerRecord, Pvc, VerifyMode } from './types.js';
import type { StepStatus } from './events.js';

export const JOURNAL_SCHEMA_VERSION = 1;

export interface StepRecord {
  status: Exclude<StepStatus, 'skipped'>;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
}

export interface JournalV1 {
  schemaVersion: 1;
  migrationId: string;
  createdAt: string;
  /**
   * 'finished' once the last step is done; cleanup only acts on finished migrations. A rollback
   * sets 'rolling-back' when it starts and 'rolled-back' when the claim is back on its source PV.
   */
  phase: 'in-progress' | 'finished' | 'rolling-back' | 'rolled-back';
  finishedAt?: string;
  claim: { namespace: string; name: string };
  /** What the user asked for; a re-run with other values is refused while in progress. */
  request: { toClass: string; size: string; verify: VerifyMode };
  original: {
    /** The claim as it was, cleaned of server-owned fields; the source for re-creation and rollback. */
    pvc: Pvc;
    pvcUid: string;
    /**
     * uid: the PV object's own uid, so cleanup and rollback can tell that the PV the journal names is
     * the one this migration touched (a journal is a ConfigMap: anyone who can edit it could name
     * another PV). Optional: journals written before it was recorded lack it.
     */
    sourcePv: { name: string; reclaimPolicy: string; uid?: string };
    /** Filled in when the target PV is bound, before its policy is changed. */
    targetPv?: { name: string; reclaimPolicy: string; uid?: string };
    owners: OwnerRecord[];
    /** Bare pods deleted with --delete-pods: they cannot be brought back, only reported. */
    deletedPods: string[];
  };
  names: { targetClaim: string; copyPod: string };
  copy?: {
    totalBytes?: number;
    files?: number;
    verify: VerifyMode;
    verifiedAt: string;
    /** The source as it was when copied (see the copy script's fingerprint): a re-run checks it. */
    sourceFingerprint?: string;
    /** The run that made or re-checked the copy; another run must check it again before relying on it. */
    runId?: string;
  };
  /** The claim re-created under the original name (recreate-claim): only that claim is ours. */
  recreatedClaim?: { uid: string };
  steps: Record<string, StepRecord>;
  /** Written by `kubectl pvmove rollback` (added in the same schema version: optional). */
  rollback?: RollbackRecord;
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

export type Journal = JournalV1;

export class JournalFormatError extends Error {}

export function serializeJournal(journal: Journal): string {
  return JSON.stringify(journal, null, 2);
}

export function parseJournal(text: string): Journal {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new JournalFormatError(`the journal is not valid JSON (${(err as Error).message})`);
  }
  if (typeof data !== 'object' || data === null) throw new JournalFormatError('the journal is not an object');
  const version = (data as { schemaVersion?: unknown }).schemaVersion;
  if (version !== JOURNAL_SCHEMA_VERSION) {
    const newer = typeof version === 'number' && version > JOURNAL_SCHEMA_VERSION;
    throw new JournalFormatError(
      newer
        ? `the journal has schemaVersion ${version}, written by a newer kubectl-pvmove; upgrade it`
        : `the journal has unsupported schemaVersion ${JSON.stringify(version)} (expected ${JOURNAL_SCHEMA_VERSION})`,
    );
  }
  const j = data as Journal;
  for (const field of ['migrationId', 'claim', 'original', 'names', 'steps', 'request'] as const) {
    if (j[field] === undefined) throw new JournalFormatError(`the journal lacks "${field}"`);
  }
  return j;
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

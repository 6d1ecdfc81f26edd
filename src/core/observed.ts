// The cluster as seen right now, as far as one migration is concerned. Steps decide from this plus
// the journal (invariant 3), never from the journal alone.
import type { Journal } from './journal.js';
import type { OwnerState, Pod, Pv, Pvc } from './types.js';
import { ANNOTATION_COPIED } from './defaults.js';

export interface Observed {
  journal?: Journal;
  /** The claim under the original name: the original one, or the re-created one. */
  claim?: Pvc;
  sourcePv?: Pv;
  targetClaim?: Pvc;
  targetPv?: Pv;
  copyPod?: Pod;
  /** Active pods other than the copy pod that mount the original claim name. */
  podsUsingClaim: Pod[];
  /** Current state of every owner recorded in the journal. */
  owners: OwnerState[];
}

export function targetPvName(o: Observed): string | undefined {
  return o.journal?.original.targetPv?.name ?? o.targetClaim?.spec?.volumeName ?? o.targetPv?.metadata.name;
}

/** The claim under its original name, bound to the target PV: the swap is complete. */
export function finalClaimBound(o: Observed): boolean {
  const pv = targetPvName(o);
  return (
    pv !== undefined &&
    o.claim?.spec?.volumeName === pv &&
    o.claim.status?.phase === 'Bound' &&
    o.claim.metadata.deletionTimestamp === undefined
  );
}

/** The original claim (same uid as recorded) still exists. */
export function originalClaimExists(o: Observed): boolean {
  const uid = o.journal?.original.pvcUid;
  return o.claim !== undefined && uid !== undefined && o.claim.metadata.uid === uid;
}

export function isCopied(o: Observed): boolean {
  const id = o.journal?.migrationId;
  return id !== undefined && o.targetPv?.metadata.annotations?.[ANNOTATION_COPIED] === id;
}

export function ownersStopped(o: Observed): boolean {
  return o.owners.every((s) => {
    if (!s.exists) return true;
    if (s.kind === 'CronJob' || s.kind === 'Job') return s.suspend === true;
    return s.replicas === 0;
  });
}

export function ownersRestored(o: Observed): boolean {
  const records = o.journal?.original.owners ?? [];
  return records.every((r) => {
    const s = o.owners.find((x) => x.kind === r.kind && x.name === r.name);
    if (!s || !s.exists) return true; // deleted by someone else: nothing to restore
    if (r.kind === 'CronJob' || r.kind === 'Job') return s.suspend === (r.suspend ?? false);
    return s.replicas === r.replicas && (s.readyReplicas ?? 0) >= (r.replicas ?? 0);
  });
}

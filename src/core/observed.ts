// The cluster as seen right now, as far as one migration is concerned. Steps decide from this plus
// the journal (invariant 3), never from the journal alone.
import type { Journal } from './journal.js';
import type { OwnerState, Pod, Pv, Pvc, StatefulSetManifest } from './types.js';
import { deletesClaimsOnScaleDown, retentionToRestore } from './owners.js';
import { ANNOTATION_COPIED, ANNOTATION_MIGRATION } from './defaults.js';

export interface Observed {
  journal?: Journal;
  /** The claim under the original name: the original one, or the re-created one. */
  claim?: Pvc;
  sourcePv?: Pv;
  targetClaim?: Pvc;
  targetPv?: Pv;
  copyPod?: Pod;
  /**
   * Active pods other than the copy pod that mount the original claim name, as the API server's
   * cache has them (it may lag by moments; a claim is deleted only after a consistent list).
   */
  podsUsingClaim: Pod[];
  /** Current state of every owner recorded in the journal. */
  owners: OwnerState[];
  /** This run of the command (a copy made or checked by another run is checked again). */
  runId?: string;
  /** The StatefulSets whose claim templates the migration rewrites, as they are now (null: gone). */
  statefulSets?: Record<string, StatefulSetManifest | null>;
}

export function targetPvName(o: Observed): string | undefined {
  return o.journal?.original.targetPv?.name ?? o.targetClaim?.spec?.volumeName ?? o.targetPv?.metadata.name;
}

/**
 * The claim under the original name is the one this migration re-created: it carries the migration's
 * annotation, and its uid is the recorded one once recorded. A claim of that name that someone else
 * created (a StatefulSet scaling up from its template binds the pre-bound PV whatever its class) is
 * never taken for ours, even when it is bound to the target PV.
 */
export function isRecreatedClaim(o: Observed): boolean {
  const j = o.journal;
  if (!j || !o.claim) return false;
  if (o.claim.metadata.annotations?.[ANNOTATION_MIGRATION] !== j.migrationId) return false;
  return j.recreatedClaim === undefined || j.recreatedClaim.uid === o.claim.metadata.uid;
}

/** The claim under its original name, bound to the target PV: the swap is complete. */
export function finalClaimBound(o: Observed): boolean {
  const pv = targetPvName(o);
  return (
    pv !== undefined &&
    isRecreatedClaim(o) &&
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

/** The target PV was marked verified by a copy of this migration (by this run or an earlier one). */
export function isCopied(o: Observed): boolean {
  const id = o.journal?.migrationId;
  return id !== undefined && o.targetPv?.metadata.annotations?.[ANNOTATION_COPIED] === id;
}

/**
 * The copy can be relied on now: made or checked again by this run, which has watched the source
 * since; or the original claim is gone or going (nothing can mount the source any more). A copy an
 * earlier run made is not enough: the application may have been scaled up and written in between.
 */
export function copyStands(o: Observed): boolean {
  if (!isCopied(o)) return false;
  if (o.runId !== undefined && o.journal?.copy?.runId === o.runId) return true;
  return !originalClaimExists(o) || o.claim?.metadata.deletionTimestamp !== undefined;
}

export function ownersStopped(o: Observed): boolean {
  return o.owners.every((s) => {
    if (!s.exists) return true;
    if (s.kind === 'CronJob' || s.kind === 'Job') return s.suspend === true;
    // At 0 replicas with whenScaled: Delete, the claim is (being) deleted: not a safe stop.
    return s.replicas === 0 && !deletesClaimsOnScaleDown(s);
  });
}

export function ownersRestored(o: Observed): boolean {
  const records = o.journal?.original.owners ?? [];
  return records.every((r) => {
    const s = o.owners.find((x) => x.kind === r.kind && x.name === r.name);
    if (!s || !s.exists) return true; // deleted by someone else: nothing to restore
    if (r.kind === 'CronJob' || r.kind === 'Job') return s.suspend === (r.suspend ?? false);
    return (
      s.replicas === r.replicas &&
      (s.readyReplicas ?? 0) >= (r.replicas ?? 0) &&
      retentionToRestore(r, s) === undefined
    );
  });
}

export function reclaimPolicyOf(
  pv: { spec?: { persistentVolumeReclaimPolicy?: string } } | undefined,
): string | undefined {
  return pv?.spec?.persistentVolumeReclaimPolicy;
}

/** The claim under the original name is the one we re-created on the target PV (the swap happened, fully or partly). */
export function finalClaimPresent(o: Observed): boolean {
  const pv = targetPvName(o);
  return (
    o.claim !== undefined &&
    !originalClaimExists(o) &&
    isRecreatedClaim(o) &&
    pv !== undefined &&
    o.claim.spec?.volumeName === pv
  );
}

/** The claim under the original name is bound to the source PV (the original, or the restored one). */
export function claimOnSource(o: Observed): boolean {
  const source = o.journal?.original.sourcePv.name;
  return (
    source !== undefined &&
    o.claim?.spec?.volumeName === source &&
    o.claim.status?.phase === 'Bound' &&
    o.claim.metadata.deletionTimestamp === undefined
  );
}

/** A claim under the original name that is neither the original nor the one this migration re-created. */
export function nameTaken(o: Observed): boolean {
  return o.claim !== undefined && !originalClaimExists(o) && !isRecreatedClaim(o);
}

/**
 * As nameTaken, for a rollback: a claim on the source PV is also ours (the one a rollback restored).
 * Someone else's claim (a StatefulSet scaling up binds the pre-bound target PV whatever its class)
 * is neither deleted nor unbound by us.
 */
export function nameTakenByOther(o: Observed): boolean {
  return nameTaken(o) && o.claim?.spec?.volumeName !== o.journal?.original.sourcePv.name;
}

/** The PV's claimRef names the original claim, pre-bound (no uid) or bound to the claim now under that name. */
export function heldForOriginalName(pv: Pv | undefined, o: Observed): boolean {
  const ref = pv?.spec?.claimRef;
  const claim = o.journal?.claim;
  return (
    claim !== undefined &&
    ref?.name === claim.name &&
    ref.namespace === claim.namespace &&
    (!ref.uid || ref.uid === o.claim?.metadata.uid)
  );
}

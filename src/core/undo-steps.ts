// The rollback itinerary: the undo table of docs/invariants.md as a reverse walk. Each undo
// step has a pure postcondition over what is observed (invariant 3) and one idempotent action that
// checks the state first, so a rollback can be interrupted and run again from any point.
//
// Order matters for invariant 1: the source PV stays Retain until the claim is bound to it again,
// and a target PV that may hold writes made after the move is set to Retain before its claim goes.
import { StepProblem } from './errors.js';
import type { ClusterPort } from './cluster.js';
import type { Emit } from './events.js';
import type { Journal } from './journal.js';
import {
  buildRestoredClaim,
  keptTargetPatch,
  prebindPatch,
  reclaimPolicyPatch,
  releasedClaimRef,
} from './manifests.js';
import type { MigrationNames } from './names.js';
import {
  isRecreatedClaim,
  originalClaimExists,
  ownersRestored,
  ownersStopped,
  targetPvName,
  type Observed,
} from './observed.js';
import { ownerLabel, podsUsingClaim } from './owners.js';
import { restoreOwner, stopOwner } from './steps/scale.js';
import type { Pv, Timeouts } from './types.js';
import { LABEL_KEPT_BY_ROLLBACK, LABEL_MIGRATED_TO, LABEL_MIGRATION_ID } from './defaults.js';

export type UndoStepId =
  | 'undo-stop-owners'
  | 'undo-delete-copy-pod'
  | 'undo-retain-target-pv'
  | 'undo-delete-claims'
  | 'undo-release-target-pv'
  | 'undo-prebind-source-pv'
  | 'undo-recreate-claim'
  | 'undo-restore-source-policy'
  | 'undo-restore-owners'
  | 'undo-finish';

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

export interface UndoStep {
  readonly id: UndoStepId;
  readonly title: string;
  /** Pure postcondition; `keepTarget` is the decision recorded when the rollback started. */
  isDone(o: Observed, keepTarget: boolean): boolean;
  run(ctx: UndoContext): Promise<void>;
}

const policyOf = (pv: Pv | undefined): string | undefined => pv?.spec?.persistentVolumeReclaimPolicy;

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

/**
 * A claim under the original name that is none of ours: not the original, not the one re-created
 * on the target PV, not the one restored on the source PV. Someone made it (a StatefulSet scaling
 * up binds the pre-bound target PV whatever its class): it is neither deleted nor unbound by us.
 */
export function nameTakenByOther(o: Observed): boolean {
  if (!o.claim || originalClaimExists(o) || isRecreatedClaim(o)) return false;
  return o.claim.spec?.volumeName !== o.journal?.original.sourcePv.name;
}

function nameTakenProblem(o: Observed): StepProblem {
  const name = o.claim?.metadata.name ?? '?';
  const ns = o.claim?.metadata.namespace ?? o.journal?.claim.namespace ?? '?';
  return new StepProblem(
    `claim ${name} was created by someone else, not by kubectl-pvmove (uid ${o.claim?.metadata.uid ?? '?'}, volume ${o.claim?.spec?.volumeName ?? 'none'}), so it is left alone; ` +
      `the source PV ${o.journal?.original.sourcePv.name ?? '?'} keeps the original data with reclaim policy Retain: scale what creates the claim to 0, ` +
      `delete it with \`kubectl delete pvc ${name} -n ${ns}\`, then continue`,
  );
}

/** The policy rollback leaves on the target PV: Retain when kept, else its recorded original. */
export function wantedTargetPolicy(o: Observed, keepTarget: boolean): string | undefined {
  if (keepTarget) return 'Retain';
  return o.journal?.original.targetPv?.reclaimPolicy ?? policyOf(o.targetPv);
}

async function waitGone(ctx: UndoContext, what: string, probe: () => Promise<unknown>): Promise<void> {
  await ctx.cluster.waitFor(what, ctx.timeouts.deleteMs, async () => ((await probe()) ? undefined : true));
}

export const undoStopOwners: UndoStep = {
  id: 'undo-stop-owners',
  title: 'Stop the owners again while the claim is on the target PV',
  isDone: (o) => !finalClaimPresent(o) || (ownersStopped(o) && o.podsUsingClaim.length === 0),
  async run(ctx) {
    for (const owner of ctx.journal.original.owners) {
      const state = ctx.observed.owners.find((s) => s.kind === owner.kind && s.name === owner.name);
      if (state && !state.exists) continue;
      // As in scale-down: a StatefulSet with whenScaled: Delete would delete the claim on the target PV.
      await stopOwner(ctx.cluster, ctx.namespace, owner, state);
    }
    await ctx.cluster.waitFor(
      `no pod to use claim ${ctx.claim}`,
      ctx.timeouts.scaleMs,
      async () =>
        podsUsingClaim(await ctx.cluster.listPods(ctx.namespace), ctx.claim, ctx.names.copyPod).length === 0
          ? true
          : undefined,
      { signal: ctx.signal },
    );
  },
};

export const undoDeleteCopyPod: UndoStep = {
  id: 'undo-delete-copy-pod',
  title: 'Delete the copy pod',
  isDone: (o) => o.copyPod === undefined,
  async run(ctx) {
    await ctx.cluster.deletePod(ctx.namespace, ctx.names.copyPod);
    await waitGone(ctx, `copy pod ${ctx.names.copyPod} to be deleted`, () =>
      ctx.cluster.getPod(ctx.namespace, ctx.names.copyPod),
    );
  },
};

export const undoRetainTargetPv: UndoStep = {
  id: 'undo-retain-target-pv',
  title: 'Keep the target PV (it may hold writes made after the move): reclaim policy Retain',
  isDone: (o, keep) =>
    !keep ||
    o.targetPv === undefined ||
    (policyOf(o.targetPv) === 'Retain' && o.targetPv.metadata.labels?.[LABEL_KEPT_BY_ROLLBACK] === 'true'),
  async run(ctx) {
    const pv = targetPvName(ctx.observed);
    // Labelled so `kubectl get pv -l pvmove.kubectl.io/kept-by-rollback=true` finds what to review.
    if (pv) await ctx.cluster.patchPv(pv, keptTargetPatch(ctx.journal.migrationId));
  },
};

export const undoDeleteClaims: UndoStep = {
  id: 'undo-delete-claims',
  title: 'Delete the temporary claim and the claim on the target PV',
  isDone: (o) => o.targetClaim === undefined && !finalClaimPresent(o),
  async run(ctx) {
    const o = ctx.observed;
    const ns = ctx.namespace;
    if (finalClaimPresent(o) && o.podsUsingClaim.length > 0) {
      throw new StepProblem(
        `pod ${o.podsUsingClaim.map((p) => p.metadata.name).join(', ')} uses ${ctx.claim}; its owner was scaled up by someone else`,
      );
    }
    if (o.targetClaim) await ctx.cluster.deletePvc(ns, ctx.names.targetClaim, o.targetClaim.metadata.uid);
    if (finalClaimPresent(o)) await ctx.cluster.deletePvc(ns, ctx.claim, o.claim?.metadata.uid);
    const finalUid = finalClaimPresent(o) ? o.claim?.metadata.uid : undefined;
    await ctx.cluster.waitFor('the claims to be deleted', ctx.timeouts.deleteMs, async () => {
      const [a, b] = await Promise.all([
        ctx.cluster.getPvc(ns, ctx.claim),
        ctx.cluster.getPvc(ns, ctx.names.targetClaim),
      ]);
      return !b && (!finalUid || a?.metadata.uid !== finalUid) ? true : undefined;
    });
  },
};

export const undoReleaseTargetPv: UndoStep = {
  id: 'undo-release-target-pv',
  title: 'Release the target PV per its original reclaim policy',
  isDone: (o, keep) => {
    const pv = o.targetPv;
    if (!pv) return true;
    const ref = pv.spec?.claimRef;
    const released =
      ref?.uid !== undefined &&
      ref.uid !== '' &&
      ref.uid !== o.claim?.metadata.uid &&
      ref.uid !== o.targetClaim?.metadata.uid;
    return released && policyOf(pv) === wantedTargetPolicy(o, keep);
  },
  async run(ctx) {
    const o = ctx.observed;
    const pv = o.targetPv;
    const name = targetPvName(o);
    if (!pv || !name) return;
    if (finalClaimPresent(o))
      throw new StepProblem(`claim ${ctx.claim} is still bound to the target PV ${name}`);
    // Unbinding it would take the volume from under a claim we did not create.
    if (nameTakenByOther(o)) throw nameTakenProblem(o);
    const keep = ctx.journal.rollback?.keepTargetPv ?? false;
    const policy = wantedTargetPolicy(o, keep) ?? 'Retain';
    const ref = pv.spec?.claimRef;
    // A pre-bound (uid-less) or free PV is not Released, so its policy would never apply; a claimRef
    // to a claim that does not exist makes the PV controller release it (and reclaim it per policy).
    const needsRelease = !ref?.uid || ref.uid === o.claim?.metadata.uid;
    const claimRef = releasedClaimRef(ctx.namespace, ctx.names.targetClaim, ctx.journal.migrationId);
    await ctx.cluster.patchPv(name, {
      spec: { persistentVolumeReclaimPolicy: policy, ...(needsRelease ? { claimRef } : {}) },
    });
    if (keep) {
      ctx.emit({
        type: 'warning',
        step: 'undo-release-target-pv',
        message: `target PV ${name} is kept (Retain, Released): it may hold what was written after the move; delete it with \`kubectl delete pv ${name}\` once you do not need that`,
      });
    }
  },
};

export const undoPrebindSourcePv: UndoStep = {
  id: 'undo-prebind-source-pv',
  title: 'Pre-bind the source PV to the original claim name',
  isDone: (o) => {
    if (originalClaimExists(o) || claimOnSource(o)) return true;
    const ref = o.sourcePv?.spec?.claimRef;
    const claim = o.journal?.claim;
    return (
      claim !== undefined &&
      ref?.name === claim.name &&
      ref.namespace === claim.namespace &&
      (!ref.uid || ref.uid === o.claim?.metadata.uid)
    );
  },
  async run(ctx) {
    const o = ctx.observed;
    if (!o.sourcePv) {
      throw new StepProblem(
        `the source PV ${ctx.journal.original.sourcePv.name} is gone; the original data cannot be restored`,
      );
    }
    if (nameTakenByOther(o)) throw nameTakenProblem(o);
    await ctx.cluster.patchPv(ctx.journal.original.sourcePv.name, prebindPatch(ctx.namespace, ctx.claim));
  },
};

export const undoRecreateClaim: UndoStep = {
  id: 'undo-recreate-claim',
  title: 'Re-create the claim from the journal on the source PV',
  isDone: (o) => claimOnSource(o),
  async run(ctx) {
    const o = ctx.observed;
    const source = ctx.journal.original.sourcePv.name;
    if (nameTakenByOther(o)) throw nameTakenProblem(o);
    if (!o.claim) await ctx.cluster.createPvc(buildRestoredClaim(ctx.journal.original.pvc, source));
    await ctx.cluster.waitFor(
      `claim ${ctx.claim} to be bound to ${source}`,
      ctx.timeouts.bindMs,
      async () => {
        const pvc = await ctx.cluster.getPvc(ctx.namespace, ctx.claim);
        return pvc?.status?.phase === 'Bound' && pvc.spec?.volumeName === source ? true : undefined;
      },
    );
  },
};

export const undoRestoreSourcePolicy: UndoStep = {
  id: 'undo-restore-source-policy',
  title: "Restore the source PV's original reclaim policy",
  isDone: (o) =>
    o.journal !== undefined &&
    claimOnSource(o) &&
    policyOf(o.sourcePv) === o.journal.original.sourcePv.reclaimPolicy,
  async run(ctx) {
    if (!claimOnSource(ctx.observed))
      throw new StepProblem(`claim ${ctx.claim} is not bound to the source PV`);
    const src = ctx.journal.original.sourcePv;
    await ctx.cluster.patchPv(src.name, reclaimPolicyPatch(src.reclaimPolicy));
  },
};

export const undoRestoreOwners: UndoStep = {
  id: 'undo-restore-owners',
  title: 'Scale owners back to their recorded replicas and wait until they are ready',
  isDone: (o) => claimOnSource(o) && ownersRestored(o),
  async run(ctx) {
    if (!claimOnSource(ctx.observed))
      throw new StepProblem(`claim ${ctx.claim} is not bound to the source PV`);
    for (const owner of [...ctx.journal.original.owners].reverse()) {
      const state = ctx.observed.owners.find((s) => s.kind === owner.kind && s.name === owner.name);
      if (state && !state.exists) {
        ctx.emit({
          type: 'warning',
          step: 'undo-restore-owners',
          message: `${ownerLabel(owner)} no longer exists`,
        });
        continue;
      }
      // Replicas or suspend flag, and a StatefulSet's claim retention policy after its replicas.
      await restoreOwner(ctx.cluster, ctx.namespace, owner, state);
    }
    await ctx.cluster.waitFor(
      'owners to be ready',
      ctx.timeouts.readyMs,
      async () => (ownersRestored(await ctx.observe()) ? true : undefined),
      { signal: ctx.signal },
    );
  },
};

export const undoFinish: UndoStep = {
  id: 'undo-finish',
  title: 'Unlabel the source PV and mark the journal rolled back',
  isDone: (o) => o.journal?.phase === 'rolled-back',
  async run(ctx) {
    const labels = ctx.observed.sourcePv?.metadata.labels ?? {};
    if (labels[LABEL_MIGRATED_TO] !== undefined || labels[LABEL_MIGRATION_ID] !== undefined) {
      await ctx.cluster.patchPv(ctx.journal.original.sourcePv.name, {
        metadata: { labels: { [LABEL_MIGRATED_TO]: null, [LABEL_MIGRATION_ID]: null } },
      });
    }
    const now = ctx.now().toISOString();
    await ctx.updateJournal((j) => ({
      ...j,
      phase: 'rolled-back',
      ...(j.rollback ? { rollback: { ...j.rollback, finishedAt: now } } : {}),
    }));
  },
};

export const UNDO_ITINERARY: readonly UndoStep[] = [
  undoStopOwners, //              the app ran on the target PV: stop it again
  undoDeleteCopyPod, //           copy pod -> delete
  undoRetainTargetPv, //          only when the target PV holds writes made after the move
  undoDeleteClaims, //            temp claim, and the claim on the target PV
  undoReleaseTargetPv, //         original policy (or Retain when kept), Released
  undoPrebindSourcePv, //         claimRef namespace/name, no uid
  undoRecreateClaim, //           the journal's manifest, volumeName = source PV
  undoRestoreSourcePolicy, //     last for the PV: once the claim is bound to it again
  undoRestoreOwners, //           recorded replicas / suspend flags
  undoFinish, //                  journal phase rolled-back
] as const;

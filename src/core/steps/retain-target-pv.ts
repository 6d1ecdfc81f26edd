// Step 6: wait until the target claim is bound, write the target PV's original policy down, then
// set it to Retain (with --precopy, warm-copy did so already, before the stop). Undone by giving
// the target PV its recorded policy again (Retain when the rollback keeps it), before the temporary
// claim goes, so the policy decides what happens to it.
import { StepProblem } from '../errors.js';
import { reclaimPolicyPatch, releasedClaimRef, retainAndMarkPatch } from '../manifests.js';
import { LABEL_MIGRATION_ID } from '../defaults.js';
import { finalClaimBound, reclaimPolicyOf, targetPvName, type Observed } from '../observed.js';
import { replaceStaleCopyPod } from '../copy-pod.js';
import { claimEventsHint, copyPodHint } from '../wait-hints.js';
import { needJournal, type Step, type StepContext, type UndoStep } from '../step.js';

/** The policy rollback leaves on the target PV: Retain when kept, else its recorded original. */
export function wantedTargetPolicy(o: Observed, keepTarget: boolean): string | undefined {
  if (keepTarget) return 'Retain';
  return o.journal?.original.targetPv?.reclaimPolicy ?? reclaimPolicyOf(o.targetPv);
}

const undoRestoreTargetPolicy: UndoStep = {
  id: 'undo-restore-target-policy',
  title: 'Give the target PV its original reclaim policy (Retain if it is kept)',
  // A PV with no claim (uid) is never Released, so its policy would never apply.
  isDone: (o, keep) =>
    o.targetPv === undefined ||
    (reclaimPolicyOf(o.targetPv) === wantedTargetPolicy(o, keep) && !!o.targetPv.spec?.claimRef?.uid),
  async run(ctx) {
    const o = ctx.observed;
    const name = targetPvName(o);
    const policy = wantedTargetPolicy(o, ctx.journal.rollback?.keepTargetPv ?? false) ?? 'Retain';
    if (!name) return;
    const free = !o.targetPv?.spec?.claimRef?.uid;
    // A claimRef to a claim that does not exist makes the PV controller release it (and reclaim
    // it per policy).
    const claimRef = releasedClaimRef(ctx.namespace, ctx.names.targetClaim, ctx.journal.migrationId);
    await ctx.cluster.patchPv(name, {
      spec: { persistentVolumeReclaimPolicy: policy, ...(free ? { claimRef } : {}) },
    });
  },
};

export const retainTargetPv: Step = {
  id: 'retain-target-pv',
  title: 'Wait for the target PV and set its reclaim policy to Retain',
  isDone: (o) =>
    finalClaimBound(o) ||
    (o.journal?.original.targetPv !== undefined &&
      o.targetPv !== undefined &&
      reclaimPolicyOf(o.targetPv) === 'Retain'),
  whyNotDone: (o) =>
    o.targetPv
      ? `target PV policy is ${reclaimPolicyOf(o.targetPv) ?? 'unknown'}`
      : 'the target claim is not bound',
  async run(ctx) {
    await replaceStaleCopyPod(ctx, needJournal(ctx));
    await retainBoundTarget(ctx);
  },
  undo: [undoRestoreTargetPolicy],
  plan: (p) => [
    {
      step: 'retain-target-pv',
      action: 'patch',
      kind: 'PersistentVolume',
      name: p.targetPv,
      body: reclaimPolicyPatch('Retain'),
    },
  ],
};

/**
 * Waits until the target claim is bound, writes the target PV's original policy down and sets it to
 * Retain. Also run by warm-copy, while the application still runs: this step then finds it done and
 * the downtime does not hold it.
 */
export async function retainBoundTarget(ctx: StepContext): Promise<void> {
  const ns = ctx.req.namespace;
  const name = ctx.names.targetClaim;
  // With WaitForFirstConsumer the claim binds once the copy pod schedules; explain a pod that cannot.
  const bound = await ctx.cluster.waitFor(
    `claim ${name} to be bound`,
    ctx.req.timeouts.bindMs,
    async () => {
      const pvc = await ctx.cluster.getPvc(ns, name);
      if (!pvc) throw new StepProblem(`target claim ${name} disappeared`);
      return pvc.status?.phase === 'Bound' && pvc.spec?.volumeName ? pvc : undefined;
    },
    {
      signal: ctx.signal,
      wakeOn: [{ kind: 'PersistentVolumeClaim', namespace: ns, name }],
      detail: async () => {
        const [claimWhy, podWhy] = await Promise.all([
          claimEventsHint(ctx.cluster, ns, name),
          copyPodHint(ctx.cluster, ns, ctx.names.copyPod),
        ]);
        return [claimWhy, podWhy].filter(Boolean).join('; ') || undefined;
      },
    },
  );
  const pvName = bound.spec?.volumeName ?? '';
  const pv = await ctx.cluster.getPv(pvName);
  if (!pv) throw new StepProblem(`target PV ${pvName} not found`);
  // Write the original policy down before changing it (invariant 2); never overwrite it on a re-run.
  if (!needJournal(ctx).original.targetPv) {
    await ctx.updateJournal((cur) => ({
      ...cur,
      original: {
        ...cur.original,
        targetPv: cur.original.targetPv ?? {
          name: pvName,
          reclaimPolicy: reclaimPolicyOf(pv) ?? 'Delete',
          ...(pv.metadata.uid ? { uid: pv.metadata.uid } : {}),
        },
      },
    }));
  }
  const marked = pv.metadata.labels?.[LABEL_MIGRATION_ID] === needJournal(ctx).migrationId;
  if (reclaimPolicyOf(pv) !== 'Retain' || !marked)
    await ctx.cluster.patchPv(pvName, retainAndMarkPatch(needJournal(ctx).migrationId));
}

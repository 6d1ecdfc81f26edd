// Step 4: nobody writes while we copy (invariant 7). Undone by bringing the owners back as
// recorded, once the claim is on the source PV again.
import { StepProblem } from '../errors.js';
import { prepareFinalPass } from '../final-pass-prepare.js';
import { claimOnSource, finalClaimBound, ownersRestored, ownersStopped } from '../observed.js';
import { deletesClaimsOnScaleDown } from '../owners.js';
import type { PlanContext, PlannedChange } from '../plan.js';
import { needJournal, type Step, type UndoStep } from '../step.js';
import type { OwnerId, OwnerRecord } from '../types.js';
import { restoreOwnersAndWait, stopOwnersAndWait } from './owner-scaling.js';

const undoRestoreOwners: UndoStep = {
  id: 'undo-restore-owners',
  title: 'Scale owners back to their recorded replicas and wait until they are ready',
  isDone: (o) => claimOnSource(o) && ownersRestored(o),
  async run(ctx) {
    if (!claimOnSource(ctx.observed))
      throw new StepProblem(`claim ${ctx.claim} is not bound to the source PV`);
    await restoreOwnersAndWait(
      { ...ctx, copyPod: ctx.names.copyPod, step: 'undo-restore-owners' },
      ctx.journal.original.owners,
      ctx.timeouts.readyMs,
    );
  },
};

export const scaleDown: Step = {
  id: 'scale-down',
  title: 'Scale owners to 0, suspend (Cron)Jobs, wait until no pod uses the claim',
  // After the swap the owners run again on the new volume: that is past this step, not undoing it.
  isDone: (o) =>
    finalClaimBound(o) || (o.journal !== undefined && ownersStopped(o) && o.podsUsingClaim.length === 0),
  whyNotDone: (o) => `pods still using the claim: ${o.podsUsingClaim.map((p) => p.metadata.name).join(', ')}`,
  async run(ctx) {
    const j = needJournal(ctx);
    const ns = ctx.req.namespace;
    await prepareFinalPass(ctx);
    const stoppingAt = ctx.now().toISOString();
    const scaling = {
      ...ctx,
      namespace: ns,
      claim: ctx.req.claim,
      copyPod: ctx.names.copyPod,
      step: 'scale-down',
    };
    await stopOwnersAndWait(scaling, j.original.owners, ctx.req.timeouts.scaleMs, async () => {
      for (const pod of j.original.deletedPods) {
        ctx.emit({
          type: 'warning',
          step: 'scale-down',
          message: `deleting pod ${pod} (--delete-pods); it will not come back`,
        });
        await ctx.cluster.deletePod(ns, pod);
      }
    });
    return { stoppingAt };
  },
  undo: [undoRestoreOwners],
  plan: (p) => [
    ...retentionPatches(p.owners, 'scale-down'),
    ...p.owners.map((owner): PlannedChange => ({
      step: 'scale-down',
      action: suspendable(owner) ? 'patch' : 'scale',
      kind: owner.kind,
      name: owner.name,
      body: suspendable(owner) ? { spec: { suspend: true } } : { spec: { replicas: 0 } },
    })),
  ],
};

export const suspendable = (o: OwnerId): boolean => o.kind === 'Job' || o.kind === 'CronJob';

/** Recorded whenScaled: Delete -> Retain before the scale-down, and back after the scale-up. */
export function retentionPatches(
  owners: PlanContext['owners'],
  step: 'scale-down' | 'scale-up',
): PlannedChange[] {
  return owners.filter(deletesClaimsOnScaleDown).map((o) => ({
    step,
    action: 'patch',
    kind: 'StatefulSet',
    name: o.name,
    body: {
      spec: {
        persistentVolumeClaimRetentionPolicy: {
          whenScaled: step === 'scale-down' ? 'Retain' : (o as OwnerRecord).pvcRetentionWhenScaled,
        },
      },
    },
  }));
}

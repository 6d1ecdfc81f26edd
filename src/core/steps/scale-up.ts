// Step 11: the owners come back as recorded, now on the new volume. Undone (by a rollback after the
// swap) by stopping them again while the claim is on the target PV.
import { StepProblem } from '../errors.js';
import { finalClaimBound, finalClaimPresent, ownersRestored, ownersStopped } from '../observed.js';
import type { PlannedChange } from '../plan.js';
import { needJournal, type Step, type UndoStep } from '../step.js';
import type { OwnerRecord } from '../types.js';
import { restoreOwnersAndWait, stopOwnersAndWait } from './owner-scaling.js';
import { retentionPatches, suspendable } from './scale-down.js';

const undoStopOwners: UndoStep = {
  id: 'undo-stop-owners',
  title: 'Stop the owners again while the claim is on the target PV',
  isDone: (o) => !finalClaimPresent(o) || (ownersStopped(o) && o.podsUsingClaim.length === 0),
  async run(ctx) {
    // As in scale-down: a StatefulSet with whenScaled: Delete would delete the claim on the target PV.
    await stopOwnersAndWait(
      { ...ctx, copyPod: ctx.names.copyPod, step: 'undo-stop-owners' },
      ctx.journal.original.owners,
      ctx.timeouts.scaleMs,
    );
  },
};

export const scaleUp: Step = {
  id: 'scale-up',
  title: 'Scale owners back to their recorded replicas and wait until they are ready',
  isDone: (o) => finalClaimBound(o) && ownersRestored(o),
  whyNotDone: () => 'owners are not back at their recorded replicas and ready',
  async run(ctx) {
    const j = needJournal(ctx);
    if (!finalClaimBound(ctx.observed))
      throw new StepProblem(`claim ${ctx.req.claim} is not bound to the target PV`);
    if (j.original.deletedPods.length > 0) {
      ctx.emit({
        type: 'warning',
        step: 'scale-up',
        message: `pods deleted with --delete-pods are not re-created: ${j.original.deletedPods.join(', ')}`,
      });
    }
    await restoreOwnersAndWait(
      {
        ...ctx,
        namespace: ctx.req.namespace,
        claim: ctx.req.claim,
        copyPod: ctx.names.copyPod,
        step: 'scale-up',
      },
      j.original.owners,
      ctx.req.timeouts.readyMs,
    );
  },
  undo: [undoStopOwners],
  plan: (p) => [
    ...[...p.owners].reverse().map((owner): PlannedChange => {
      const rec = owner as OwnerRecord;
      return {
        step: 'scale-up',
        action: suspendable(owner) ? 'patch' : 'scale',
        kind: owner.kind,
        name: owner.name,
        body: suspendable(owner)
          ? { spec: { suspend: rec.suspend ?? false } }
          : { spec: { replicas: rec.replicas ?? '<replicas recorded at scale-down>' } },
      };
    }),
    ...retentionPatches(p.owners, 'scale-up'),
  ],
};

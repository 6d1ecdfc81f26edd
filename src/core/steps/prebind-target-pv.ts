// Step 9: the target PV accepts only a claim of the original name (claimRef namespace/name, no
// uid), so the name is never up for grabs (invariant 6). Undone by pointing the claimRef at a claim
// that does not exist: the PV controller then releases it, and its policy (Retain: it may hold
// writes made after the move) applies.
import { StepProblem } from '../errors.js';
import { prebindPatch, releasedClaimRef } from '../manifests.js';
import {
  finalClaimBound,
  finalClaimPresent,
  heldForOriginalName,
  isRecreatedClaim,
  nameTaken,
  nameTakenByOther,
  targetPvName,
} from '../observed.js';
import { nameTakenProblem } from '../name-taken.js';
import { type Step, type UndoStep } from '../step.js';

const undoUnbindTargetPv: UndoStep = {
  id: 'undo-release-target-pv',
  title: 'Release the target PV from the original claim name',
  isDone: (o) => o.targetPv === undefined || !heldForOriginalName(o.targetPv, o),
  async run(ctx) {
    const o = ctx.observed;
    const name = targetPvName(o);
    if (!name) return;
    if (finalClaimPresent(o))
      throw new StepProblem(`claim ${ctx.claim} is still bound to the target PV ${name}`);
    // Unbinding it would take the volume from under a claim we did not create.
    if (nameTakenByOther(o)) throw nameTakenProblem(o, ctx.claim, ctx.namespace);
    const claimRef = releasedClaimRef(ctx.namespace, ctx.names.targetClaim, ctx.journal.migrationId);
    await ctx.cluster.patchPv(name, { spec: { claimRef } });
  },
};

export const prebindTargetPv: Step = {
  id: 'prebind-target-pv',
  title: 'Pre-bind the target PV to the original claim name',
  holdInterrupt: true,
  isDone: (o) => {
    const ref = o.targetPv?.spec?.claimRef;
    const claim = o.journal?.claim;
    if (finalClaimBound(o)) return true;
    // Bound (uid set) to a claim that is not ours, e.g. one a StatefulSet made and that was then
    // deleted, leaves the PV Released: pre-binding again (no uid) makes it available to ours.
    const uidOk = !ref?.uid || (isRecreatedClaim(o) && ref.uid === o.claim?.metadata.uid);
    return (
      claim !== undefined &&
      ref !== undefined &&
      ref.name === claim.name &&
      ref.namespace === claim.namespace &&
      uidOk
    );
  },
  whyNotDone: (o) => `target PV claimRef is ${JSON.stringify(o.targetPv?.spec?.claimRef ?? null)}`,
  async run(ctx) {
    const o = ctx.observed;
    const pv = targetPvName(o);
    if (!pv || !o.targetPv) throw new StepProblem('the target PV is unknown or gone');
    if (nameTaken(o)) throw nameTakenProblem(o, ctx.req.claim, ctx.req.namespace);
    await ctx.cluster.patchPv(pv, prebindPatch(ctx.req.namespace, ctx.req.claim));
  },
  undo: [undoUnbindTargetPv],
  plan: (p) => [
    {
      step: 'prebind-target-pv',
      action: 'patch',
      kind: 'PersistentVolume',
      name: p.targetPv,
      body: prebindPatch(p.req.namespace, p.req.claim),
    },
  ],
};

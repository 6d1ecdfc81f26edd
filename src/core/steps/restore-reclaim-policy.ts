// Step 12: the target PV gets the source PV's original reclaim policy, once the claim is bound to
// it. After scale-up: nothing the application waits for. Undone, when the rollback keeps the target
// PV (it may hold writes made after the move), by Retain and a label, before its claim goes.
import { StepProblem } from '../errors.js';
import { keptTargetPatch, reclaimPolicyPatch } from '../manifests.js';
import { LABEL_KEPT_BY_ROLLBACK } from '../defaults.js';
import { finalClaimBound, reclaimPolicyOf, targetPvName } from '../observed.js';
import { needJournal, type Step, type UndoStep } from '../step.js';

const undoRetainTargetPv: UndoStep = {
  id: 'undo-retain-target-pv',
  title: 'Keep the target PV (it may hold writes made after the move): reclaim policy Retain',
  isDone: (o, keep) =>
    !keep ||
    o.targetPv === undefined ||
    (reclaimPolicyOf(o.targetPv) === 'Retain' &&
      o.targetPv.metadata.labels?.[LABEL_KEPT_BY_ROLLBACK] === 'true'),
  async run(ctx) {
    const pv = targetPvName(ctx.observed);
    if (!pv) return;
    // Labelled so `kubectl get pv -l pvmove.kubectl.io/kept-by-rollback=true` finds what to review.
    await ctx.cluster.patchPv(pv, keptTargetPatch(ctx.journal.migrationId));
    ctx.emit({
      type: 'warning',
      step: 'undo-retain-target-pv',
      message: `target PV ${pv} is kept (Retain, Released): it may hold what was written after the move; delete it with \`kubectl delete pv ${pv}\` once you do not need that`,
    });
  },
};

export const restoreReclaimPolicy: Step = {
  id: 'restore-reclaim-policy',
  title: "Give the target PV the source PV's original reclaim policy",
  isDone: (o) =>
    finalClaimBound(o) &&
    o.journal !== undefined &&
    reclaimPolicyOf(o.targetPv) === o.journal.original.sourcePv.reclaimPolicy,
  whyNotDone: (o) => `target PV policy is ${reclaimPolicyOf(o.targetPv) ?? 'unknown'}`,
  async run(ctx) {
    const j = needJournal(ctx);
    const pv = targetPvName(ctx.observed);
    if (!pv || !finalClaimBound(ctx.observed))
      throw new StepProblem(`claim ${ctx.req.claim} is not bound to the target PV`);
    await ctx.cluster.patchPv(pv, reclaimPolicyPatch(j.original.sourcePv.reclaimPolicy));
  },
  undo: [undoRetainTargetPv],
  plan: (p) => [
    {
      step: 'restore-reclaim-policy',
      action: 'patch',
      kind: 'PersistentVolume',
      name: p.targetPv,
      body: reclaimPolicyPatch(p.sourcePolicy),
    },
  ],
};

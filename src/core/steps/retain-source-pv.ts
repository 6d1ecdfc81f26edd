// Step 3: the source PV -> Retain, labelled as this migration's. Invariant 1: whatever holds the
// complete data is Retain (or bound to a live claim) at every instant. Undone last for the PV: its
// original policy comes back only once the claim is bound to it again.
import { StepProblem } from '../errors.js';
import { reclaimPolicyPatch, retainAndMarkPatch } from '../manifests.js';
import { LABEL_MIGRATION_ID } from '../defaults.js';
import { claimOnSource, reclaimPolicyOf } from '../observed.js';
import { needJournal, type Step, type UndoStep } from '../step.js';

const undoRestoreSourcePolicy: UndoStep = {
  id: 'undo-restore-source-policy',
  title: "Restore the source PV's original reclaim policy",
  isDone: (o) =>
    o.journal !== undefined &&
    claimOnSource(o) &&
    reclaimPolicyOf(o.sourcePv) === o.journal.original.sourcePv.reclaimPolicy,
  async run(ctx) {
    if (!claimOnSource(ctx.observed))
      throw new StepProblem(`claim ${ctx.claim} is not bound to the source PV`);
    const src = ctx.journal.original.sourcePv;
    await ctx.cluster.patchPv(src.name, reclaimPolicyPatch(src.reclaimPolicy));
  },
};

export const retainSourcePv: Step = {
  id: 'retain-source-pv',
  title: "Set the source PV's reclaim policy to Retain",
  // The label marks the PV as this migration's on the cluster itself, where a journal edit cannot
  // reach: cleanup and rollback check it before they touch the PV.
  isDone: (o) =>
    reclaimPolicyOf(o.sourcePv) === 'Retain' &&
    o.sourcePv?.metadata.labels?.[LABEL_MIGRATION_ID] === o.journal?.migrationId,
  whyNotDone: (o) => `source PV policy is ${reclaimPolicyOf(o.sourcePv) ?? 'unknown (PV not found)'}`,
  async run(ctx) {
    const j = needJournal(ctx);
    if (!ctx.observed.sourcePv) throw new StepProblem(`source PV ${j.original.sourcePv.name} not found`);
    await ctx.cluster.patchPv(j.original.sourcePv.name, retainAndMarkPatch(j.migrationId));
  },
  undo: [undoRestoreSourcePolicy],
  plan: (p) => [
    {
      step: 'retain-source-pv',
      action: 'patch',
      kind: 'PersistentVolume',
      name: p.sourcePv,
      body: reclaimPolicyPatch('Retain'),
    },
  ],
};

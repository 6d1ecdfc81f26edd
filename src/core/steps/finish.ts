// Step 13: leave the source PV Released and Retain, labelled with where its data went, and mark the
// journal finished. Deleting the source PV is cleanup's job, only on request (invariant 5).
import { LABEL_MIGRATED_TO } from '../defaults.js';
import { StepProblem } from '../errors.js';
import { sourceMigratedPatch } from '../manifests.js';
import { targetPvName } from '../observed.js';
import { needJournal, type Step } from '../step.js';

export const finish: Step = {
  id: 'finish',
  title: 'Label the retained source PV and mark the journal finished',
  isDone: (o) =>
    o.journal?.phase === 'finished' &&
    (o.sourcePv === undefined || o.sourcePv.metadata.labels?.[LABEL_MIGRATED_TO] === targetPvName(o)),
  whyNotDone: () => 'the journal is not marked finished',
  async run(ctx) {
    const j = needJournal(ctx);
    const pv = targetPvName(ctx.observed);
    if (!pv) throw new StepProblem('the target PV is unknown');
    if (ctx.observed.sourcePv)
      await ctx.cluster.patchPv(j.original.sourcePv.name, sourceMigratedPatch(j.migrationId, pv));
    const now = ctx.now().toISOString();
    await ctx.updateJournal((cur) => ({ ...cur, phase: 'finished', finishedAt: now }));
  },
  plan: (p) => [
    {
      step: 'finish',
      action: 'patch',
      kind: 'PersistentVolume',
      name: p.sourcePv,
      body: sourceMigratedPatch(p.migrationId, p.targetPv),
    },
  ],
};

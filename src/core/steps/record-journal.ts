// Step 2: write down what undo needs (invariant 2) before the first change.
import { cleanPvcForJournal, JOURNAL_SCHEMA_VERSION, type Journal } from '../journal.js';
import type { OwnerRecord } from '../types.js';
import type { Step } from '../step.js';

export const recordJournal: Step = {
  id: 'record-journal',
  title: 'Record the original claim, reclaim policy and replicas in the journal',
  isDone: (o) => o.journal !== undefined,
  async run(ctx) {
    const pf = ctx.preflight;
    const claim = ctx.observed.claim;
    const pv = ctx.observed.sourcePv;
    if (!pf || !claim || !pv)
      throw new Error('internal: record-journal needs the preflight result of this run');
    const owners: OwnerRecord[] = [];
    for (const owner of pf.owners) {
      const s = await ctx.cluster.getOwnerState(ctx.req.namespace, owner);
      if (!s.exists) continue;
      const retention = s.pvcRetentionWhenScaled;
      owners.push(
        s.kind === 'Job' || s.kind === 'CronJob'
          ? { kind: s.kind, name: s.name, suspend: s.suspend ?? false }
          : {
              kind: s.kind,
              name: s.name,
              replicas: s.replicas ?? 0,
              ...(retention !== undefined ? { pvcRetentionWhenScaled: retention } : {}),
            },
      );
    }
    const now = ctx.now().toISOString();
    const journal: Journal = {
      schemaVersion: JOURNAL_SCHEMA_VERSION,
      migrationId: ctx.names.migrationId,
      createdAt: now,
      phase: 'in-progress',
      claim: { namespace: ctx.req.namespace, name: ctx.req.claim },
      request: { toClass: pf.targetClass, size: pf.targetSize, verify: ctx.req.verify },
      original: {
        pvc: cleanPvcForJournal(claim),
        pvcUid: claim.metadata.uid ?? '',
        sourcePv: {
          name: pv.metadata.name ?? '',
          reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete',
          ...(pv.metadata.uid ? { uid: pv.metadata.uid } : {}),
        },
        owners,
        deletedPods: ctx.req.deletePods ? [...pf.barePods] : [],
      },
      names: { targetClaim: ctx.names.targetClaim, copyPod: ctx.names.copyPod },
      steps: { preflight: { status: 'done', finishedAt: now } },
    };
    ctx.journal = await ctx.createJournal(journal);
  },
};

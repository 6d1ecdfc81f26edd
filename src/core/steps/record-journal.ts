// Step 2: write down what undo needs (invariant 2) before the first change. Undone last: the source
// PV loses this migration's labels and the journal says rolled back.
import { LABEL_MIGRATED_TO, LABEL_MIGRATION_ID } from '../defaults.js';
import { cleanPvcForJournal, JOURNAL_SCHEMA_VERSION, type Journal } from '../journal.js';
import type { OwnerRecord } from '../types.js';
import type { Step, UndoStep } from '../step.js';

const undoFinish: UndoStep = {
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
      migrationId: ctx.names.migrationId,
      createdAt: now,
      phase: 'in-progress',
      claim: { namespace: ctx.req.namespace, name: ctx.req.claim },
      request: {
        toClass: pf.targetClass,
        size: pf.targetSize,
        verify: ctx.req.verify,
        ...(ctx.req.precopy ? { precopy: ctx.req.precopy } : {}),
      },
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
  undo: [undoFinish],
  plan: (p) => [
    {
      step: 'record-journal',
      action: 'create',
      kind: 'ConfigMap',
      name: p.names.journal,
      body: {
        data: {
          'journal.json': `{ "schemaVersion": ${JOURNAL_SCHEMA_VERSION}, "migrationId": "${p.migrationId}", ... }`,
        },
      },
    },
  ],
};

// Step 5: the temporary target claim and the copy pod. The pod is created here because with a
// WaitForFirstConsumer class the claim only binds (and its PV only exists) once a pod uses it; the
// pod's required node affinity follows the source PV's, so the target lands where the source is
// reachable. Undone by deleting both (the target PV then follows its recorded policy).
import { StepProblem } from '../errors.js';
import { buildTargetClaim } from '../manifests.js';
import { isCopied, originalClaimExists } from '../observed.js';
import { copyPodFor, deletePodAndWait, isWarmPod } from '../copy-pod.js';
import { needJournal, type Step, type StepContext, type UndoStep } from '../step.js';
import type { Journal } from '../journal.js';

const undoDeleteCopyPod: UndoStep = {
  id: 'undo-delete-copy-pod',
  title: 'Delete the copy pod',
  isDone: (o) => o.copyPod === undefined,
  async run(ctx) {
    await ctx.cluster.deletePod(ctx.namespace, ctx.names.copyPod);
    await ctx.cluster.waitFor(
      `copy pod ${ctx.names.copyPod} to be deleted`,
      ctx.timeouts.deleteMs,
      async () => ((await ctx.cluster.getPod(ctx.namespace, ctx.names.copyPod)) ? undefined : true),
    );
  },
};

const undoDeleteTargetClaim: UndoStep = {
  id: 'undo-delete-target-claim',
  title: 'Delete the temporary target claim',
  isDone: (o) => o.targetClaim === undefined,
  async run(ctx) {
    const uid = ctx.observed.targetClaim?.metadata.uid;
    await ctx.cluster.deletePvc(ctx.namespace, ctx.names.targetClaim, uid);
    await ctx.cluster.waitFor(
      `claim ${ctx.names.targetClaim} to be deleted`,
      ctx.timeouts.deleteMs,
      async () => ((await ctx.cluster.getPvc(ctx.namespace, ctx.names.targetClaim)) ? undefined : true),
    );
  },
};

/** The temporary target claim, unless it exists (also made by warm-copy, before the stop). */
export async function ensureTargetClaim(ctx: StepContext, j: Journal): Promise<void> {
  if (ctx.observed.targetClaim) return;
  await ctx.cluster.createPvc(
    buildTargetClaim({
      original: j.original.pvc,
      name: ctx.names.targetClaim,
      migrationId: j.migrationId,
      storageClass: j.request.toClass,
      size: j.request.size,
    }),
  );
}

export const createTarget: Step = {
  id: 'create-target',
  title: 'Create the target claim and the copy pod',
  isDone: (o) =>
    isCopied(o) || (o.targetClaim !== undefined && o.copyPod !== undefined && !isWarmPod(o.copyPod)),
  whyNotDone: (o) => (o.targetClaim ? 'the copy pod does not exist' : 'the target claim does not exist'),
  async run(ctx) {
    const j = needJournal(ctx);
    const o = ctx.observed;
    if (o.podsUsingClaim.length > 0) {
      throw new StepProblem(
        `pod ${o.podsUsingClaim.map((p) => p.metadata.name).join(', ')} uses ${ctx.req.claim} again; something scaled an owner back up`,
      );
    }
    if (!originalClaimExists(o))
      throw new StepProblem(`the original claim ${ctx.req.claim} is gone before the copy`);
    await ensureTargetClaim(ctx, j);
    // A warm pass's pod is never the final copy (the warm-copy step deletes it when done).
    if (isWarmPod(o.copyPod)) await deletePodAndWait(ctx, ctx.names.copyPod);
    if (!o.copyPod || isWarmPod(o.copyPod))
      await ctx.cluster.createPod(copyPodFor(ctx, j, o.sourcePv, undefined, o.runId));
  },
  // The pod goes first: while it runs, the claim is in use and would only be marked for deletion.
  undo: [undoDeleteCopyPod, undoDeleteTargetClaim],
  plan: (p) => [
    {
      step: 'create-target',
      action: 'create',
      kind: 'PersistentVolumeClaim',
      name: p.names.targetClaim,
      body: buildTargetClaim({
        original: p.original,
        name: p.names.targetClaim,
        migrationId: p.migrationId,
        storageClass: p.targetClass,
        size: p.targetSize,
      }),
    },
    {
      step: 'create-target',
      action: 'create',
      kind: 'Pod',
      name: p.names.copyPod,
      body: copyPodFor(p, p.pseudoJournal, p.observed.sourcePv),
    },
  ],
};

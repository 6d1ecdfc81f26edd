// Step 5: the temporary target claim and the copy pod. The pod is created here because with a
// WaitForFirstConsumer class the claim only binds (and its PV only exists) once a pod uses it; the
// pod's required node affinity follows the source PV's, so the target lands where the source is
// reachable.
import { StepProblem } from '../errors.js';
import { buildTargetClaim, ownedLabels } from '../manifests.js';
import { isCopied, originalClaimExists } from '../observed.js';
import { needJournal, type Step, type StepContext } from '../step.js';
import type { Journal } from '../journal.js';
import type { Pod, Pv } from '../types.js';

export function copyPodFor(
  ctx: Pick<StepContext, 'req' | 'names' | 'engine'>,
  j: Pick<Journal, 'migrationId' | 'request'>,
  sourcePv: Pv | undefined,
  expectFingerprint?: string,
): Pod {
  return ctx.engine.buildPod({
    expectFingerprint,
    name: ctx.names.copyPod,
    namespace: ctx.req.namespace,
    labels: ownedLabels(ctx.req.claim, j.migrationId, 'copy-pod'),
    sourceClaim: ctx.req.claim,
    targetClaim: ctx.names.targetClaim,
    sourceNodeAffinity: sourcePv?.spec?.nodeAffinity?.required,
    copy: ctx.req.copy,
    verify: j.request.verify,
  });
}

export const createTarget: Step = {
  id: 'create-target',
  title: 'Create the target claim and the copy pod',
  isDone: (o) => isCopied(o) || (o.targetClaim !== undefined && o.copyPod !== undefined),
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
    if (!o.targetClaim) {
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
    if (!o.copyPod) await ctx.cluster.createPod(copyPodFor(ctx, j, o.sourcePv));
  },
};

/**
 * A copy pod that has not started (unschedulable, image not pullable) is replaced when the re-run
 * asks for another image, tolerations or node selector; otherwise the fix could never take effect.
 */
export async function replaceStaleCopyPod(ctx: StepContext, j: Journal): Promise<boolean> {
  const current = await ctx.cluster.getPod(ctx.req.namespace, ctx.names.copyPod);
  if (!current || current.status?.phase !== 'Pending') return false;
  const wanted = copyPodFor(ctx, j, ctx.observed.sourcePv);
  if (ctx.engine.podHash(current) === ctx.engine.podHash(wanted)) return false;
  ctx.emit({
    type: 'info',
    step: 'copy',
    message: `replacing copy pod ${ctx.names.copyPod}: image or placement changed`,
  });
  await ctx.cluster.deletePod(ctx.req.namespace, ctx.names.copyPod);
  await ctx.cluster.waitFor(
    `old copy pod ${ctx.names.copyPod} to be deleted`,
    ctx.req.timeouts.deleteMs,
    async () => ((await ctx.cluster.getPod(ctx.req.namespace, ctx.names.copyPod)) ? undefined : true),
  );
  await ctx.cluster.createPod(wanted);
  return true;
}

// Steps 8-10: the swap. Both claims go, the target PV is pre-bound to the original name, and the
// claim is re-created on it. The name is never up for grabs (invariant 6): the PV accepts only a
// claim of that name, and if someone else re-created the name meanwhile, we stop with both PVs
// retained.
import { StepProblem } from '../errors.js';
import { buildRecreatedClaim, prebindPatch } from '../manifests.js';
import { finalClaimBound, isCopied, originalClaimExists, targetPvName, type Observed } from '../observed.js';
import { podMountsClaim } from '../owners.js';
import { needJournal, type Step, type StepContext } from '../step.js';

/** Everything that can hold a claim, including terminating pods (the pvc-protection finalizer waits for them). */
async function holders(ctx: StepContext, claims: string[]): Promise<string[]> {
  const pods = await ctx.cluster.listPods(ctx.req.namespace);
  return pods
    .filter(
      (p) =>
        claims.some((c) => podMountsClaim(p, c)) &&
        p.status?.phase !== 'Succeeded' &&
        p.status?.phase !== 'Failed',
    )
    .map((p) => `${p.metadata.name}${p.metadata.deletionTimestamp ? ' (terminating)' : ''}`);
}

function nameTakenProblem(o: Observed, claim: string): StepProblem {
  return new StepProblem(
    `claim ${claim} was re-created by someone else (uid ${o.claim?.metadata.uid ?? '?'}, volume ${o.claim?.spec?.volumeName ?? 'none'}); ` +
      `both PVs are kept with reclaim policy Retain (source ${o.journal?.original.sourcePv.name ?? '?'}, target ${targetPvName(o) ?? '?'}): ` +
      `stop what re-creates it, delete that claim`,
  );
}

/** A claim under the original name that is neither the original nor ours. */
function nameTaken(o: Observed): boolean {
  return o.claim !== undefined && !originalClaimExists(o) && o.claim.spec?.volumeName !== targetPvName(o);
}

export const releaseClaims: Step = {
  id: 'release-claims',
  title: 'Delete the copy pod, then the temporary and the original claim',
  isDone: (o) => {
    const pv = targetPvName(o);
    return (
      o.journal !== undefined &&
      pv !== undefined &&
      o.copyPod === undefined &&
      o.targetClaim === undefined &&
      (o.claim === undefined || o.claim.spec?.volumeName === pv)
    );
  },
  whyNotDone: (o) =>
    nameTaken(o)
      ? nameTakenProblem(o, o.journal?.claim.name ?? '?').message
      : [o.copyPod && 'copy pod', o.targetClaim && 'target claim', o.claim && 'original claim']
          .filter(Boolean)
          .join(', ') + ' still present',
  async run(ctx) {
    const j = needJournal(ctx);
    const o = ctx.observed;
    const ns = ctx.req.namespace;
    // Belt and braces for invariant 8: never delete a claim unless the copy verified.
    if (!isCopied(o)) throw new StepProblem('the copy is not verified; no claim is deleted');
    if (o.podsUsingClaim.length > 0) {
      throw new StepProblem(
        `pod ${o.podsUsingClaim.map((p) => p.metadata.name).join(', ')} uses ${ctx.req.claim} again`,
      );
    }
    if (nameTaken(o)) throw nameTakenProblem(o, ctx.req.claim);

    if (o.copyPod) {
      await ctx.cluster.deletePod(ns, ctx.names.copyPod);
      await ctx.cluster.waitFor(
        `copy pod ${ctx.names.copyPod} to be deleted`,
        ctx.req.timeouts.deleteMs,
        async () => ((await ctx.cluster.getPod(ns, ctx.names.copyPod)) ? undefined : true),
      );
    }
    if (o.targetClaim) await ctx.cluster.deletePvc(ns, ctx.names.targetClaim, o.targetClaim.metadata.uid);
    if (originalClaimExists(o)) await ctx.cluster.deletePvc(ns, ctx.req.claim, j.original.pvcUid);

    const names = [ctx.req.claim, ctx.names.targetClaim];
    await ctx.cluster.waitFor(
      'both claims to be deleted',
      ctx.req.timeouts.deleteMs,
      async () => {
        const [a, b] = await Promise.all([
          ctx.cluster.getPvc(ns, ctx.req.claim),
          ctx.cluster.getPvc(ns, ctx.names.targetClaim),
        ]);
        const originalGone = !a || a.metadata.uid !== j.original.pvcUid;
        return originalGone && !b ? true : undefined;
      },
      {
        detail: async () => {
          const h = await holders(ctx, names);
          return h.length > 0 ? `claims are held by pod ${h.join(', ')}` : 'claims are still Terminating';
        },
      },
    );
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
    return (
      claim !== undefined && ref !== undefined && ref.name === claim.name && ref.namespace === claim.namespace
    );
  },
  whyNotDone: (o) => `target PV claimRef is ${JSON.stringify(o.targetPv?.spec?.claimRef ?? null)}`,
  async run(ctx) {
    const o = ctx.observed;
    const pv = targetPvName(o);
    if (!pv || !o.targetPv) throw new StepProblem('the target PV is unknown or gone');
    if (nameTaken(o)) throw nameTakenProblem(o, ctx.req.claim);
    await ctx.cluster.patchPv(pv, prebindPatch(ctx.req.namespace, ctx.req.claim));
  },
};

export const recreateClaim: Step = {
  id: 'recreate-claim',
  title: 'Re-create the claim under its original name on the target PV',
  holdInterrupt: true,
  isDone: (o) => finalClaimBound(o),
  whyNotDone: (o) => (o.claim ? `claim is ${o.claim.status?.phase ?? 'unknown'}` : 'claim does not exist'),
  async run(ctx) {
    const j = needJournal(ctx);
    const o = ctx.observed;
    const ns = ctx.req.namespace;
    const pv = targetPvName(o);
    if (!pv) throw new StepProblem('the target PV is unknown');
    if (o.claim && o.claim.spec?.volumeName !== pv) throw nameTakenProblem(o, ctx.req.claim);
    if (!o.claim) {
      await ctx.cluster.createPvc(
        buildRecreatedClaim({
          original: j.original.pvc,
          migrationId: j.migrationId,
          storageClass: j.request.toClass,
          size: j.request.size,
          targetPv: pv,
        }),
      );
    }
    await ctx.cluster.waitFor(
      `claim ${ctx.req.claim} to be bound to ${pv}`,
      ctx.req.timeouts.bindMs,
      async () => {
        const pvc = await ctx.cluster.getPvc(ns, ctx.req.claim);
        return pvc?.status?.phase === 'Bound' && pvc.spec?.volumeName === pv ? true : undefined;
      },
    );
  },
};

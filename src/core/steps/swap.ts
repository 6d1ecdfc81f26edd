// Steps 8-10: the swap. Both claims go, the target PV is pre-bound to the original name, and the
// claim is re-created on it. The name is never up for grabs (invariant 6): the PV accepts only a
// claim of that name, and if someone else re-created the name meanwhile, we stop with both PVs
// retained.
import { StepProblem } from '../errors.js';
import { buildRecreatedClaim, prebindPatch } from '../manifests.js';
import {
  copyStands,
  finalClaimBound,
  isRecreatedClaim,
  originalClaimExists,
  targetPvName,
  type Observed,
} from '../observed.js';
import { podMountsClaim } from '../owners.js';
import { needJournal, type Step, type StepContext } from '../step.js';

/**
 * Everything that can hold a claim: running and terminating pods, and also finished pods that are
 * not deleted yet (the pvc-protection finalizer waits for those too, as the test bed shows).
 */
async function holders(ctx: StepContext, claims: string[]): Promise<string[]> {
  const pods = await ctx.cluster.listPods(ctx.req.namespace);
  return pods
    .filter((p) => claims.some((c) => podMountsClaim(p, c)))
    .map((p) => {
      const phase = p.status?.phase;
      const finished = phase === 'Succeeded' || phase === 'Failed';
      const note = p.metadata.deletionTimestamp
        ? ' (terminating)'
        : finished
          ? ` (${phase}: delete it with \`kubectl delete pod ${p.metadata.name} -n ${ctx.req.namespace}\`)`
          : '';
      return `${p.metadata.name}${note}`;
    });
}

/**
 * A claim of the original name that this migration did not create. Typically a StatefulSet scaled
 * up meanwhile made it from its template, and the PV controller bound it to the pre-bound target
 * PV whatever its class: it is not adopted; the user removes it and resumes (or rolls back).
 */
export function nameTakenProblem(o: Observed, claim: string, namespace: string): StepProblem {
  const c = o.claim;
  const volume = c?.spec?.volumeName;
  const where = volume
    ? volume === targetPvName(o)
      ? `bound to the target PV ${volume}`
      : `on PV ${volume}`
    : 'not bound';
  return new StepProblem(
    `claim ${claim} was created by someone else, not by this migration (uid ${c?.metadata.uid ?? '?'}, class ${c?.spec?.storageClassName ?? 'none'}, ${where}; ` +
      `a StatefulSet scaled up from its template, or a controller re-creating it), so it is not adopted; the data is safe ` +
      `(source PV ${o.journal?.original.sourcePv.name ?? '?'} and target PV ${targetPvName(o) ?? '?'} are kept with reclaim policy Retain): ` +
      `scale what creates it to 0, delete it with \`kubectl delete pvc ${claim} -n ${namespace}\`, then continue`,
  );
}

/** A claim under the original name that is neither the original nor the one this migration re-created. */
function nameTaken(o: Observed): boolean {
  return o.claim !== undefined && !originalClaimExists(o) && !isRecreatedClaim(o);
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
      (o.claim === undefined || isRecreatedClaim(o))
    );
  },
  whyNotDone: (o) =>
    nameTaken(o)
      ? nameTakenProblem(o, o.journal?.claim.name ?? '?', o.journal?.claim.namespace ?? '?').message
      : [o.copyPod && 'copy pod', o.targetClaim && 'target claim', o.claim && 'original claim']
          .filter(Boolean)
          .join(', ') + ' still present',
  async run(ctx) {
    const j = needJournal(ctx);
    const o = ctx.observed;
    const ns = ctx.req.namespace;
    // Belt and braces for invariant 8: never delete a claim unless the copy verified and stands.
    if (!copyStands(o)) throw new StepProblem('the copy is not verified by this run; no claim is deleted');
    // A claim of the name that is not ours is the problem to report, even if its pods run.
    if (nameTaken(o)) throw nameTakenProblem(o, ctx.req.claim, ctx.req.namespace);
    if (o.podsUsingClaim.length > 0) {
      throw new StepProblem(
        `pod ${o.podsUsingClaim.map((p) => p.metadata.name).join(', ')} uses ${ctx.req.claim} again`,
      );
    }

    if (o.copyPod) {
      await ctx.cluster.deletePod(ns, ctx.names.copyPod);
      await ctx.cluster.waitFor(
        `copy pod ${ctx.names.copyPod} to be deleted`,
        ctx.req.timeouts.deleteMs,
        async () => ((await ctx.cluster.getPod(ns, ctx.names.copyPod)) ? undefined : true),
      );
    }
    // The original first: while it exists the temporary claim does too, so a run that stops in
    // between can still check the copy against the source before relying on it.
    if (originalClaimExists(o)) await ctx.cluster.deletePvc(ns, ctx.req.claim, j.original.pvcUid);
    if (o.targetClaim) await ctx.cluster.deletePvc(ns, ctx.names.targetClaim, o.targetClaim.metadata.uid);

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
    if (o.claim && !isRecreatedClaim(o)) throw nameTakenProblem(o, ctx.req.claim, ns);
    let uid = o.claim?.metadata.uid;
    if (!o.claim) {
      try {
        uid = (
          await ctx.cluster.createPvc(
            buildRecreatedClaim({
              original: j.original.pvc,
              migrationId: j.migrationId,
              storageClass: j.request.toClass,
              size: j.request.size,
              targetPv: pv,
            }),
          )
        ).metadata.uid;
      } catch (err) {
        // Someone created the name between the pre-bind and now.
        const now = await ctx.observe();
        if (now.claim && !isRecreatedClaim(now)) throw nameTakenProblem(now, ctx.req.claim, ns);
        throw err;
      }
    }
    // The uid identifies our claim from now on; an annotation alone can be copied.
    if (uid && ctx.journal?.recreatedClaim?.uid !== uid)
      await ctx.updateJournal((cur) => ({ ...cur, recreatedClaim: { uid } }));
    await ctx.cluster.waitFor(
      `claim ${ctx.req.claim} to be bound to ${pv}`,
      ctx.req.timeouts.bindMs,
      async () => {
        const pvc = await ctx.cluster.getPvc(ns, ctx.req.claim);
        if (pvc && pvc.metadata.uid !== uid)
          throw nameTakenProblem({ ...ctx.observed, claim: pvc }, ctx.req.claim, ns);
        return pvc?.status?.phase === 'Bound' && pvc.spec?.volumeName === pv ? true : undefined;
      },
    );
  },
};

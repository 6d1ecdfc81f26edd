// Step 8: the copy pod, then the original claim, then the temporary one go, so that both PVs are
// free for the swap. Both PVs are Retain by now (invariant 1). Undone by giving the original name
// back to the source PV: pre-bind it, then re-create the claim from the journal's manifest.
import { releasableClaims } from '../claim-protection.js';
import { StepProblem } from '../errors.js';
import { buildRestoredClaim, prebindPatch } from '../manifests.js';
import {
  claimOnSource,
  copyStands,
  heldForOriginalName,
  isRecreatedClaim,
  nameTaken,
  nameTakenByOther,
  originalClaimExists,
  targetPvName,
} from '../observed.js';
import { nameTakenProblem } from '../name-taken.js';
import { podsUsingClaimNow } from '../observe.js';
import { podMountsClaim } from '../owners.js';
import { needJournal, type Step, type StepContext, type UndoStep } from '../step.js';

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
 * Removes the protection finalizer of the claims just deleted that no pod names (claim-protection.ts),
 * instead of waiting for the controller to do it claim after claim. The pods are read after the
 * deletions, so none that could still take a claim is missed. Whatever is not removed here (a pod
 * names the claim, it changed meanwhile, no permission) the controller removes as before.
 */
async function releaseProtection(ctx: StepContext, deleted: { name: string; uid?: string }[]): Promise<void> {
  const ns = ctx.req.namespace;
  const read = await Promise.all(deleted.map((d) => ctx.cluster.getPvc(ns, d.name)));
  // Only the claims this step deleted: a claim of the same name made since is not ours to touch.
  const claims = read.filter((c, i) => c !== undefined && c.metadata.uid === deleted[i]!.uid);
  if (!claims.some((c) => c?.metadata.deletionTimestamp)) return;
  const pods = await ctx.cluster.listPods(ns);
  for (const c of releasableClaims(claims, pods)) {
    await ctx.cluster.setClaimFinalizers(ns, c.name, c.resourceVersion, c.finalizers);
  }
}

const undoPrebindSourcePv: UndoStep = {
  id: 'undo-prebind-source-pv',
  title: 'Pre-bind the source PV to the original claim name',
  isDone: (o) => {
    return originalClaimExists(o) || claimOnSource(o) || heldForOriginalName(o.sourcePv, o);
  },
  async run(ctx) {
    const o = ctx.observed;
    if (!o.sourcePv) {
      throw new StepProblem(
        `the source PV ${ctx.journal.original.sourcePv.name} is gone; the original data cannot be restored`,
      );
    }
    if (nameTakenByOther(o)) throw nameTakenProblem(o, ctx.claim, ctx.namespace);
    await ctx.cluster.patchPv(ctx.journal.original.sourcePv.name, prebindPatch(ctx.namespace, ctx.claim));
  },
};

const undoRecreateOnSource: UndoStep = {
  id: 'undo-recreate-claim',
  title: 'Re-create the claim from the journal on the source PV',
  isDone: (o) => claimOnSource(o),
  async run(ctx) {
    const o = ctx.observed;
    const source = ctx.journal.original.sourcePv.name;
    if (nameTakenByOther(o)) throw nameTakenProblem(o, ctx.claim, ctx.namespace);
    if (!o.claim) await ctx.cluster.createPvc(buildRestoredClaim(ctx.journal.original.pvc, source));
    await ctx.cluster.waitFor(
      `claim ${ctx.claim} to be bound to ${source}`,
      ctx.timeouts.bindMs,
      async () => {
        const pvc = await ctx.cluster.getPvc(ctx.namespace, ctx.claim);
        return pvc?.status?.phase === 'Bound' && pvc.spec?.volumeName === source ? true : undefined;
      },
    );
  },
};

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
    const users = await podsUsingClaimNow(ctx.cluster, ns, ctx.req.claim, ctx.names.copyPod);
    if (users.length > 0) {
      throw new StepProblem(
        `pod ${users.map((p) => p.metadata.name).join(', ')} uses ${ctx.req.claim} again`,
      );
    }

    // The claims are deleted without waiting for the pod to go: their protection finalizer holds
    // them until it has, and one wait then covers all three, which is time the application is
    // down. The pod's work is over (its verdict came after the copy was flushed to disk and checked;
    // nothing follows it), so it is removed at once (grace period 0) instead of waiting for the
    // kubelet to report its end and tear down its volumes, which took 1-2 s on the test bed.
    if (o.copyPod) await ctx.cluster.deletePod(ns, ctx.names.copyPod, { gracePeriodSeconds: 0 });
    // The original first: while it exists the temporary claim does too, so a run that stops in
    // between can still check the copy against the source before relying on it.
    if (originalClaimExists(o)) await ctx.cluster.deletePvc(ns, ctx.req.claim, j.original.pvcUid);
    if (o.targetClaim) await ctx.cluster.deletePvc(ns, ctx.names.targetClaim, o.targetClaim.metadata.uid);

    const names = [ctx.req.claim, ctx.names.targetClaim];
    await releaseProtection(ctx, [
      { name: ctx.req.claim, uid: j.original.pvcUid },
      { name: ctx.names.targetClaim, uid: o.targetClaim?.metadata.uid },
    ]);
    await ctx.cluster.waitFor(
      'the copy pod and both claims to be deleted',
      ctx.req.timeouts.deleteMs,
      async () => {
        const [a, b, pod] = await Promise.all([
          ctx.cluster.getPvc(ns, ctx.req.claim),
          ctx.cluster.getPvc(ns, ctx.names.targetClaim),
          ctx.cluster.getPod(ns, ctx.names.copyPod),
        ]);
        const originalGone = !a || a.metadata.uid !== j.original.pvcUid;
        return originalGone && !b && !pod ? true : undefined;
      },
      {
        wakeOn: [
          { kind: 'PersistentVolumeClaim', namespace: ns },
          { kind: 'Pod', namespace: ns, name: ctx.names.copyPod },
        ],
        detail: async () => {
          const h = await holders(ctx, names);
          return h.length > 0 ? `claims are held by pod ${h.join(', ')}` : 'claims are still Terminating';
        },
      },
    );
  },
  undo: [undoPrebindSourcePv, undoRecreateOnSource],
  plan: (p) => [
    { step: 'release-claims', action: 'delete', kind: 'Pod', name: p.names.copyPod },
    { step: 'release-claims', action: 'delete', kind: 'PersistentVolumeClaim', name: p.names.targetClaim },
    { step: 'release-claims', action: 'delete', kind: 'PersistentVolumeClaim', name: p.req.claim },
  ],
};

// Step 10: the claim under its original name, with its labels and annotations, on the target PV.
// Its uid is recorded: from then on only that claim is ours. Undone by deleting it (its pods are
// stopped first by the undo of scale-up; a claim someone else made is never deleted).
import { StepProblem } from '../errors.js';
import { buildRecreatedClaim } from '../manifests.js';
import { finalClaimBound, finalClaimPresent, isRecreatedClaim, targetPvName } from '../observed.js';
import { nameTakenProblem } from '../name-taken.js';
import { podsUsingClaimNow } from '../observe.js';
import { needJournal, type Step, type UndoStep } from '../step.js';

const undoDeleteFinalClaim: UndoStep = {
  id: 'undo-delete-claims',
  title: 'Delete the claim on the target PV',
  isDone: (o) => !finalClaimPresent(o),
  async run(ctx) {
    const o = ctx.observed;
    const users = await podsUsingClaimNow(ctx.cluster, ctx.namespace, ctx.claim, ctx.names.copyPod);
    if (users.length > 0) {
      throw new StepProblem(
        `pod ${users.map((p) => p.metadata.name).join(', ')} uses ${ctx.claim}; its owner was scaled up by someone else`,
      );
    }
    const uid = o.claim?.metadata.uid;
    await ctx.cluster.deletePvc(ctx.namespace, ctx.claim, uid);
    await ctx.cluster.waitFor(
      `claim ${ctx.claim} on the target PV to be deleted`,
      ctx.timeouts.deleteMs,
      async () =>
        (await ctx.cluster.getPvc(ctx.namespace, ctx.claim))?.metadata.uid === uid ? undefined : true,
    );
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
      { wakeOn: [{ kind: 'PersistentVolumeClaim', namespace: ns, name: ctx.req.claim }] },
    );
  },
  undo: [undoDeleteFinalClaim],
  plan: (p) => [
    {
      step: 'recreate-claim',
      action: 'create',
      kind: 'PersistentVolumeClaim',
      name: p.req.claim,
      body: buildRecreatedClaim({
        original: p.original,
        migrationId: p.migrationId,
        storageClass: p.targetClass,
        size: p.targetSize,
        targetPv: p.targetPv,
      }),
    },
  ],
};

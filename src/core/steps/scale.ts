// Steps 4 and 12: nobody writes while we copy (invariant 7), and afterwards everything comes back
// as it was recorded.
import { StepProblem } from '../errors.js';
import { finalClaimBound, ownersRestored, ownersStopped } from '../observed.js';
import { ownerLabel, podsUsingClaim } from '../owners.js';
import { needJournal, type Step, type StepContext } from '../step.js';
import type { OwnerRecord } from '../types.js';

const isSuspendable = (o: OwnerRecord): boolean => o.kind === 'Job' || o.kind === 'CronJob';

async function podsHolding(ctx: StepContext): Promise<string[]> {
  const pods = await ctx.cluster.listPods(ctx.req.namespace);
  return podsUsingClaim(pods, ctx.req.claim, ctx.names.copyPod).map((p) => p.metadata.name ?? '?');
}

export const scaleDown: Step = {
  id: 'scale-down',
  title: 'Scale owners to 0, suspend (Cron)Jobs, wait until no pod uses the claim',
  // After the swap the owners run again on the new volume: that is past this step, not undoing it.
  isDone: (o) =>
    finalClaimBound(o) || (o.journal !== undefined && ownersStopped(o) && o.podsUsingClaim.length === 0),
  whyNotDone: (o) => `pods still using the claim: ${o.podsUsingClaim.map((p) => p.metadata.name).join(', ')}`,
  async run(ctx) {
    const j = needJournal(ctx);
    const ns = ctx.req.namespace;
    // CronJobs first (sorted at preflight) so no new Job starts while the rest stop.
    for (const owner of j.original.owners) {
      if (isSuspendable(owner)) await ctx.cluster.setSuspend(ns, owner, true);
      else await ctx.cluster.scaleOwner(ns, owner, 0);
    }
    for (const pod of j.original.deletedPods) {
      ctx.emit({
        type: 'warning',
        step: 'scale-down',
        message: `deleting pod ${pod} (--delete-pods); it will not come back`,
      });
      await ctx.cluster.deletePod(ns, pod);
    }
    await ctx.cluster.waitFor(
      `no pod to use claim ${ctx.req.claim}`,
      ctx.req.timeouts.scaleMs,
      async () => ((await podsHolding(ctx)).length === 0 ? true : undefined),
      {
        signal: ctx.signal,
        detail: async () => {
          const pods = await podsHolding(ctx);
          return pods.length > 0
            ? `still used by ${pods.join(', ')}; stop what runs them (owners stopped: ${j.original.owners.map(ownerLabel).join(', ') || 'none'})`
            : undefined;
        },
      },
    );
  },
};

export const scaleUp: Step = {
  id: 'scale-up',
  title: 'Scale owners back to their recorded replicas and wait until they are ready',
  isDone: (o) => finalClaimBound(o) && ownersRestored(o),
  whyNotDone: () => 'owners are not back at their recorded replicas and ready',
  async run(ctx) {
    const j = needJournal(ctx);
    const ns = ctx.req.namespace;
    if (!finalClaimBound(ctx.observed))
      throw new StepProblem(`claim ${ctx.req.claim} is not bound to the target PV`);
    // Reverse order: workloads first, CronJobs last.
    for (const owner of [...j.original.owners].reverse()) {
      const state = ctx.observed.owners.find((s) => s.kind === owner.kind && s.name === owner.name);
      if (state && !state.exists) {
        ctx.emit({
          type: 'warning',
          step: 'scale-up',
          message: `${ownerLabel(owner)} no longer exists; not restored`,
        });
        continue;
      }
      if (isSuspendable(owner)) await ctx.cluster.setSuspend(ns, owner, owner.suspend ?? false);
      else await ctx.cluster.scaleOwner(ns, owner, owner.replicas ?? 0);
    }
    if (j.original.deletedPods.length > 0) {
      ctx.emit({
        type: 'warning',
        step: 'scale-up',
        message: `pods deleted with --delete-pods are not re-created: ${j.original.deletedPods.join(', ')}`,
      });
    }
    await ctx.cluster.waitFor(
      'owners to be ready',
      ctx.req.timeouts.readyMs,
      async () => (ownersRestored(await ctx.observe()) ? true : undefined),
      {
        signal: ctx.signal,
        detail: async () => {
          const o = await ctx.observe();
          const lagging = o.owners
            .filter((s) => s.exists && s.kind !== 'Job' && s.kind !== 'CronJob')
            .filter((s) => (s.readyReplicas ?? 0) < (s.replicas ?? 0))
            .map((s) => `${ownerLabel(s)} ${s.readyReplicas ?? 0}/${s.replicas ?? 0} ready`);
          return lagging.length > 0 ? lagging.join(', ') : undefined;
        },
      },
    );
  },
};

// Steps 4 and 12: nobody writes while we copy (invariant 7), and afterwards everything comes back
// as it was recorded.
import type { ClusterPort } from '../cluster.js';
import { StepProblem } from '../errors.js';
import { finalClaimBound, ownersRestored, ownersStopped } from '../observed.js';
import { deletesClaimsOnScaleDown, ownerLabel, podsUsingClaim, retentionToRestore } from '../owners.js';
import { needJournal, type Step, type StepContext } from '../step.js';
import type { OwnerRecord, OwnerState } from '../types.js';

const isSuspendable = (o: OwnerRecord): boolean => o.kind === 'Job' || o.kind === 'CronJob';

/**
 * Stops one owner: suspend, or 0 replicas. A StatefulSet with whenScaled: Delete gets Retain first,
 * in its own write before the one of the replicas, so its controller never sees 0 replicas with
 * Delete (it would delete the claim with the pod). `state` is what is observed now.
 */
export async function stopOwner(
  cluster: ClusterPort,
  namespace: string,
  owner: OwnerRecord,
  state: OwnerState | undefined,
): Promise<void> {
  if (isSuspendable(owner)) return cluster.setSuspend(namespace, owner, true);
  if (deletesClaimsOnScaleDown(state ?? owner))
    await cluster.setClaimRetentionWhenScaled(namespace, owner.name, 'Retain');
  await cluster.scaleOwner(namespace, owner, 0);
}

/**
 * Restores one owner as recorded. The claim retention policy comes back after the replicas: with
 * them back, no pod is scaled away when Delete applies again.
 */
export async function restoreOwner(
  cluster: ClusterPort,
  namespace: string,
  owner: OwnerRecord,
  state: OwnerState | undefined,
): Promise<void> {
  if (isSuspendable(owner)) return cluster.setSuspend(namespace, owner, owner.suspend ?? false);
  await cluster.scaleOwner(namespace, owner, owner.replicas ?? 0);
  const whenScaled = retentionToRestore(owner, state);
  if (whenScaled) await cluster.setClaimRetentionWhenScaled(namespace, owner.name, whenScaled);
}

const stateOf = (ctx: StepContext, o: OwnerRecord): OwnerState | undefined =>
  ctx.observed.owners.find((s) => s.kind === o.kind && s.name === o.name);

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
    for (const owner of j.original.owners) await stopOwner(ctx.cluster, ns, owner, stateOf(ctx, owner));
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
      const state = stateOf(ctx, owner);
      if (state && !state.exists) {
        ctx.emit({
          type: 'warning',
          step: 'scale-up',
          message: `${ownerLabel(owner)} no longer exists; not restored`,
        });
        continue;
      }
      await restoreOwner(ctx.cluster, ns, owner, state);
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

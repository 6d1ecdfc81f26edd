// Steps 3, 6 and 11: reclaim policies. Invariant 1: whatever holds the complete data is Retain
// (or bound to a live claim) at every instant.
import { StepProblem } from '../errors.js';
import { reclaimPolicyPatch, retainAndMarkPatch } from '../manifests.js';
import { LABEL_MIGRATION_ID } from '../defaults.js';
import { finalClaimBound, targetPvName } from '../observed.js';
import { needJournal, type Step } from '../step.js';
import type { Pod } from '../types.js';
import type { ClusterPort } from '../cluster.js';
import { replaceStaleCopyPod } from './target.js';

const policyOf = (
  pv: { spec?: { persistentVolumeReclaimPolicy?: string } } | undefined,
): string | undefined => pv?.spec?.persistentVolumeReclaimPolicy;

export const retainSourcePv: Step = {
  id: 'retain-source-pv',
  title: "Set the source PV's reclaim policy to Retain",
  // The label marks the PV as this migration's on the cluster itself, where a journal edit cannot
  // reach: cleanup and rollback check it before they touch the PV.
  isDone: (o) =>
    policyOf(o.sourcePv) === 'Retain' &&
    o.sourcePv?.metadata.labels?.[LABEL_MIGRATION_ID] === o.journal?.migrationId,
  whyNotDone: (o) => `source PV policy is ${policyOf(o.sourcePv) ?? 'unknown (PV not found)'}`,
  async run(ctx) {
    const j = needJournal(ctx);
    if (!ctx.observed.sourcePv) throw new StepProblem(`source PV ${j.original.sourcePv.name} not found`);
    await ctx.cluster.patchPv(j.original.sourcePv.name, retainAndMarkPatch(j.migrationId));
  },
};

export const retainTargetPv: Step = {
  id: 'retain-target-pv',
  title: 'Wait for the target PV and set its reclaim policy to Retain',
  isDone: (o) =>
    finalClaimBound(o) ||
    (o.journal?.original.targetPv !== undefined &&
      o.targetPv !== undefined &&
      policyOf(o.targetPv) === 'Retain'),
  whyNotDone: (o) =>
    o.targetPv ? `target PV policy is ${policyOf(o.targetPv) ?? 'unknown'}` : 'the target claim is not bound',
  async run(ctx) {
    const ns = ctx.req.namespace;
    const name = ctx.names.targetClaim;
    await replaceStaleCopyPod(ctx, needJournal(ctx));
    // With WaitForFirstConsumer the claim binds once the copy pod schedules; explain a pod that cannot.
    const bound = await ctx.cluster.waitFor(
      `claim ${name} to be bound`,
      ctx.req.timeouts.bindMs,
      async () => {
        const pvc = await ctx.cluster.getPvc(ns, name);
        if (!pvc) throw new StepProblem(`target claim ${name} disappeared`);
        return pvc.status?.phase === 'Bound' && pvc.spec?.volumeName ? pvc : undefined;
      },
      {
        signal: ctx.signal,
        detail: async () => {
          const [claimWhy, podWhy] = await Promise.all([
            claimEventsHint(ctx.cluster, ns, name),
            copyPodHint(ctx.cluster, ns, ctx.names.copyPod),
          ]);
          return [claimWhy, podWhy].filter(Boolean).join('; ') || undefined;
        },
      },
    );
    const pvName = bound.spec?.volumeName ?? '';
    const pv = await ctx.cluster.getPv(pvName);
    if (!pv) throw new StepProblem(`target PV ${pvName} not found`);
    // Write the original policy down before changing it (invariant 2); never overwrite it on a re-run.
    if (!needJournal(ctx).original.targetPv) {
      await ctx.updateJournal((cur) => ({
        ...cur,
        original: {
          ...cur.original,
          targetPv: cur.original.targetPv ?? {
            name: pvName,
            reclaimPolicy: policyOf(pv) ?? 'Delete',
            ...(pv.metadata.uid ? { uid: pv.metadata.uid } : {}),
          },
        },
      }));
    }
    const marked = pv.metadata.labels?.[LABEL_MIGRATION_ID] === needJournal(ctx).migrationId;
    if (policyOf(pv) !== 'Retain' || !marked)
      await ctx.cluster.patchPv(pvName, retainAndMarkPatch(needJournal(ctx).migrationId));
  },
};

export const restoreReclaimPolicy: Step = {
  id: 'restore-reclaim-policy',
  title: "Give the target PV the source PV's original reclaim policy",
  isDone: (o) =>
    finalClaimBound(o) &&
    o.journal !== undefined &&
    policyOf(o.targetPv) === o.journal.original.sourcePv.reclaimPolicy,
  whyNotDone: (o) => `target PV policy is ${policyOf(o.targetPv) ?? 'unknown'}`,
  async run(ctx) {
    const j = needJournal(ctx);
    const pv = targetPvName(ctx.observed);
    if (!pv || !finalClaimBound(ctx.observed))
      throw new StepProblem(`claim ${ctx.req.claim} is not bound to the target PV`);
    await ctx.cluster.patchPv(pv, reclaimPolicyPatch(j.original.sourcePv.reclaimPolicy));
  },
};

/** Why the copy pod is not running yet: unschedulable, image pull failures. */
export async function copyPodHint(
  cluster: { getPod(ns: string, name: string): Promise<Pod | undefined> },
  ns: string,
  name: string,
): Promise<string | undefined> {
  const pod = await cluster.getPod(ns, name);
  if (!pod) return `copy pod ${name} not found`;
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) return `copy pod ${name} is not scheduled: ${sched.message ?? sched.reason ?? 'unknown reason'}`;
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting) return `copy pod ${name} is waiting: ${waiting.reason ?? ''} ${waiting.message ?? ''}`.trim();
  return `copy pod ${name} is ${pod.status?.phase ?? 'in an unknown phase'}`;
}

/** Why a claim does not bind, from its events: the newest Warning (ProvisioningFailed...), else the newest. */
export async function claimEventsHint(
  cluster: Pick<ClusterPort, 'listEvents'>,
  ns: string,
  name: string,
): Promise<string | undefined> {
  const events = await cluster.listEvents(ns, 'PersistentVolumeClaim', name).catch(() => []);
  const e = [...events].reverse().find((x) => x.type === 'Warning') ?? events[events.length - 1];
  return e ? `claim ${name}: ${e.reason ?? 'event'}: ${e.message ?? ''}`.trim() : undefined;
}

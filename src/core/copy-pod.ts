// The copy pod as the core asks the engine for it (src/core/copy-engine.ts): the same request from
// create-target, from the steps that replace a stale pod, from the plan and from the admission
// probe, so all of them describe the very pod that is created. A pod made by a run carries its
// run id: the copy step of the same run follows it even if it already finished.
import { ANNOTATION_GO, GO, LABEL_PASS, LABEL_RUN_ID } from './defaults.js';
import { ownedLabels } from './manifests.js';
import type { Journal } from './journal.js';
import type { StepContext } from './step.js';
import type { Pod, Pv } from './types.js';

export function copyPodFor(
  ctx: Pick<StepContext, 'req' | 'names' | 'engine'>,
  j: Pick<Journal, 'migrationId' | 'request'>,
  sourcePv: Pv | undefined,
  expectFingerprint?: string,
  runId?: string,
  ahead?: { pass: 'warm' | 'final'; node?: string },
): Pod {
  const warm = ahead?.pass === 'warm' ? ahead : undefined;
  const final = ahead?.pass === 'final' ? ahead : undefined;
  return ctx.engine.buildPod({
    expectFingerprint,
    name: ctx.names.copyPod,
    namespace: ctx.req.namespace,
    labels: {
      ...ownedLabels(ctx.req.claim, j.migrationId, 'copy-pod'),
      ...(runId ? { [LABEL_RUN_ID]: runId } : {}),
      ...(ahead ? { [LABEL_PASS]: ahead.pass } : {}),
    },
    ...(warm ? { pass: 'warm' as const, ...(warm.node ? { node: warm.node } : {}) } : {}),
    ...(final ? { awaitGo: true, ...(final.node ? { node: final.node } : {}) } : {}),
    sourceClaim: ctx.req.claim,
    targetClaim: ctx.names.targetClaim,
    sourceNodeAffinity: sourcePv?.spec?.nodeAffinity?.required,
    copy: ctx.req.copy,
    verify: j.request.verify,
  });
}

/** A pod that makes a warm pass (warm-copy step), not the final copy the copy step relies on. */
export function isWarmPod(pod: Pod | undefined): boolean {
  return pod?.metadata.labels?.[LABEL_PASS] === 'warm';
}

/** The final pass's pod made before the stop (warm-copy): placed on purpose, never replaced as stale. */
export function isFinalPassPod(pod: Pod | undefined): boolean {
  return pod?.metadata.labels?.[LABEL_PASS] === 'final';
}

/** Such a pod still waiting for the go annotation (perhaps told to prepare). */
export function isWaitingFinalPod(pod: Pod | undefined): boolean {
  return isFinalPassPod(pod) && pod?.metadata.annotations?.[ANNOTATION_GO] !== GO;
}

/** Lets a waiting final-pass pod start copying: only once nothing else uses the source. */
export async function giveGo(ctx: Pick<StepContext, 'cluster' | 'req' | 'names'>): Promise<void> {
  await ctx.cluster.annotatePod(ctx.req.namespace, ctx.names.copyPod, { [ANNOTATION_GO]: GO });
}

/**
 * A copy pod that has not started (unschedulable, image not pullable) is replaced when the re-run
 * asks for another image, tolerations or node selector; otherwise the fix could never take effect.
 */
export async function replaceStaleCopyPod(ctx: StepContext, j: Journal): Promise<boolean> {
  const current = await ctx.cluster.getPod(ctx.req.namespace, ctx.names.copyPod);
  if (!current || current.status?.phase !== 'Pending') return false;
  const wanted = copyPodFor(ctx, j, ctx.observed.sourcePv, undefined, ctx.observed.runId);
  if (ctx.engine.podHash(current) === ctx.engine.podHash(wanted)) return false;
  ctx.emit({
    type: 'info',
    step: 'copy',
    message: `replacing copy pod ${ctx.names.copyPod}: image or placement changed`,
  });
  await deletePodAndWait(ctx, ctx.names.copyPod, `old copy pod ${ctx.names.copyPod} to be deleted`);
  await ctx.cluster.createPod(wanted);
  return true;
}

/** Deletes a pod and waits until it is gone (its volumes are then free). */
export async function deletePodAndWait(
  ctx: Pick<StepContext, 'cluster' | 'req'>,
  name: string,
  what = `pod ${name} to be deleted`,
): Promise<void> {
  const ns = ctx.req.namespace;
  await ctx.cluster.deletePod(ns, name);
  await ctx.cluster.waitFor(what, ctx.req.timeouts.deleteMs, async () =>
    (await ctx.cluster.getPod(ns, name)) ? undefined : true,
  );
}

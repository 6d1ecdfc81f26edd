// Warm pre-copy (--precopy): before anything is stopped, the copy pod copies the source while the
// application still runs, in one or more passes, each one copying only what changed since the one
// before (the engine keeps its snapshot on the target). The owners are stopped afterwards, and the
// copy step's final pass then copies only what changed since the last warm pass and verifies the
// whole: the downtime no longer grows with the volume, only with what changed.
//
// The step ends by starting the final pass's pod, which waits (copy step) until the owners are
// stopped: a pod's scheduling and start are then no part of the downtime.
//
// Nothing here is relied on: a warm copy is never verified (the source changes under it), and the
// final pass, made while the source is stopped, decides. So a warm pass stopped or lost at any
// moment changes nothing for the application; the target claim and the pod are this migration's
// own objects, deleted by create-target's undo steps on rollback. The target PV's Retain, set here
// once it is bound (as retain-target-pv would after the stop), is undone by that step's undo.
import { StepProblem, TimeoutProblem } from '../errors.js';
import { ensureTargetClaim } from './create-target.js';
import { retainBoundTarget } from './retain-target-pv.js';
import { isCopied, originalClaimExists } from '../observed.js';
import { copyPodFor, deletePodAndWait, isWarmPod } from '../copy-pod.js';
import { copyPodHint } from '../wait-hints.js';
import { placementConflict } from '../placement.js';
import { needJournal, type Step, type StepContext } from '../step.js';
import type { Journal } from '../journal.js';
import type { Observed } from '../observed.js';
import type { ProgressSample } from '../copy-engine.js';
import { failureText, progressMessage, readCopyLogs } from '../copy-follow.js';
import { sleep } from '../sleep.js';

const POLL_MS = 1000;

function wantedPasses(o: Observed): number {
  return o.journal?.request.precopy?.passes ?? 0;
}

function warmPassesDone(o: Observed): boolean {
  const warm = o.journal?.warm;
  return warm !== undefined && warm.passes >= wantedPasses(o) && !isWarmPod(o.copyPod);
}

/**
 * The node the warm pod must run on: a ReadWriteOnce volume in use is attached to its pod's node
 * and can be mounted a second time only there. ReadWriteMany (or nothing running): anywhere.
 */
export function warmPassNode(o: Observed): string | undefined {
  const modes = o.journal?.original.pvc.spec?.accessModes ?? [];
  if (modes.includes('ReadWriteMany') || modes.includes('ReadOnlyMany')) return undefined;
  return o.podsUsingClaim.find((p) => p.spec?.nodeName)?.spec?.nodeName;
}

/**
 * Waits until the copy pod is past Pending (a conflict of placement or the start timeout fails the
 * step with what is in the way).
 */
async function waitStarted(ctx: StepContext, what: string, node: string | undefined): Promise<void> {
  const ns = ctx.req.namespace;
  const name = ctx.names.copyPod;
  await ctx.cluster.waitFor(
    `copy pod ${name} (${what}) to start${node ? ` on node ${node}, where ${ctx.req.claim} is in use` : ''}`,
    ctx.req.timeouts.startMs,
    async () => {
      const pod = await ctx.cluster.getPod(ns, name);
      if (!pod) throw new StepProblem(`copy pod ${name} (${what}) disappeared`);
      if ((pod.status?.phase ?? 'Pending') !== 'Pending') return true;
      const conflict = placementConflict(pod, ctx.observed.targetPv, ctx.observed.sourcePv);
      if (conflict) throw new StepProblem(conflict);
      return undefined;
    },
    { signal: ctx.signal, detail: () => copyPodHint(ctx.cluster, ns, name) },
  );
}

/** One warm pass: a fresh pod, followed to its last line, then deleted (it mounts the source). */
async function onePass(ctx: StepContext, j: Journal, pass: number, of: number): Promise<void> {
  const ns = ctx.req.namespace;
  const name = ctx.names.copyPod;
  const o = await ctx.observe();
  if (o.copyPod) await deletePodAndWait(ctx, name, `copy pod ${name} of an earlier pass to be deleted`);
  const node = warmPassNode(o);
  await ctx.cluster.createPod(copyPodFor(ctx, j, o.sourcePv, undefined, o.runId, { pass: 'warm', node }));
  await waitStarted(ctx, 'warm pass', node);

  const started = Date.now();
  let state = ctx.engine.emptyReport();
  let samples: ProgressSample[] = [];
  let last = '';
  for (;;) {
    if (ctx.signal.aborted) return; // the walk reports the interruption; the pod changes nothing
    const pod = await ctx.cluster.getPod(ns, name);
    if (!pod) throw new StepProblem(`copy pod ${name} (warm pass) disappeared`);
    const phase = pod.status?.phase ?? 'Pending';
    state = await readCopyLogs(ctx, state);
    const f = ctx.engine.progress(state, samples);
    if (f) {
      samples = [...samples, { atMs: Date.now(), bytesDone: f.bytesDone }].slice(-30);
      const message = progressMessage(ctx.engine, state, samples);
      if (message && message !== last) {
        last = message;
        ctx.emit({
          type: 'progress',
          step: 'warm-copy',
          message: of > 1 ? `pass ${pass} of ${of}: ${message}` : message,
          files: state.files,
          ...f,
        });
      }
    }
    if (phase === 'Failed') throw new StepProblem(failureText(pod, state));
    if (state.warmDone || phase === 'Succeeded') {
      if (!state.warmDone)
        state = ctx.engine.readLog(state, await ctx.cluster.readPodLog(ns, name, { tailLines: 200 }));
      if (!state.warmDone) throw new StepProblem(`copy pod ${name} (warm pass) exited without finishing`);
      ctx.emit({
        type: 'info',
        step: 'warm-copy',
        message: `warm pass ${pass} of ${of}: ${state.warmDone}`,
      });
      break;
    }
    if (Date.now() - started > ctx.req.timeouts.copyMs)
      throw new TimeoutProblem(
        `copy pod ${name} (warm pass) to finish`,
        ctx.req.timeouts.copyMs,
        last || undefined,
      );
    await sleep(POLL_MS, ctx.signal);
  }
  // The pod mounts the source: it goes before the owners are stopped, which waits for the claim to be free.
  await deletePodAndWait(ctx, name, `copy pod ${name} (warm pass) to be deleted`);
}

export const warmCopy: Step = {
  id: 'warm-copy',
  title: 'Copy the data while the application runs (warm pass)',
  notNeeded: (o) => wantedPasses(o) === 0,
  isDone: (o) => wantedPasses(o) === 0 || isCopied(o) || warmPassesDone(o),
  whyNotDone: (o) =>
    isWarmPod(o.copyPod) ? 'the warm pass pod still exists' : 'the warm passes are not recorded as done',
  async run(ctx) {
    const j = needJournal(ctx);
    const o = ctx.observed;
    if (!originalClaimExists(o))
      throw new StepProblem(`the original claim ${ctx.req.claim} is gone before the warm pass`);
    await ensureTargetClaim(ctx, j);
    const passes = j.request.precopy?.passes ?? 1;
    const started = Date.now();
    for (let pass = 1; pass <= passes; pass++) {
      await onePass(ctx, j, pass, passes);
      if (ctx.signal.aborted) return;
    }
    // The target claim is bound (the warm pod used it): its PV goes on Retain now rather than
    // during the downtime (retain-target-pv finds it done).
    await retainBoundTarget(ctx);
    // The final pass's pod starts now, while the application still runs, and waits for the go the
    // copy step gives once the owners are stopped: its scheduling and start leave the downtime.
    const node = warmPassNode(await ctx.observe());
    await ctx.cluster.createPod(
      copyPodFor(ctx, j, ctx.observed.sourcePv, undefined, ctx.observed.runId, { pass: 'final', node }),
    );
    await waitStarted(ctx, 'final pass, waiting for the stop', node);
    await ctx.updateJournal((cur) => ({
      ...cur,
      warm: {
        passes,
        finishedAt: ctx.now().toISOString(),
        ms: Date.now() - started,
        ...(ctx.observed.runId ? { runId: ctx.observed.runId } : {}),
      },
    }));
  },
  // Its objects are the target claim and the copy pod: create-target's undo steps delete them.
  plan: (p) =>
    p.pseudoJournal.request.precopy
      ? [
          {
            step: 'warm-copy',
            action: 'create',
            kind: 'Pod',
            name: p.names.copyPod,
            body: copyPodFor(p, p.pseudoJournal, p.observed.sourcePv, undefined, undefined, { pass: 'warm' }),
          },
        ]
      : [],
};

// Step 7: follow the copy pod to the end. Its log carries `PVMOVE` lines (measure, progress,
// verify); the CLI gets them as progress events. A non-zero exit, a missing "verify ok" or a pod
// that starts using the claim meanwhile stops the migration before any claim is deleted
// (invariants 7 and 8).
import { describe, StepProblem, TimeoutProblem } from '../errors.js';
import { copiedPatch } from '../manifests.js';
import { copyStands, isCopied, targetPvName } from '../observed.js';
import { podsUsingClaimNow } from '../observe.js';
import type { CopyEngine, CopyReport, ProgressSample } from '../copy-engine.js';
import { needJournal, type Step, type StepContext } from '../step.js';
import {
  copyPodFor,
  giveGo,
  isFinalPassPod,
  isWaitingFinalPod,
  isWarmPod,
  replaceStaleCopyPod,
} from '../copy-pod.js';
import { LABEL_RUN_ID } from '../defaults.js';
import { copyPodHint } from '../wait-hints.js';
import { placementConflict } from '../placement.js';
import type { InfoEvent } from '../events.js';
import { failureText, progressMessage, readCopyLogs } from '../copy-follow.js';
import { sleep } from '../sleep.js';
import { endsTheCopy, logWake, type LogWake } from '../log-wake.js';

/** Polls start fast, so a short copy is not followed by seconds of idle waiting, and back off to 2s. */
const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 2000;
/** Rate and ETA are computed over this window of recent samples. */
const RATE_WINDOW_MS = 30_000;
/** How long the copy keeps following through API errors before giving up (the pod keeps running). */
const API_OUTAGE_MS = 5 * 60_000;
/**
 * Listing the namespace's pods (to see one that starts using the claim) is the costly look of a
 * poll, and a copy polls for hours: it is done at most this often, and once more before the verdict
 * is accepted. A pod that writes between two looks is caught all the same: the copy pod compares
 * the source's fingerprint after copying with the one taken before.
 */
const INTRUDER_CHECK_MS = 10_000;

/**
 * Backs off x1.5 up to 2s, but looks again soon when the end is near (the copy is done and only the
 * verification runs, or the ETA is shorter than the wait): the workload is down until the step ends.
 * Starts again from the shortest wait once the pod has measured the data (`before`: the report of
 * the previous look): the pod's start and walk backed the polls off, and a copy of a few seconds
 * would otherwise show no progress between 0 and done.
 */
export function nextPollInterval(
  engine: CopyEngine,
  current: number,
  state: CopyReport,
  samples: ProgressSample[],
  before?: CopyReport,
): number {
  if (state.copyDone) return POLL_FIRST_MS;
  if (before && before.totalBytes === undefined && state.totalBytes !== undefined) return POLL_FIRST_MS;
  const next = Math.min(current * 1.5, POLL_MAX_MS);
  const eta = engine.progress(state, samples)?.etaSeconds;
  if (eta === undefined) return next;
  return Math.max(POLL_FIRST_MS, Math.min(next, (eta * 1000) / 2));
}

async function deleteOldCopyPod(ctx: StepContext): Promise<void> {
  const ns = ctx.req.namespace;
  const name = ctx.names.copyPod;
  await ctx.cluster.deletePod(ns, name);
  await ctx.cluster.waitFor(`old copy pod ${name} to be deleted`, ctx.req.timeouts.deleteMs, async () =>
    (await ctx.cluster.getPod(ns, name)) ? undefined : true,
  );
}

/** What the copy pod says about a copy an earlier run made, as an event. */
function earlierCopyEvent(ctx: StepContext, e: NonNullable<CopyReport['earlierCopy']>): InfoEvent {
  const claim = ctx.req.claim;
  if (e.verdict === 'unchanged') {
    return {
      type: 'info',
      step: 'copy',
      message: `the copy an earlier run made still matches claim ${claim} (the source is unchanged since and the target verifies): not copied again`,
    };
  }
  const why =
    e.verdict === 'source-changed'
      ? `claim ${claim} changed after an earlier run copied it (something used it in between)`
      : `the target no longer matches the copy an earlier run made (${e.detail})`;
  return {
    type: 'warning',
    step: 'copy',
    message: `${why}: the target is cleared and the data copied again`,
  };
}

export const copy: Step = {
  id: 'copy',
  title: 'Copy the data with tar and verify it',
  isDone: (o) => copyStands(o),
  whyNotDone: (o) =>
    isCopied(o)
      ? 'the copy was made by an earlier run and not checked again by this one'
      : 'the target PV is not marked as copied',
  async run(ctx) {
    const j = needJournal(ctx);
    const ns = ctx.req.namespace;
    const name = ctx.names.copyPod;
    const old = ctx.observed.copyPod;
    // The source as an earlier copy saw it: a new copy pod checks it before copying again.
    let expect = j.copy?.sourceFingerprint;
    let follow = old !== undefined;
    // This run made it (in a batch the copy step comes after every claim's pod started): its log
    // is this run's copy, read as if the pod were still running.
    const ours =
      old?.metadata.labels?.[LABEL_RUN_ID] !== undefined &&
      old.metadata.labels[LABEL_RUN_ID] === ctx.observed.runId;
    if (isWarmPod(old)) {
      // A warm pass is not a copy anyone may rely on: the final pass is made by a pod of its own.
      await deleteOldCopyPod(ctx);
      follow = false;
    } else if (old?.status?.phase === 'Succeeded' && !ours) {
      // It finished while no run was watching the claim: the application may have written since.
      // Its copy is only kept if the source is still exactly what it copied.
      expect ??= ctx.engine.readLog(
        ctx.engine.emptyReport(),
        await ctx.cluster.readPodLog(ns, name, { limitBytes: 64 * 1024 }).catch(() => ''),
      ).fingerprint;
      await deleteOldCopyPod(ctx);
      follow = false;
    } else if (old?.status?.phase === 'Failed' && ctx.previous?.status === 'failed') {
      // A pod that failed in an earlier run is replaced: the failure was reported then.
      await deleteOldCopyPod(ctx);
      follow = false;
    }
    if (follow && isWaitingFinalPod(old) && old?.status?.phase !== 'Failed') {
      // The final pass's pod, started before the stop (warm-copy), copies once told to: the owners
      // are stopped now (scale-down), and nothing else may use the source either.
      const users = await podsUsingClaimNow(ctx.cluster, ns, ctx.req.claim, name);
      if (users.length > 0)
        throw new StepProblem(
          `pod ${users.map((p) => p.metadata.name).join(', ')} uses ${ctx.req.claim} again; something scaled an owner back up`,
        );
      await giveGo(ctx);
    }
    // A pod still running is followed: its script compares the source before and after copying.
    if (!follow)
      await ctx.cluster.createPod(copyPodFor(ctx, j, ctx.observed.sourcePv, expect, ctx.observed.runId));
    else if (!isFinalPassPod(old)) await replaceStaleCopyPod(ctx, j);

    const started = Date.now();
    let running: number | undefined;
    let state = ctx.engine.emptyReport();
    let samples: ProgressSample[] = [];
    let lastMessage = '';
    let apiTroubleSince: number | undefined;
    /** The pod's log, followed once it runs: its verdict ends the pause before the next look. */
    let wake: LogWake | undefined;

    /** One look at the pod; true once it succeeded and verified. */
    let intrudersCheckedAt = Number.NEGATIVE_INFINITY;
    /** Invariant 7: a pod that uses the claim while it is copied stops the copy. */
    const stopIfIntruded = async (): Promise<void> => {
      const intruders = await podsUsingClaimNow(ctx.cluster, ns, ctx.req.claim, name);
      intrudersCheckedAt = Date.now();
      if (intruders.length === 0) return;
      await ctx.cluster.deletePod(ns, name);
      throw new StepProblem(
        `pod ${intruders.map((p) => p.metadata.name).join(', ')} started using ${ctx.req.claim} during the copy; the copy was stopped`,
      );
    };

    const poll = async (): Promise<boolean> => {
      const current = await ctx.cluster.getPod(ns, name);
      if (!current) throw new StepProblem(`copy pod ${name} disappeared`);
      const phase = current.status?.phase ?? 'Pending';

      if (phase !== 'Succeeded' && Date.now() - intrudersCheckedAt >= INTRUDER_CHECK_MS)
        await stopIfIntruded();

      if (phase === 'Pending') {
        const conflict = placementConflict(current, ctx.observed.targetPv, ctx.observed.sourcePv);
        if (conflict) throw new StepProblem(conflict);
        if (Date.now() - started > ctx.req.timeouts.startMs) {
          throw new TimeoutProblem(
            `copy pod ${name} to start`,
            ctx.req.timeouts.startMs,
            await copyPodHint(ctx.cluster, ns, name),
          );
        }
      } else {
        running ??= Date.now();
        wake ??= logWake(ctx.cluster, ns, name, endsTheCopy(ctx.engine));
        const before = state.earlierCopy;
        state = await readCopyLogs(ctx, state);
        if (state.earlierCopy && !before) ctx.emit(earlierCopyEvent(ctx, state.earlierCopy));
        const figures = ctx.engine.progress(state, samples);
        if (figures) {
          samples = [...samples, { atMs: Date.now(), bytesDone: figures.bytesDone }].filter(
            (x) => x.atMs >= Date.now() - RATE_WINDOW_MS,
          );
          const message = progressMessage(ctx.engine, state, samples);
          if (message && message !== lastMessage) {
            lastMessage = message;
            const f = ctx.engine.progress(state, samples);
            ctx.emit({ type: 'progress', step: 'copy', message, files: state.files, ...f });
          }
        }
      }

      if (phase === 'Failed') throw new StepProblem(failureText(current, state));
      // The verdict is the script's last line, printed after the data was flushed to disk: seeing it
      // is enough, without waiting a second or two for the kubelet to report the pod Succeeded.
      if (phase === 'Running' && state.verifyOk) {
        await stopIfIntruded();
        ctx.emit({ type: 'info', step: 'copy', message: state.verifyOk });
        return true;
      }
      if (phase === 'Succeeded') {
        if (!state.verifyOk)
          state = ctx.engine.readLog(state, await ctx.cluster.readPodLog(ns, name, { tailLines: 200 }));
        if (!state.verifyOk)
          throw new StepProblem(`copy pod ${name} exited without confirming the verification`);
        ctx.emit({ type: 'info', step: 'copy', message: state.verifyOk });
        return true;
      }
      if (running !== undefined && Date.now() - running > ctx.req.timeouts.copyMs) {
        throw new TimeoutProblem(
          `copy pod ${name} to finish`,
          ctx.req.timeouts.copyMs,
          lastMessage || undefined,
        );
      }
      return false;
    };

    let interval = POLL_FIRST_MS;
    try {
      for (;;) {
        if (ctx.signal.aborted) return; // the runner turns this into "interrupted"; the pod keeps going
        const before = state;
        try {
          if (await poll()) break;
          apiTroubleSince = undefined;
        } catch (err) {
          // A copy runs for hours; an API server restart meanwhile must not fail it. Verdicts about
          // the copy itself (StepProblem) are final.
          if (err instanceof StepProblem) throw err;
          if (apiTroubleSince === undefined) {
            apiTroubleSince = Date.now();
            ctx.emit({
              type: 'warning',
              step: 'copy',
              message: `API trouble, still following the copy: ${describe(err)}`,
            });
          }
          if (Date.now() - apiTroubleSince > API_OUTAGE_MS) throw err;
        }
        await (wake ? wake.pause(interval, ctx.signal) : sleep(interval, ctx.signal));
        interval = nextPollInterval(ctx.engine, interval, state, samples, before);
      }
    } finally {
      wake?.stop();
    }

    const pv = targetPvName(ctx.observed);
    if (!pv) throw new StepProblem('the target PV is unknown');
    await ctx.updateJournal((cur) => ({
      ...cur,
      copy: {
        // A copy found unchanged is not measured again: its figures stand.
        totalBytes: state.totalBytes ?? cur.copy?.totalBytes,
        files: state.files ?? cur.copy?.files,
        verify: cur.request.verify,
        verifiedAt: ctx.now().toISOString(),
        ...(state.fingerprint ? { sourceFingerprint: state.fingerprint } : {}),
        ...(ctx.observed.runId ? { runId: ctx.observed.runId } : {}),
      },
    }));
    await ctx.cluster.patchPv(pv, copiedPatch(j.migrationId));
  },
  // Nothing to take back: the copy only wrote to the target PV, which its own steps' undo handle.
  plan: (p) => [
    {
      step: 'copy',
      action: 'patch',
      kind: 'PersistentVolume',
      name: p.targetPv,
      body: copiedPatch(p.migrationId),
    },
  ],
};

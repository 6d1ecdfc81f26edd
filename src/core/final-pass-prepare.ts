// Just before the stop: a final-pass pod waiting for go (made by warm-copy) is told to prepare,
// and the owners are scaled down once it has made one more warm pass (the tar engine's prepare):
// what changed since the warm-copy step's pass is copied while the application still runs, and
// both trees' metadata are in memory for the final pass's walks. The final pass then copies only
// what changed between that pass and the stop. Never required: a pod that does not answer (made by
// an older version, a kubelet slow to update the annotation's file) or takes too long is left to
// the final pass as it is, which then copies everything since the warm-copy step's pass.
import { sleep } from './sleep.js';
import { isWaitingFinalPod } from './copy-pod.js';
import { ANNOTATION_GO, GO_PREPARE } from './defaults.js';
import type { StepContext } from './step.js';

/**
 * How long the pod may take to say it started reading ahead: the kubelet's refresh of the
 * annotation's file, which took over 10 s once on a loaded node. The application still runs while
 * this waits, so a longer wait costs no downtime.
 */
const PREPARE_ANSWER_MS = 30_000;
/**
 * How long the stop waits for that pass at most; the application still runs meanwhile. A pass
 * stopped by the go leaves its copies to the final pass (--precopy-passes is for a volume that
 * changes that much).
 */
const PREPARE_MAX_MS = 600_000;
const POLL_MS = 250;
/**
 * The kubelet applies a change of the pod (the go annotation, to its downward API file) only once
 * its next look at the pod's containers (every second) has started after it applied the previous
 * change (the prepare). A go sooner than that waits for it, 0.4-0.7 s on the test bed, while the
 * application is down; so the stop starts no sooner than this after the pod answered the prepare.
 * The application still runs meanwhile.
 */
const KUBELET_SPACING_MS = 1_000;

export async function prepareFinalPass(
  ctx: Pick<StepContext, 'cluster' | 'req' | 'names' | 'emit' | 'signal'>,
) {
  const ns = ctx.req.namespace;
  const name = ctx.names.copyPod;
  const pod = await ctx.cluster.getPod(ns, name);
  if (!isWaitingFinalPod(pod) || pod?.status?.phase !== 'Running') return;
  const started = Date.now();
  if (pod.metadata.annotations?.[ANNOTATION_GO] !== GO_PREPARE)
    await ctx.cluster.annotatePod(ns, name, { [ANNOTATION_GO]: GO_PREPARE });
  const say = (message: string) => ctx.emit({ type: 'info', step: 'scale-down', message });
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  let answeredAt: number | undefined;
  for (;;) {
    if (ctx.signal.aborted) return;
    const log = await ctx.cluster.readPodLog(ns, name, { tailLines: 20 }).catch(() => '');
    if (/^PVMOVE prepar(ing|ed)$/m.test(log)) answeredAt ??= Date.now();
    if (/^PVMOVE prepared$/m.test(log)) {
      const failed = /^PVMOVE prepare warm-pass-failed (.*)$/m.exec(log)?.[1];
      if (failed !== undefined) {
        ctx.emit({
          type: 'warning',
          step: 'scale-down',
          message: `the warm pass before the stop failed (${failed}); the final pass copies what it did not`,
        });
      }
      const copied = /^PVMOVE prepare copied_entries=(\d+)/m.exec(log)?.[1];
      const changed = /^PVMOVE prepare changed_files=(\d+)/m.exec(log)?.[1];
      const done =
        copied !== undefined
          ? `the final pass's pod copied ${copied} entries changed since the warm pass ahead in ${seconds()} s`
          : `the final pass's pod read both volumes' metadata${changed !== undefined ? ` and ${changed} changed files` : ''} ahead in ${seconds()} s`;
      await sleep(Math.max(0, (answeredAt ?? 0) + KUBELET_SPACING_MS - Date.now()), ctx.signal);
      // Said when the stop follows: the downtime starts right after this event.
      say(done);
      return;
    }
    const elapsed = Date.now() - started;
    if (!/^PVMOVE preparing$/m.test(log) && elapsed > PREPARE_ANSWER_MS) {
      say(
        `the final pass's pod did not start reading ahead within ${PREPARE_ANSWER_MS / 1000} s; stopping without it`,
      );
      return;
    }
    if (elapsed > PREPARE_MAX_MS) {
      say(
        `the final pass's pod still prepares after ${PREPARE_MAX_MS / 1000} s; stopping anyway (the final pass stops it)`,
      );
      return;
    }
    await sleep(POLL_MS, ctx.signal);
  }
}

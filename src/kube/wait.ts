// Polling waits with backoff and named timeouts. Polls, not watches: a watch that silently stalls
// is how a CLI hangs although the work finished (pv-migrate#274); a short poll always sees the truth.
import { StepProblem, TimeoutProblem } from '../core/errors.js';
import type { WaitOptions } from '../core/cluster.js';
import { sleep } from '../core/sleep.js';
import { isTransient } from './errors.js';

/**
 * Starts watching what a wait may be woken by; calls `poke` on every change and returns the stop.
 * Given by the cluster facade (a watch per target); any failure of it only leaves the polls.
 */
export type Waker = (poke: () => void) => () => void;

/**
 * After a poke, the probe looks again this soon: the events of one change (a claim's deletion and
 * its finalizer's removal, a Deployment's status fields) come within a few ms and make one look.
 * A wait ended by a poke, in the downtime most of them, ends this much after the change (50 ms
 * before; since the looks read pods from the API server's cache they cost ~5 ms).
 */
const POKE_DELAY_MS = 15;
/**
 * Looks a wait makes because of pokes, at most: in a busy namespace every pod's change is an event,
 * and a long wait must not turn them into a stream of requests. After that, only the polls.
 */
const MAX_POKED_LOOKS = 40;

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions = {},
  waker?: Waker,
): Promise<T> {
  let poked = false;
  let pokedLooks = 0;
  let wakeUp: (() => void) | undefined;
  const stopWatching = waker?.(() => {
    if (pokedLooks >= MAX_POKED_LOOKS) return;
    poked = true;
    wakeUp?.();
  });
  try {
    return await pollUntil(what, timeoutMs, probe, opts, async (ms) => {
      if (!poked) {
        // One controller per pause: a poke or the caller's abort ends it and clears its timer.
        const pause = new AbortController();
        const end = (): void => pause.abort();
        wakeUp = end;
        opts.signal?.addEventListener('abort', end, { once: true });
        if (!opts.signal?.aborted) await sleep(ms, pause.signal);
        opts.signal?.removeEventListener('abort', end);
        wakeUp = undefined;
      }
      if (poked) {
        poked = false;
        pokedLooks++;
        await sleep(POKE_DELAY_MS, opts.signal);
      }
    });
  } finally {
    stopWatching?.();
  }
}

async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions,
  pause: (ms: number) => Promise<void>,
): Promise<T> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  // 200ms first: most waits (a pod gone, a claim bound) end within a second or two, and while the
  // application is stopped each one's lag adds to the downtime; so at most 1s between looks for
  // the first 15s, then back off to 2s (a long wait costs no more requests than before).
  let interval = opts.intervalMs ?? 200;
  for (;;) {
    if (opts.signal?.aborted) throw new Error(`interrupted while waiting for ${what}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      // Problems the probe detects are final; flaky API calls are retried until the deadline.
      if (err instanceof StepProblem || !isTransient(err)) throw err;
    }
    if (Date.now() >= deadline) {
      const detail = opts.detail ? await opts.detail().catch(() => undefined) : undefined;
      throw new TimeoutProblem(what, timeoutMs, detail);
    }
    await pause(Math.min(interval, Math.max(deadline - Date.now(), 0)));
    interval = Math.min(interval * 1.5, Date.now() - started < 15_000 ? 1000 : 2000);
  }
}

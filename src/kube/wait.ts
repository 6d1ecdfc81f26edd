// Polling waits with backoff and named timeouts. Polls, not watches: a watch that silently stalls
// is how a CLI hangs although the work finished (pv-migrate#274); a short poll always sees the truth.
import { StepProblem, TimeoutProblem } from '../core/errors.js';
import type { WaitOptions } from '../core/cluster.js';
import { isTransient } from './errors.js';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions = {},
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
    await sleep(Math.min(interval, Math.max(deadline - Date.now(), 0)), opts.signal);
    interval = Math.min(interval * 1.5, Date.now() - started < 15_000 ? 1000 : 2000);
  }
}

// The copy step's pause between two looks at the copy pod, ended early by the pod's own log: once
// the pod writes its verdict (or an error), the next look happens at once instead of up to a poll
// interval later, and the application is down for that interval. Only a hint: the look (a plain read
// of the pod and its log) still decides, and without a follow (a cluster port without it, a stream
// refused or ended) the pauses are what they were.
import type { ClusterPort } from './cluster.js';
import type { CopyEngine } from './copy-engine.js';
import { sleep } from './sleep.js';

/** A line of the engine's log that ends the copy or its copying part: worth a look at once. */
export function endsTheCopy(engine: CopyEngine): (line: string) => boolean {
  return (line) => {
    const r = engine.readLog(engine.emptyReport(), line);
    return r.verifyOk !== undefined || r.error !== undefined || r.copyDone || r.warmDone !== undefined;
  };
}

/** A pause that ends at `ms`, on the caller's abort, or when the followed log showed a line worth a look. */
export interface LogWake {
  pause(ms: number, signal: AbortSignal): Promise<void>;
  stop(): void;
}

export function logWake(
  cluster: Pick<ClusterPort, 'followPodLog'>,
  namespace: string,
  pod: string,
  worthALook: (line: string) => boolean,
): LogWake {
  let seen = false;
  let wakeUp: (() => void) | undefined;
  let stopFollow: (() => void) | undefined;
  try {
    stopFollow = cluster.followPodLog?.(namespace, pod, (line) => {
      if (!worthALook(line)) return;
      seen = true;
      wakeUp?.();
    });
  } catch {
    stopFollow = undefined; // no follow: plain pauses
  }
  return {
    async pause(ms, signal) {
      if (!seen && !signal.aborted) {
        // One controller per pause: a line worth a look or the caller's abort ends it.
        const pause = new AbortController();
        const end = (): void => pause.abort();
        wakeUp = end;
        signal.addEventListener('abort', end, { once: true });
        await sleep(ms, pause.signal);
        signal.removeEventListener('abort', end);
        wakeUp = undefined;
      }
      seen = false;
    },
    stop() {
      wakeUp = undefined;
      stopFollow?.();
    },
  };
}

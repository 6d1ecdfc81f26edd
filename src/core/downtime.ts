// The downtime of a move: from the moment the owners started to stop (scale-down; after the final
// pass's read-ahead, when it had one) to the moment they were all ready again (scale-up), as the
// journal's step records have it. Pure.
import type { Journal } from './journal.js';

/** Milliseconds the workload was down, or undefined if nothing was stopped (or not yet back). */
export function downtimeMs(j: Journal | undefined): number | undefined {
  const down = j?.steps['scale-down'];
  const up = j?.steps['scale-up'];
  // A scale-down found done had nothing to stop: no owner ran pods of the claim.
  if (!down?.startedAt || up?.status !== 'done' || !up.finishedAt) return undefined;
  return Math.max(0, Date.parse(up.finishedAt) - Date.parse(down.stoppingAt ?? down.startedAt));
}

/** "downtime 7.4 s", or what was stopped instead. */
export function downtimeText(ms: number | undefined): string {
  if (ms === undefined) return 'no downtime (nothing was stopped)';
  return `downtime ${(ms / 1000).toFixed(1)} s`;
}

// Without a TTY: plain timestamped lines, one per event, for logs and CI.
import { describe } from '../../core/errors.js';
import type { PvmoveEvent } from '../../core/events.js';
import { batchPlanText, planManifests, planSummary } from './plan-text.js';
import type { Io, Renderer } from './types.js';

export function plainLine(event: PvmoveEvent, now: Date = new Date()): string | undefined {
  // In a batch, the claim an event is about comes first: `<time> [data-db-0] done    copy - ...`.
  const claim = 'claim' in event && event.claim !== undefined ? ` [${event.claim}]` : '';
  const t = `${now.toISOString()}${claim}`;
  switch (event.type) {
    case 'step': {
      const took = event.durationMs !== undefined ? ` (${(event.durationMs / 1000).toFixed(1)}s)` : '';
      const msg = event.message ? `: ${event.message}` : '';
      return `${t} ${event.status.padEnd(7)} ${event.step} - ${event.title}${took}${msg}`;
    }
    case 'progress':
      return `${t} progress ${event.step}: ${event.message}`;
    case 'info':
    case 'warning':
      return `${t} ${event.type.padEnd(7)} ${event.step ?? ''}${event.step ? ': ' : ''}${event.message}`;
    case 'plan':
      return undefined;
    case 'result':
      return `${t} ${event.status.padEnd(7)} ${event.message}`;
    case 'error':
      return `${t} ${event.status} ${event.message}`;
  }
}

export function plainRenderer(io: Io): Renderer {
  return {
    emit: (event) => {
      const line = plainLine(event);
      if (line !== undefined) io.stdout.write(`${line}\n`);
    },
    showPlan: async (plan, full) => {
      io.stdout.write(planSummary(plan));
      if (full) io.stdout.write(planManifests(plan));
    },
    showBatchPlan: async (prepared, full) => {
      io.stdout.write(batchPlanText(prepared, full));
    },
    begin: () => undefined,
    end: async (err) => {
      if (err !== undefined) io.stderr.write(`${describe(err)}\n`);
    },
  };
}

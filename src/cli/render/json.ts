// -o json: one JSON object per line on stdout, each with a timestamp. The contract the e2e tests
// and scripts rely on: {type, step?, status?, message?, durationMs?, ...}.
import { exitCodeOf, describe } from '../../core/errors.js';
import type { PvmoveEvent } from '../../core/events.js';
import type { Io, Renderer } from './types.js';
import { errorStatus } from './status.js';
import { batchSummary } from './plan-text.js';

export function jsonLine(event: PvmoveEvent, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), ...event });
}

export function jsonRenderer(io: Io): Renderer {
  const emit = (event: PvmoveEvent): void => {
    io.stdout.write(`${jsonLine(event)}\n`);
  };
  return {
    emit,
    showPlan: async () => {
      // The plan event already carries everything.
    },
    // Each claim's plan is in its plan event; what the batch does as a whole, as info events.
    showBatchPlan: async (prepared) => {
      for (const line of batchSummary(prepared))
        if (!line.endsWith(':')) emit({ type: 'info', message: line.trim().replace(/^- /, '') });
    },
    begin: () => undefined,
    end: async (err) => {
      if (err === undefined) return;
      emit({
        type: 'error',
        status: errorStatus(err),
        ...(stepOf(err) ? { step: stepOf(err) } : {}),
        message: describe(err),
        exitCode: exitCodeOf(err),
      });
      io.stderr.write(`${describe(err)}\n`);
    },
  };
}

function stepOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { step?: unknown }).step === 'string'
    ? (err as { step: string }).step
    : undefined;
}

// What a renderer does with the core's events. Only src/cli prints.
import type { Emit } from '../../core/events.js';
import type { PreparedBatch } from '../../core/batch.js';
import type { Plan } from '../../core/plan.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

export interface Renderer {
  emit: Emit;
  /** The plan before a confirmation (summary) or for --dry-run (full, with manifests). */
  showPlan(plan: Plan, full: boolean): Promise<void>;
  /** A batch's plan: every claim's plan and what the batch does as a whole (claims, templates, notes). */
  showBatchPlan(prepared: PreparedBatch, full: boolean): Promise<void>;
  /**
   * Starts the live view of these steps (the listr2 tree); a no-op for line renderers. With
   * `claims` (a batch), one subtree per claim, each with these steps and its own progress line.
   */
  begin(steps: { id: string; title: string }[], claims?: string[]): void;
  /** Ends the live view; `err` is the failure to report, if any. */
  end(err?: unknown): Promise<void>;
}

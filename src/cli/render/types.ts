// What a renderer does with the core's events. Only src/cli prints.
import type { Emit } from '../../core/events.js';
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
  /** Starts the live view of these steps (the listr2 tree); a no-op for line renderers. */
  begin(steps: { id: string; title: string }[]): void;
  /** Ends the live view; `err` is the failure to report, if any. */
  end(err?: unknown): Promise<void>;
}

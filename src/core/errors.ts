// Typed errors: "won't" (usage, preflight: nothing changed) is distinct from "failed" (a step broke
// midway and a re-run resumes). Messages are one line and end with the command to run next.
//
// Exit codes (src/main.ts maps errors to these; nowhere else calls process.exit):
//
//   code | meaning                                   | error class
//   -----+-------------------------------------------+------------------------------
//      0 | done (or dry run printed)                 | -
//      1 | a step failed; re-run the command resumes | StepFailedError, anything unexpected
//        | (or `kubectl pvmove rollback` undoes it)  |
//      2 | usage error or preflight refusal:         | UsageError, PreflightError
//        | nothing was changed                       |
//    130 | interrupted (SIGINT/SIGTERM) at a safe    | InterruptedError
//        | point between steps; resume or rollback   |

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_REFUSED = 2;
export const EXIT_INTERRUPTED = 130;

export abstract class PvmoveError extends Error {
  abstract readonly exitCode: number;
  /** The command the user should run next, already part of the message. */
  readonly next: string | undefined;

  constructor(message: string, next?: string) {
    super(next ? `${withStop(message)} ${next}` : oneLine(message));
    this.next = next;
  }
}

/** Bad flags or arguments. */
export class UsageError extends PvmoveError {
  readonly exitCode = EXIT_REFUSED;
  constructor(message: string, next = 'Run `kubectl pvmove --help` for usage.') {
    super(message, next);
    this.name = 'UsageError';
  }
}

/** The cluster is not in a state pvmove will start from; nothing has been changed. */
export class PreflightError extends PvmoveError {
  readonly exitCode = EXIT_REFUSED;
  constructor(reason: string, rerun: string) {
    super(`${trimDot(reason)}; nothing was changed.`, `Fix that, then run \`${rerun}\`.`);
    this.name = 'PreflightError';
  }
}

/** A step did not reach its postcondition; the journal and the cluster let a re-run continue. */
export class StepFailedError extends PvmoveError {
  readonly exitCode = EXIT_FAILED;
  readonly step: string;
  constructor(step: string, reason: string, resume: string, rollback?: string) {
    super(`Step ${step} failed: ${trimDot(reason)}.`, nextSteps(resume, rollback));
    this.name = 'StepFailedError';
    this.step = step;
  }
}

/** SIGINT/SIGTERM honoured between steps. */
export class InterruptedError extends PvmoveError {
  readonly exitCode = EXIT_INTERRUPTED;
  constructor(where: string, resume: string, rollback?: string) {
    super(`Interrupted ${where}; the cluster is in a consistent state.`, nextSteps(resume, rollback));
    this.name = 'InterruptedError';
  }
}

/**
 * Raised inside steps for conditions the step cannot fix (a claim name taken, a pod that
 * appeared); the runner wraps it into a StepFailedError with the resume command.
 */
export class StepProblem extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'StepProblem';
  }
}

/** The journal changed under us (another run, or a person): re-read and decide again. */
export class ConflictProblem extends StepProblem {
  constructor(what: string) {
    super(`${what} was changed concurrently`);
    this.name = 'ConflictProblem';
  }
}

/** Raised by waits when their named timeout expires. */
export class TimeoutProblem extends StepProblem {
  constructor(what: string, timeoutMs: number, detail?: string) {
    super(`timed out after ${formatDuration(timeoutMs)} waiting for ${what}${detail ? ` (${detail})` : ''}`);
    this.name = 'TimeoutProblem';
  }
}

/** "Re-run `move` to resume, or run `rollback` to undo it." */
export function nextSteps(resume: string, rollback?: string): string {
  return rollback
    ? `Re-run \`${resume}\` to resume, or run \`${rollback}\` to undo it.`
    : `Re-run \`${resume}\` to resume.`;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof PvmoveError) return err.exitCode;
  return EXIT_FAILED;
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function withStop(text: string): string {
  const t = oneLine(text);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function trimDot(text: string): string {
  return oneLine(text).replace(/[.;\s]+$/, '');
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** A short description of any thrown value, for messages. */
export function describe(err: unknown): string {
  if (err instanceof Error) return oneLine(err.message);
  return oneLine(String(err));
}

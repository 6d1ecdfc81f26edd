// What the core tells the outside world. The core only emits; src/cli renders (tree, plain, json).
import type { Plan } from './plan.js';

export type StepStatus = 'started' | 'done' | 'skipped' | 'failed';

/** In a batch (several claims in one migration), the claim an event is about. */
interface AboutClaim {
  claim?: string;
}

export interface StepEvent extends AboutClaim {
  type: 'step';
  step: string;
  title: string;
  status: StepStatus;
  message?: string;
  durationMs?: number;
}

export interface ProgressEvent extends AboutClaim {
  type: 'progress';
  step: string;
  message: string;
  bytesDone?: number;
  bytesTotal?: number;
  files?: number;
  percent?: number;
  rateBytesPerSecond?: number;
  etaSeconds?: number;
}

/** Something the user should know that does not stop the migration. */
export interface InfoEvent extends AboutClaim {
  type: 'info' | 'warning';
  step?: string;
  message: string;
}

export interface PlanEvent {
  type: 'plan';
  migrationId: string;
  plan: Plan;
}

export interface ResultEvent {
  type: 'result';
  /** nothing-to-do: the claim already has the class and size asked for; nothing was changed. */
  status: 'done' | 'dry-run' | 'cleaned' | 'rolled-back' | 'nothing-to-do';
  migrationId?: string;
  message: string;
  next?: string;
  durationMs?: number;
  /** A move: from the start of the scale-down to the owners ready again (absent: nothing stopped). */
  downtimeMs?: number;
}

export interface ErrorEvent extends AboutClaim {
  type: 'error';
  status: 'failed' | 'refused' | 'interrupted';
  step?: string;
  message: string;
  exitCode: number;
}

export type PvmoveEvent = StepEvent | ProgressEvent | InfoEvent | PlanEvent | ResultEvent | ErrorEvent;

export type Emit = (event: PvmoveEvent) => void;

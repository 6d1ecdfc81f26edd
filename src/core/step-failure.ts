// How a failed step is reported, the same for the forward run and the rollback walk: one `failed`
// step event, then the failure in the journal (except an interruption, which is no failure of the
// step), then the error to the caller.
import { InterruptedError, type PvmoveError } from './errors.js';
import type { Emit } from './events.js';
import type { StepRecord } from './journal.js';

export async function reportStepFailure(
  step: { id: string; title: string },
  failure: PvmoveError,
  startedAtMs: number,
  emit: Emit,
  record: (id: string, rec: StepRecord) => Promise<unknown>,
  now: () => Date,
): Promise<never> {
  emit({
    type: 'step',
    step: step.id,
    title: step.title,
    status: 'failed',
    message: failure.message,
    durationMs: Date.now() - startedAtMs,
  });
  if (!(failure instanceof InterruptedError)) {
    await record(step.id, {
      status: 'failed',
      finishedAt: now().toISOString(),
      message: failure.message,
    }).catch(
      () => undefined, // the failure itself matters more than recording it
    );
  }
  throw failure;
}

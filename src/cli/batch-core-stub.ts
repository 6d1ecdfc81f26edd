// TEMPORARY: prepareBatch/runBatch as src/core/batch.ts will export them, until they land there.
// Delete this file and import from ../core/batch.js once they do.
import { UsageError } from '../core/errors.js';
import type { BatchRequest, PreparedBatch } from '../core/batch.js';
import type { RunnerDeps } from '../core/runner.js';

export function prepareBatch(b: BatchRequest, deps: RunnerDeps): Promise<PreparedBatch> {
  void deps;
  return Promise.reject(
    new UsageError(
      `moving several claims in one run (${b.claims.join(', ')}) is not available in this build`,
    ),
  );
}

export function runBatch(b: BatchRequest, deps: RunnerDeps, prepared: PreparedBatch): Promise<void> {
  void deps;
  void prepared;
  return prepareBatch(b, deps).then(() => undefined);
}

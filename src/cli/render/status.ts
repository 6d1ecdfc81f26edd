import { EXIT_INTERRUPTED, EXIT_REFUSED, exitCodeOf } from '../../core/errors.js';

/** failed / refused / interrupted, from the exit code the error maps to. */
export function errorStatus(err: unknown): 'failed' | 'refused' | 'interrupted' {
  const code = exitCodeOf(err);
  return code === EXIT_REFUSED ? 'refused' : code === EXIT_INTERRUPTED ? 'interrupted' : 'failed';
}

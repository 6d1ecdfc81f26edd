// TEST ONLY (the e2e crash matrix): PVMOVE_TEST_KILL_AFTER=<step id> makes the process SIGKILL
// itself right after that step is journaled done; `copy-progress` (`warm-copy-progress`) kills it
// on the first progress event of the copy (of a warm pass). It simulates a crash at a precise point; never set it otherwise.
//
// Its own module so the release binary can leave it out: scripts/binary/esbuild.config.mjs
// replaces this file with one whose testKillHook always returns undefined, so neither the variable
// nor the self-kill is in the shipped bundle.

/** The hook to call with a step id (or `copy-progress`), or undefined when the variable is unset. */
export function testKillHook(env: NodeJS.ProcessEnv): ((point: string) => void) | undefined {
  const at = env.PVMOVE_TEST_KILL_AFTER;
  if (!at) return undefined;
  return (point) => {
    if (point === at) process.kill(process.pid, 'SIGKILL');
  };
}

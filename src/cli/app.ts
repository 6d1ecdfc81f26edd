// The command line: yargs with explicit .command() modules (no commandDir: it breaks bundling).
// Parses, dispatches to a command, and lets errors travel to main.ts, which picks the exit code.
import yargs from 'yargs';
import { describe, exitCodeOf, UsageError } from '../core/errors.js';
import { Reported } from './reported.js';
import { errorStatus } from './render/status.js';
import { VERSION, versionLine } from '../version.js';
import { cleanupCommand, runCleanupCommand } from './commands/cleanup.js';
import { completionCommand, runCompletion, type CompletionArgv } from './commands/completion.js';
import { moveCommand, runMove } from './commands/move.js';
import { resumeCommand, runResume } from './commands/resume.js';
import { rollbackCommand, runRollbackCommand } from './commands/rollback.js';
import { listCommand, runStatus, statusCommand } from './commands/status.js';
import type { Io } from './render/types.js';
import type { CleanupArgv, MoveArgv, RollbackArgv, StatusArgv } from './request.js';

export async function runCli(args: string[], io: Io): Promise<void> {
  // Before yargs: the words to complete are not valid flags of any command (strict mode).
  if (args[0] === '__complete') {
    const { runComplete } = await import('./complete.js');
    return runComplete(args.slice(1), io.stdout);
  }
  let work: Promise<void> | undefined;
  const parser = yargs(args)
    .scriptName('kubectl pvmove')
    .usage(
      'kubectl pvmove <claim> [--to-class CLASS] [--size SIZE] [-n NS]\n' +
        'kubectl pvmove <claim>... | statefulset/NAME | -l SELECTOR | --from-class CLASS [-A]  (a batch)\n\n' +
        "Moves a PersistentVolumeClaim's data to a new PersistentVolume (another StorageClass and/or a bigger\n" +
        "size) while keeping the claim name; several claims (a StatefulSet's, by label, by class) in one downtime.\n" +
        'Safe to re-run: the same command resumes after any failure.',
    )
    .command({ ...moveCommand, handler: (a) => void (work = runMove(a as MoveArgv, io)) })
    .command({ ...cleanupCommand, handler: (a) => void (work = runCleanupCommand(a as CleanupArgv, io)) })
    .command({ ...resumeCommand, handler: (a) => void (work = runResume(a as MoveArgv, io)) })
    .command({ ...rollbackCommand, handler: (a) => void (work = runRollbackCommand(a as RollbackArgv, io)) })
    .command({ ...statusCommand, handler: (a) => void (work = runStatus(a as StatusArgv, io)) })
    .command({ ...listCommand, handler: (a) => void (work = runStatus(a as StatusArgv, io)) })
    .command({ ...completionCommand, handler: (a) => void (work = runCompletion(a as CompletionArgv, io)) })
    // The commit is looked up (git, from source) only when asked for.
    .version(args.includes('--version') ? versionLine() : VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err instanceof Error && !msg ? err : new UsageError(msg ?? String(err));
    });
  try {
    await parser.parseAsync();
    if (work) await work;
  } catch (err) {
    // Errors before a renderer exists (flags, kubeconfig) still reach -o json consumers.
    if (!(err instanceof Reported) && wantsJson(args)) {
      io.stdout.write(
        `${JSON.stringify({ time: new Date().toISOString(), type: 'error', status: errorStatus(err), message: describe(err), exitCode: exitCodeOf(err) })}\n`,
      );
      io.stderr.write(`${describe(err)}\n`);
      throw new Reported(err);
    }
    throw err;
  }
}

export function wantsJson(args: string[]): boolean {
  return args.some(
    (a, i) =>
      a === '-ojson' ||
      a === '--output=json' ||
      a === '-o=json' ||
      ((a === '-o' || a === '--output') && args[i + 1] === 'json'),
  );
}

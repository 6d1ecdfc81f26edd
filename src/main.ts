#!/usr/bin/env node
// The process boundary: wires signals, runs the CLI, maps the outcome to an exit code. The only
// place that calls process.exit (exit codes: src/core/errors.ts).
import { runCli } from './cli/app.js';
import { Reported } from './cli/reported.js';
import { describe, EXIT_INTERRUPTED, exitCodeOf } from './core/errors.js';

async function main(): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: string): void => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        `\n${name}: stopping at the next safe point (press Ctrl-C again to quit now)...\n`,
      );
      controller.abort();
    } else {
      process.stderr.write(
        'Quitting now. Re-run the same command (or `kubectl pvmove resume <claim>`) to resume, or run `kubectl pvmove rollback <claim>` to undo.\n',
      );
      process.exit(EXIT_INTERRUPTED);
    }
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    await runCli(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
      signal: controller.signal,
    });
    return 0;
  } catch (err) {
    if (err instanceof Reported) return exitCodeOf(err.inner);
    process.stderr.write(`${describe(err)}\n`);
    return exitCodeOf(err);
  }
}

// Let stdout drain before exiting: piped JSON output must not be cut short.
main().then((code) => {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
});

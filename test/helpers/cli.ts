// Runs kubectl-pvmove the way a user or a CI job does: a separate process, no terminal, the test
// bed's kubeconfig. PVMOVE_BIN selects a built binary; by default the CLI runs from source.
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed `-o json` lines (empty for other output formats). */
  events: Array<Record<string, unknown>>;
}

const root = path.resolve(import.meta.dirname, '../..');

export function cliCommand(): string[] {
  if (process.env.PVMOVE_BIN) return [process.env.PVMOVE_BIN];
  return [path.join(root, 'node_modules/.bin/tsx'), path.join(root, 'src/main.ts')];
}

export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const [cmd, ...pre] = cliCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, stdout, stderr, events });
    });
  });
}

/** A readable account of a CLI run for assertion messages. */
export function explain(r: CliResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout.slice(-6000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

// Runs kubectl-pvmove the way a user or a CI job does: a separate process, no terminal, the test
// bed's kubeconfig. PVMOVE_BIN selects a built binary; by default the CLI runs from source.
// PVMOVE_VIA_KUBECTL=1 runs it as a kubectl plugin, `kubectl pvmove ...`, with kubectl-pvmove (the
// binary, or a shim that runs the source) in a directory put first on PATH.
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  if (process.env.PVMOVE_VIA_KUBECTL === '1') return ['kubectl', 'pvmove'];
  if (process.env.PVMOVE_BIN) return [process.env.PVMOVE_BIN];
  return [path.join(root, 'node_modules/.bin/tsx'), path.join(root, 'src/main.ts')];
}

let pluginDir: string | undefined;
/** A directory holding kubectl-pvmove (PVMOVE_BIN, else a shim running the source), for PATH. */
export function pluginPathDir(): string {
  if (pluginDir) return pluginDir;
  pluginDir = mkdtempSync(path.join(tmpdir(), 'pvmove-plugin-'));
  const plugin = path.join(pluginDir, 'kubectl-pvmove');
  if (process.env.PVMOVE_BIN) symlinkSync(path.resolve(process.env.PVMOVE_BIN), plugin);
  else {
    const tsx = path.join(root, 'node_modules/.bin/tsx');
    writeFileSync(plugin, `#!/bin/sh\nexec '${tsx}' '${path.join(root, 'src/main.ts')}' "$@"\n`, {
      mode: 0o755,
    });
  }
  return pluginDir;
}

export function runCli(
  args: string[],
  opts: {
    env?: Record<string, string>;
    timeoutMs?: number;
    /** The command to run instead of cliCommand(), e.g. ['kubectl', 'pvmove']. */
    command?: string[];
    /** Start from an empty environment (env -i): only opts.env (and NO_COLOR) is passed. */
    cleanEnv?: boolean;
  } = {},
): Promise<CliResult> {
  const [cmd, ...pre] = opts.command ?? cliCommand();
  const base: NodeJS.ProcessEnv = opts.cleanEnv ? {} : { ...process.env };
  if (!opts.command && !opts.cleanEnv && process.env.PVMOVE_VIA_KUBECTL === '1') {
    base.PATH = `${pluginPathDir()}${path.delimiter}${process.env.PATH ?? ''}`;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], {
      cwd: root,
      env: { ...base, NO_COLOR: '1', ...opts.env },
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

// The CLI run as a user runs it (a separate process, -o json, PVMOVE_DEBUG_REQUESTS=1), with its
// peak memory: every 100 ms the process tree is walked and the largest VmHWM (the kernel's own
// high-water mark of resident memory) of a node process running the CLI is kept.
//
// By default the CLI runs as the release bundles it: the release's esbuild options (the bundle the
// single binary carries) into .bench/cli-bundle.cjs, run by the Node the binary carries; from source (tsx, which
// compiles every module at start and holds ~90 MB more) with --from-source. The downtime scenario
// needs the crash matrix's kill hook (PVMOVE_TEST_KILL_AFTER), which the release build replaces:
// useBundle({ testHooks: true }) builds the same bundle without that replacement, into
// .bench/test-hooks/cli-bundle.cjs.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cliCommand } from '../../test/helpers/cli.js';

const root = path.resolve(import.meta.dirname, '../..');
const BUNDLE = path.join(root, '.bench/cli-bundle.cjs');
// Same file name, so the memory sampler (hwmOf) recognises the process.
const BUNDLE_WITH_TEST_HOOKS = path.join(root, '.bench/test-hooks/cli-bundle.cjs');
let command: string[] = cliCommand();

/**
 * Runs the CLI from the release bundle (built now from the working tree) instead of from source.
 * testHooks: keep src/cli/test-hooks.ts (the release build replaces it with a no-op), for
 * PVMOVE_TEST_KILL_AFTER; everything else is the release's build.
 */
export async function useBundle(o: { testHooks?: boolean } = {}): Promise<string> {
  const { build } = (await import('esbuild')) as typeof import('esbuild');
  // @ts-expect-error: plain JavaScript module of the release build, no types
  const { esbuildOptions } = (await import('../binary/esbuild.config.mjs')) as {
    esbuildOptions: (o: object) => import('esbuild').BuildOptions;
  };
  const outfile = o.testHooks ? BUNDLE_WITH_TEST_HOOKS : BUNDLE;
  const options = esbuildOptions({ root, outfile, version: 'bench', commit: 'bench' });
  if (o.testHooks) {
    const plugins = options.plugins ?? [];
    if (!plugins.some((p) => p.name === 'without-test-hooks'))
      throw new Error('esbuild.config.mjs has no without-test-hooks plugin to leave out');
    options.plugins = plugins.filter((p) => p.name !== 'without-test-hooks');
  }
  await build(options);
  // @ts-expect-error: plain JavaScript module of the release build, no types
  const { RUNTIME_FLAGS } = (await import('../binary/runtime-flags.mjs')) as { RUNTIME_FLAGS: string[] };
  // PVMOVE_BENCH_NODE_FLAGS (space-separated) tries other flags than the release's.
  const flags = process.env.PVMOVE_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? RUNTIME_FLAGS;
  command = [releaseNode(), ...flags, outfile];
  return path.relative(root, outfile);
}

/**
 * The Node the single binary carries (the npm `node` package pinned in package.json), run with the
 * binary's flags (scripts/binary/runtime-flags.mjs), so memory and start-up are those of the
 * release; this script's own Node if that package is not installed.
 */
function releaseNode(): string {
  const pinned = path.join(root, 'node_modules/node/bin/node');
  return existsSync(pinned) ? pinned : process.execPath;
}

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  events: Array<Record<string, unknown>>;
  wallSeconds: number;
  /** Largest VmHWM of the CLI's node process(es), in bytes (0 if never sampled). */
  peakRssBytes: number;
}

function children(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(ppid, [...(out.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function treeOf(pid: number): number[] {
  const kids = children();
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const k of kids.get(p) ?? []) walk(k);
  };
  walk(pid);
  return all;
}

function hwmOf(pid: number): number {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('main.ts') && !cmdline.includes('cli-bundle.cjs')) return 0;
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function runMeasured(
  args: string[],
  timeoutMs = 3_600_000,
  env: Record<string, string> = {},
): Promise<MeasuredRun> {
  const [cmd, ...pre] = command;
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args, '-o', 'json', '--yes'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', PVMOVE_DEBUG_REQUESTS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const seen = new Set<number>();
    const sample = () => {
      if (child.pid === undefined) return;
      for (const p of treeOf(child.pid)) {
        seen.add(p);
        peak = Math.max(peak, hwmOf(p));
      }
    };
    // The high-water mark only grows, so sampling the processes seen so far until they exit loses
    // nothing but the last 100 ms of a process that exits.
    const sampler = setInterval(() => {
      sample();
      for (const p of seen) peak = Math.max(peak, hwmOf(p));
    }, 100);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({
        code,
        stdout,
        stderr,
        events,
        wallSeconds: (Date.now() - start) / 1000,
        peakRssBytes: peak,
      });
    });
  });
}

export function failure(r: MeasuredRun): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout.slice(-6000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

/** The `api-requests total=N ...` info event's N. */
export function apiRequests(r: MeasuredRun): number | undefined {
  const m = r.events
    .filter((e) => e.type === 'info')
    .map((e) => String(e.message))
    .find((m) => m.startsWith('api-requests'));
  const n = m ? /total=(\d+)/.exec(m)?.[1] : undefined;
  return n === undefined ? undefined : Number(n);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

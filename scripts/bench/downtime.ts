// The downtime scenario (`npm run bench -- --scenario downtime`, issue 13): how long the application
// is down during a move, without and with the warm pre-copy (--precopy), in the same run.
//
// Dataset row: a Deployment `app` (1 replica, a sleeper on the test image) on a claim `data` of class
// standard holding ~2 GB of mixed files: the `large` dataset at 0.6 (4 files of 307 MiB) and the
// `mixed` one (200 files of 1-4 MiB, 20,000 small files, hardlinks, sparse files, symlinks), written
// by datasets.ts into the claim's hostPath directory on the node. Before each move the application
// (kubectl exec in its pod) writes 1% of the data bytes: whole medium files rewritten in place, new
// files added (256 KiB and 4 KiB), small files deleted.
// - cold: the app writes, then `kubectl-pvmove data --to-class fast`;
// - precopy: `kubectl-pvmove data --to-class fast --precopy` with PVMOVE_TEST_KILL_AFTER=warm-copy
//   (the CLI kills itself once the warm pass is journaled), the app writes, then
//   `kubectl-pvmove resume data`: scale-down, final pass, swap, scale-up.
// Downtime is the result event's downtimeMs (scale-down start to the owners ready again); without
// it, the first scale-down `started` event to the last scale-up `done`. Warm pass: the warm-copy
// step's durationMs; final pass: the copy step's. Page caches are dropped before every CLI run.
// Seed row: the seed StatefulSet's claim moved with --to-class fast --size 2Gi, without and with
// --precopy (no kill). Each row in a namespace of its own, deleted with its PVs and directories.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import {
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  journalOf,
  type Cluster,
} from '../../test/helpers/cluster.js';
import { hostPathOf } from '../../test/helpers/volumes.js';
import {
  createClaim,
  createDeployment,
  waitForClaimBound,
  waitForReadyReplicas,
} from '../../test/helpers/workloads.js';
import { failure, median, runMeasured, type MeasuredRun } from './cli.js';
import { generate } from './datasets.js';
import { backingDir, removeBacking, type DiskProfile, type SlowMounts } from './disks.js';
import { dropCaches, loadAverage, measure } from './node.js';
import { createSeedDatabase } from './seed.js';

const MB = 1e6;
/** Targets of issue 13. */
const PRECOPY_RATIO_MAX = 0.1;
const SEED_DOWNTIME_MAX_S = 6; // half of the seed move's 12 s of orchestration

export interface DowntimeOptions {
  runs: number;
  /** Dataset size factor (1: ~2 GB). */
  scale: number;
  /**
   * The disks the dataset rows run on (disks.ts): `local`, or the claim's directory served by
   * slowfs (the app, the copy pods and the node all read it through the mount). The seed rows run
   * on the local disk only.
   */
  disks: DiskProfile[];
  mounts: SlowMounts;
}

export type RowName = 'cold' | 'precopy' | 'seed-cold' | 'seed-precopy';

export interface MoveFigures {
  row: RowName;
  /** The disk profile of a dataset row (the seed rows: local). */
  disk: string;
  /** result.downtimeMs, else the scale-down/scale-up events (downtimeFrom says which). */
  downtimeSeconds: number;
  downtimeFrom: 'result.downtimeMs' | 'step events';
  /** The warm-copy step's durationMs (precopy rows). */
  warmPassSeconds?: number;
  /** The copy step's durationMs: the whole copy (cold) or the final pass (precopy). */
  copySeconds?: number;
  /** result.durationMs of the run that finished the move (the resume for the precopy row). */
  moveSeconds: number;
  /** Wall clock of the CLI process(es): the killed run and the resume together for the precopy row. */
  wallSeconds: number;
  /** Bytes the application wrote (dataset rows). */
  writtenBytes?: number;
  steps: Record<string, number>;
  /** The copy pods' figure lines (walk_ms, copy_ms, tar_ms, level): the warm pass's, the final one's. */
  engine: string[];
  load: { start: number; end: number };
}

export interface RowMedians {
  row: RowName;
  disk: string;
  downtimeSeconds: number;
  warmPassSeconds?: number;
  copySeconds?: number;
}

export interface DowntimeReport {
  dataset: { description: string; dataBytes: number; entries: number; files: number; writeBytes: number };
  runs: MoveFigures[][];
  medians: RowMedians[];
  /** Pre-copy / cold downtime, per disk profile. */
  ratios: Record<string, number>;
  targets: {
    precopyRatioMax: number;
    /** Per disk profile. */
    precopyRatioMet: Record<string, boolean>;
    seedDowntimeMaxSeconds: number;
    seedColdMet: boolean;
    seedPrecopyMet: boolean;
  };
}

const at = (e: Record<string, unknown>): number => Date.parse(String(e.time));

const engineLines = (...rs: MeasuredRun[]): string[] =>
  rs.flatMap((r) =>
    r.events
      .filter(
        (e) =>
          e.type !== 'progress' &&
          // the engine's verdicts, and the final pass's read-ahead before the stop
          (/copy_ms=\d+/.test(String(e.message ?? '')) || (e.type === 'info' && e.step === 'scale-down')),
      )
      .map((e) => `${String(e.step)}: ${String(e.message)}`),
  );

function stepSeconds(r: MeasuredRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of r.events)
    if (e.type === 'step' && e.status === 'done' && typeof e.durationMs === 'number')
      out[String(e.step)] = e.durationMs / 1000;
  return out;
}

/** What the CLI said when it did not finish: its error event's message, else its output. */
function cliError(label: string, r: MeasuredRun): Error {
  const err = r.events.find((e) => e.type === 'error' || (e.type === 'result' && e.status !== 'done'));
  const said = err ? `${String(err.message)} (exit ${r.code})` : '';
  return new Error(`${label}: kubectl pvmove failed${said ? `: ${said}` : ''}\n${failure(r)}`);
}

function finished(label: string, r: MeasuredRun): Record<string, unknown> {
  const result = r.events.find((e) => e.type === 'result');
  if (r.code !== 0 || result?.status !== 'done') throw cliError(label, r);
  return result;
}

function downtimeOf(
  r: MeasuredRun,
  result: Record<string, unknown>,
): Pick<MoveFigures, 'downtimeSeconds' | 'downtimeFrom'> {
  if (typeof result.downtimeMs === 'number')
    return { downtimeSeconds: result.downtimeMs / 1000, downtimeFrom: 'result.downtimeMs' };
  const steps = r.events.filter((e) => e.type === 'step');
  const down = steps.filter((e) => e.step === 'scale-down' && e.status === 'started').map(at);
  const up = steps.filter((e) => e.step === 'scale-up' && e.status === 'done').map(at);
  return {
    downtimeSeconds: down.length && up.length ? (Math.max(...up) - Math.min(...down)) / 1000 : NaN,
    downtimeFrom: 'step events',
  };
}

/** The hostPath directories of the namespace's PVs (retained sources included), to remove after. */
async function dirsOf(c: Cluster, ns: string): Promise<string[]> {
  return (await c.core.listPersistentVolume()).items
    .filter((pv) => pv.spec?.claimRef?.namespace === ns && pv.spec.hostPath?.path)
    .map((pv) => pv.spec!.hostPath!.path);
}

async function inNamespace<T>(
  c: Cluster,
  prefix: string,
  work: (ns: string) => Promise<T>,
  mounts?: SlowMounts,
): Promise<T> {
  const ns = await createNamespace(c, prefix);
  try {
    return await work(ns);
  } finally {
    const dirs = await dirsOf(c, ns);
    // The namespace's pods first (nothing then uses a slowfs mount), then the mounts, then the PVs.
    await deleteNamespace(c, ns);
    for (const d of dirs) mounts?.unmount(d);
    removeBacking(ns);
    await deleteVolumesOf(c, ns);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** The dataset in the claim's directory (the app already runs on it: class standard binds on first use). */
function fillDataset(dir: string, scale: number): { description: string; files: number } {
  mkdirSync(path.join(dir, 'large'));
  mkdirSync(path.join(dir, 'mixed'));
  const large = generate('large', path.join(dir, 'large'), 0.6 * scale);
  const mixed = generate('mixed', path.join(dir, 'mixed'), scale);
  return {
    description: `large/: ${large.description}; mixed/: ${mixed.description}`,
    files: large.files + mixed.files,
  };
}

/**
 * What the application writes, run in its pod: half of `bytes` rewritten in place over medium files
 * (every 7th of mixed/media, from their start; the last one partly), ~40% as new 256 KiB files, the rest as new 4 KiB files; and as many
 * small files of the tree deleted as 4 KiB files were added. Prints the bytes written.
 */
const WRITE_SCRIPT = `
set -euo pipefail
cd /data/mixed
rewrite=$((BYTES / 2)); add=$((BYTES * 2 / 5)); small=$((BYTES - rewrite - add))
written=0; i=0
while [ "$written" -lt "$rewrite" ] && [ -f media/m$i.bin ]; do
  s=$(stat -c %s media/m$i.bin); left=$((rewrite - written)); [ "$s" -le "$left" ] || s=$left
  head -c "$s" /dev/urandom | dd of=media/m$i.bin conv=notrunc status=none
  written=$((written + s)); i=$((i + 7))
done
mkdir -p added-$TAG
for j in $(seq 1 $((add / 262144))); do head -c 262144 /dev/urandom > added-$TAG/a$j.bin; written=$((written + 262144)); done
n=$((small / 4096))
for j in $(seq 1 $n); do head -c 4096 /dev/urandom > added-$TAG/s$j.dat; written=$((written + 4096)); done
# awk, not head: head leaves early and sort's next write gets SIGPIPE (exit 141 under pipefail).
find tree -type f -name 'f3.dat' | sort | awk -v n="$n" 'NR <= n' | xargs -r rm -f
sync
echo "$written"
`;

function appWrites(ns: string, bytes: number, tag: string): number {
  const out = execFileSync(
    'kubectl',
    ['exec', '-n', ns, 'deploy/app', '--', 'env', `BYTES=${bytes}`, `TAG=${tag}`, 'bash', '-c', WRITE_SCRIPT],
    { encoding: 'utf8', timeout: 600_000 },
  );
  return Number(out.trim().split('\n').pop());
}

interface Prepared {
  description: string;
  dataBytes: number;
  entries: number;
  files: number;
}

/**
 * A namespace with `app` on claim `data` (standard) holding the dataset; the app ready. On a slow
 * disk the dataset is written into a backing directory and slowfs serves it on the claim's own
 * directory; the app is stopped while the mount is made, so its container sees the mount.
 */
async function prepareApp(
  c: Cluster,
  ns: string,
  o: DowntimeOptions,
  disk: DiskProfile,
  log: (s: string) => void,
): Promise<Prepared> {
  await createClaim(c, ns, 'data', { storageClassName: 'standard', size: '10Gi' });
  await createDeployment(c, ns, 'app', 'data');
  await waitForReadyReplicas(c, ns, 'app', 1);
  const pv = (await waitForClaimBound(c, ns, 'data')).spec!.volumeName!;
  const dir = await hostPathOf(c, pv);
  const data = disk.slow ? backingDir(ns, 'data') : dir;
  if (disk.slow) await scaleApp(c, ns, 0);
  const started = Date.now();
  const filled = fillDataset(data, o.scale);
  const m = measure(data);
  if (disk.slow) {
    await o.mounts.mount(disk, data, dir);
    await scaleApp(c, ns, 1);
  }
  log(
    `${ns}: dataset written in ${((Date.now() - started) / 1000).toFixed(0)}s: ${(m.dataBytes / MB).toFixed(0)} MB, ${m.entries} entries, disk ${disk.name} (load ${loadAverage()})`,
  );
  return { description: filled.description, dataBytes: m.dataBytes, entries: m.entries, files: filled.files };
}

async function scaleApp(c: Cluster, ns: string, replicas: number): Promise<void> {
  await c.apps.patchNamespacedDeploymentScale(
    { namespace: ns, name: 'app', body: { spec: { replicas } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  if (replicas > 0) await waitForReadyReplicas(c, ns, 'app', replicas);
  else
    for (let i = 0; ; i++) {
      const pods = await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=app' });
      if (pods.items.length === 0) break;
      if (i > 600) throw new Error(`${ns}: the app's pod did not go`);
      await new Promise((r) => setTimeout(r, 100));
    }
}

const MOVE = (claim: string, ns: string, extra: string[] = []) => [
  claim,
  '--to-class',
  'fast',
  '-n',
  ns,
  ...extra,
];

/** Where each move's event stream is kept (-o json, timestamped): the downtime's timeline, step by step. */
const EVENTS_DIR = path.join(path.resolve(import.meta.dirname, '../..'), '.bench/downtime-events');

function keepEvents(name: string, r: MeasuredRun): void {
  mkdirSync(EVENTS_DIR, { recursive: true });
  writeFileSync(path.join(EVENTS_DIR, `${name}.ndjson`), r.stdout);
}

async function coldRow(
  c: Cluster,
  o: DowntimeOptions,
  disk: DiskProfile,
  log: (s: string) => void,
): Promise<{ fig: MoveFigures; data: Prepared }> {
  return inNamespace(
    c,
    'bench-downtime-cold',
    async (ns) => {
      const data = await prepareApp(c, ns, o, disk, log);
      const writtenBytes = appWrites(ns, Math.round(data.dataBytes / 100), 'cold');
      dropCaches();
      const load = loadAverage();
      const r = await runMeasured(MOVE('data', ns));
      keepEvents(`cold-${disk.name}`, r);
      const result = finished('cold move', r);
      const steps = stepSeconds(r);
      const fig: MoveFigures = {
        row: 'cold',
        disk: disk.name,
        ...downtimeOf(r, result),
        ...(steps.copy !== undefined ? { copySeconds: steps.copy } : {}),
        moveSeconds: Number(result.durationMs) / 1000,
        wallSeconds: r.wallSeconds,
        writtenBytes,
        steps,
        engine: engineLines(r),
        load: { start: load, end: loadAverage() },
      };
      log(
        `cold (${disk.name}): app wrote ${(writtenBytes / MB).toFixed(1)} MB; downtime ${fig.downtimeSeconds.toFixed(1)}s (${fig.downtimeFrom}), copy step ${fig.copySeconds?.toFixed(1)}s, move ${fig.moveSeconds.toFixed(1)}s (load ${fig.load.start} -> ${fig.load.end})`,
      );
      for (const l of fig.engine) log(`  ${l}`);
      return { fig, data };
    },
    o.mounts,
  );
}

async function precopyRow(
  c: Cluster,
  o: DowntimeOptions,
  disk: DiskProfile,
  log: (s: string) => void,
): Promise<MoveFigures> {
  return inNamespace(
    c,
    'bench-downtime-precopy',
    async (ns) => {
      const data = await prepareApp(c, ns, o, disk, log);
      dropCaches();
      const load = loadAverage();
      const warm = await runMeasured(MOVE('data', ns, ['--precopy']), 3_600_000, {
        PVMOVE_TEST_KILL_AFTER: 'warm-copy',
      });
      if (warm.events.some((e) => e.type === 'result' && e.status === 'done'))
        throw new Error(
          `precopy move: the CLI finished instead of killing itself after warm-copy: PVMOVE_TEST_KILL_AFTER is not honoured (a bundle without the test hooks?)\n${failure(warm)}`,
        );
      if (warm.code !== null) throw cliError('precopy move (until warm-copy)', warm);
      // The hook kills the CLI once the step is journaled done, before its `done` event: the step's
      // duration is the journal's (startedAt to finishedAt), as the done event would have said.
      const record = (await journalOf(c, ns, 'data'))?.steps['warm-copy'];
      if (record?.status !== 'done' || !record.startedAt || !record.finishedAt)
        throw new Error(
          `precopy move: killed, but warm-copy is not journaled done (${JSON.stringify(record)})\n${failure(warm)}`,
        );
      const warmPassSeconds = (Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000;
      log(
        `precopy: warm pass ${warmPassSeconds.toFixed(1)}s, CLI killed after warm-copy (load ${loadAverage()})`,
      );
      const writtenBytes = appWrites(ns, Math.round(data.dataBytes / 100), 'precopy');
      dropCaches();
      const r = await runMeasured(['resume', 'data', '-n', ns]);
      keepEvents(`precopy-${disk.name}`, r);
      const result = finished('resume after the warm pass', r);
      // The resume's own steps; warm-copy is the killed run's (the resume finds it done).
      const steps = { ...stepSeconds(warm), ...stepSeconds(r), 'warm-copy': warmPassSeconds };
      const final = stepSeconds(r).copy;
      const fig: MoveFigures = {
        row: 'precopy',
        disk: disk.name,
        ...downtimeOf(r, result),
        warmPassSeconds,
        ...(final !== undefined ? { copySeconds: final } : {}),
        moveSeconds: Number(result.durationMs) / 1000,
        wallSeconds: warm.wallSeconds + r.wallSeconds,
        writtenBytes,
        steps,
        engine: engineLines(warm, r),
        load: { start: load, end: loadAverage() },
      };
      log(
        `precopy (${disk.name}): app wrote ${(writtenBytes / MB).toFixed(1)} MB; downtime ${fig.downtimeSeconds.toFixed(1)}s (${fig.downtimeFrom}), final pass ${fig.copySeconds?.toFixed(1)}s, resume ${fig.moveSeconds.toFixed(1)}s (load ${fig.load.start} -> ${fig.load.end})`,
      );
      for (const l of fig.engine) log(`  ${l}`);
      return fig;
    },
    o.mounts,
  );
}

async function seedRow(c: Cluster, precopy: boolean, log: (s: string) => void): Promise<MoveFigures> {
  const row: RowName = precopy ? 'seed-precopy' : 'seed-cold';
  return inNamespace(c, `bench-downtime-${row}`, async (ns) => {
    await createSeedDatabase(c, ns);
    await waitForClaimBound(c, ns, 'postgres-db-0');
    await waitForReadyReplicas(c, ns, 'db', 1, 'statefulset');
    dropCaches();
    const load = loadAverage();
    const r = await runMeasured(
      MOVE('postgres-db-0', ns, ['--size', '2Gi', ...(precopy ? ['--precopy'] : [])]),
    );
    const result = finished(`seed move${precopy ? ' --precopy' : ''}`, r);
    const steps = stepSeconds(r);
    const fig: MoveFigures = {
      row,
      disk: 'local',
      ...downtimeOf(r, result),
      ...(steps['warm-copy'] !== undefined ? { warmPassSeconds: steps['warm-copy'] } : {}),
      ...(steps.copy !== undefined ? { copySeconds: steps.copy } : {}),
      moveSeconds: Number(result.durationMs) / 1000,
      wallSeconds: r.wallSeconds,
      steps,
      engine: engineLines(r),
      load: { start: load, end: loadAverage() },
    };
    log(
      `${row}: downtime ${fig.downtimeSeconds.toFixed(1)}s (${fig.downtimeFrom}), move ${fig.moveSeconds.toFixed(1)}s (load ${fig.load.start} -> ${fig.load.end})`,
    );
    for (const l of fig.engine) log(`  ${l}`);
    return fig;
  });
}

export async function benchDowntime(
  c: Cluster,
  o: DowntimeOptions,
  log: (s: string) => void,
): Promise<DowntimeReport> {
  const runs: MoveFigures[][] = [];
  let dataset: DowntimeReport['dataset'] | undefined;
  for (let i = 1; i <= o.runs; i++) {
    log(`downtime run ${i} of ${o.runs}`);
    const run: MoveFigures[] = [];
    for (const disk of o.disks) {
      // Cold first: everything up to the first --precopy runs on a CLI without the flag too.
      const cold = await coldRow(c, o, disk, log);
      dataset ??= { ...cold.data, writeBytes: cold.fig.writtenBytes ?? 0 };
      run.push(cold.fig, await precopyRow(c, o, disk, log));
    }
    run.push(await seedRow(c, false, log), await seedRow(c, true, log));
    runs.push(run);
  }
  const keys = [...new Set(runs[0]!.map((f) => `${f.row}@${f.disk}`))];
  const medians: RowMedians[] = keys.map((key) => {
    const xs = runs.map((r) => r.find((f) => `${f.row}@${f.disk}` === key)!);
    const med = (f: (x: MoveFigures) => number | undefined): number | undefined => {
      const ys = xs.map(f).filter((y): y is number => y !== undefined);
      return ys.length ? median(ys) : undefined;
    };
    const warm = med((x) => x.warmPassSeconds);
    const copy = med((x) => x.copySeconds);
    return {
      row: xs[0]!.row,
      disk: xs[0]!.disk,
      downtimeSeconds: med((x) => x.downtimeSeconds)!,
      ...(warm !== undefined ? { warmPassSeconds: warm } : {}),
      ...(copy !== undefined ? { copySeconds: copy } : {}),
    };
  });
  const of = (row: RowName, disk = 'local') => medians.find((m) => m.row === row && m.disk === disk)!;
  const ratios = Object.fromEntries(
    o.disks.map((d) => [d.name, of('precopy', d.name).downtimeSeconds / of('cold', d.name).downtimeSeconds]),
  );
  return {
    dataset: dataset!,
    runs,
    medians,
    ratios,
    targets: {
      precopyRatioMax: PRECOPY_RATIO_MAX,
      precopyRatioMet: Object.fromEntries(
        Object.entries(ratios).map(([d, r]) => [d, r <= PRECOPY_RATIO_MAX]),
      ),
      seedDowntimeMaxSeconds: SEED_DOWNTIME_MAX_S,
      seedColdMet: of('seed-cold').downtimeSeconds <= SEED_DOWNTIME_MAX_S,
      seedPrecopyMet: of('seed-precopy').downtimeSeconds <= SEED_DOWNTIME_MAX_S,
    },
  };
}

const LABELS: Record<RowName, string> = {
  cold: 'dataset, cold move',
  precopy: 'dataset, --precopy (killed after warm-copy, app writes, resume)',
  'seed-cold': 'seed, cold move',
  'seed-precopy': 'seed, --precopy',
};

export function downtimeTable(r: DowntimeReport): string {
  const s = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
  const line = (m: RowMedians) => {
    const xs = r.runs.map((run) => run.find((f) => f.row === m.row && f.disk === m.disk)!);
    const runs = xs.length > 1 ? ` (${xs.map((x) => s(x.downtimeSeconds)).join(', ')})` : '';
    const written = xs[0]?.writtenBytes !== undefined ? (xs[0].writtenBytes / MB).toFixed(1) : '-';
    return `| ${LABELS[m.row]} | ${m.disk} | **${s(m.downtimeSeconds)}**${runs} | ${s(m.warmPassSeconds)} | ${s(m.copySeconds)} | ${s(median(xs.map((x) => x.moveSeconds)))} | ${s(median(xs.map((x) => x.wallSeconds)))} | ${written} |`;
  };
  const t = r.targets;
  const met = (b: boolean) => (b ? 'met' : 'NOT met');
  const from = [...new Set(r.runs.flat().map((x) => x.downtimeFrom))].join(', ');
  const seed = (row: RowName) => r.medians.find((m) => m.row === row)!.downtimeSeconds;
  return [
    `dataset: ${(r.dataset.dataBytes / MB).toFixed(0)} MB, ${r.dataset.entries} entries (${r.dataset.description}); the app writes ${(r.dataset.writeBytes / MB).toFixed(1)} MB (1%) before the stop`,
    '',
    '| move | disk | downtime s | warm pass s | copy step s (final pass) | move s (result) | CLI wall s | app wrote MB |',
    '|:--|:--|--:|--:|--:|--:|--:|--:|',
    ...r.medians.map(line),
    '',
    `downtime from ${from}; medians of ${r.runs.length} run(s)`,
    ...Object.entries(r.ratios).map(
      ([disk, ratio]) =>
        `precopy / cold downtime on ${disk}: ${ratio.toFixed(3)} (target <= ${t.precopyRatioMax}: ${met(t.precopyRatioMet[disk]!)})`,
    ),
    `seed downtime: cold ${s(seed('seed-cold'))} s (target <= ${t.seedDowntimeMaxSeconds} s: ${met(t.seedColdMet)}), --precopy ${s(seed('seed-precopy'))} s (${met(t.seedPrecopyMet)})`,
  ].join('\n');
}

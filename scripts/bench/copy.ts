// `npm run bench`: the copy engine against the node's own tools, on the test bed, side by side.
//
// For each dataset (large files, many small files, a mixed tree with hardlinks and sparse files),
// the data is written into a real claim's hostPath PV directory on this machine (the node). Then,
// for each run: the node's own `tar -c | tar -x` (the limit), `cp -a` and `rsync -aHAXS` copy it
// into a second claim's directory on the same filesystem, and `kubectl pvmove` moves a third claim
// holding the same data (class fast to standard, same filesystem). Page caches are dropped before every contender. The seed scenario (a StatefulSet's
// 1Gi claim moved to class fast at 2Gi) gives the plugin's own overhead per step and its API
// requests. Figures are medians over the runs; a table goes to stdout, everything to .bench/copy.json.
//
//   npm run bench -- [--quick | --scale 0.1] [--runs 3] [--datasets large,small,mixed] [--no-seed]
//
// Other scenarios (--scenario): `batch` (a StatefulSet of --claims replicas moved in one run, a
// single move as baseline, then --parallel-values on --parallel-claims claims; batch.ts) and `block`
// (the Block engine against dd on the node between the same two devices, --runs runs; block.ts).
// and `downtime` (a ~2 GB claim of a running app moved cold and with --precopy, the app writing 1%
// of the data before the stop, and the seed move with and without --precopy; downtime.ts).
// Their JSON goes to .bench/<scenario>.json.
//
//   npm run bench -- --scenario batch [--claims 50] [--parallel-claims 10] [--parallel-values 2,4,8]
//   npm run bench -- --scenario block [--runs 3]
//   npm run bench -- --scenario downtime [--runs 1] [--scale 1 | --quick]
// They run the CLI from the release's bundle (--from-source: through tsx, as the e2e tests do);
// downtime's bundle keeps the test hooks (PVMOVE_TEST_KILL_AFTER), which the release leaves out.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  type Cluster,
} from '../../test/helpers/cluster.js';
import { runCli, explain, type CliResult } from '../../test/helpers/cli.js';
import { hostPathOf } from '../../test/helpers/volumes.js';
import { createClaim, waitForClaimBound } from '../../test/helpers/workloads.js';
import { DATASETS, generate, type DatasetName, type DatasetSummary } from './datasets.js';
import {
  dropCaches,
  emptyDir,
  freeBytes,
  loadAverage,
  measure,
  NODE_CONTENDERS,
  timed,
  totalsBytes,
  type NodeContender,
} from './node.js';
import { createSeedDatabase } from './seed.js';

const root = path.resolve(import.meta.dirname, '../..');
const GiB = 1024 ** 3;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    runs: { type: 'string' },
    datasets: { type: 'string', default: DATASETS.join(',') },
    seed: { type: 'boolean', default: true },
    'no-seed': { type: 'boolean', default: false },
    out: { type: 'string' },
    scenario: { type: 'string', default: 'copy' },
    claims: { type: 'string', default: '50' },
    parallel: { type: 'string' },
    'parallel-claims': { type: 'string', default: '10' },
    'parallel-values': { type: 'string', default: '2,4,8' },
    'from-source': { type: 'boolean', default: false },
  },
});
const scenario = flags.scenario!;
if (!['copy', 'batch', 'block', 'downtime'].includes(scenario))
  throw new Error(`unknown scenario ${scenario}: copy (default), batch, block or downtime`);
const outFile = flags.out ?? path.join(root, `.bench/${scenario}.json`);
const scale = flags.scale ? Number(flags.scale) : flags.quick ? 0.02 : 1;
const runs = Math.max(1, Number(flags.runs ?? (scenario === 'downtime' ? 1 : 3)));
const datasets = (flags.datasets ?? '').split(',').filter(Boolean) as DatasetName[];
const withSeed = flags.seed && !flags['no-seed'];
for (const d of datasets) if (!DATASETS.includes(d)) throw new Error(`unknown dataset ${d}`);
if (!(scale > 0)) throw new Error('--scale must be a positive number');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface PvmoveRun {
  wallSeconds: number;
  /** result.durationMs: the migration from its first step to its last. */
  totalSeconds: number;
  steps: Record<string, number>;
  /** Steps 5-7 (target claim + copy pod, target PV bound, copy + verify): from pod creation to verified. */
  copyPhaseSeconds: number;
  /** Inside the copy pod: the measuring walk, then readahead + tar pipe + sync (`walk_ms` + `copy_ms`). */
  engineSeconds?: number;
  /** Readahead batches done / planned, from the verdict line. */
  readahead?: string;
  apiRequests?: number;
  apiRequestDetail?: string;
  lastProgress?: Record<string, unknown>;
}

const COPY_PHASE = ['create-target', 'retain-target-pv', 'copy'];

function pvmoveFigures(r: CliResult, wallSeconds: number): PvmoveRun {
  const result = r.events.find((e) => e.type === 'result');
  if (r.code !== 0 || result?.status !== 'done') throw new Error(`kubectl pvmove failed\n${explain(r)}`);
  const steps: Record<string, number> = {};
  for (const e of r.events) {
    if (e.type === 'step' && e.status === 'done' && typeof e.durationMs === 'number')
      steps[String(e.step)] = e.durationMs / 1000;
  }
  const info = r.events.filter((e) => e.type === 'info').map((e) => String(e.message));
  const verdict = info.find((m) => /copy_ms=\d+/.test(m)) ?? '';
  const ms = (key: string): number | undefined => {
    const v = new RegExp(`${key}=(\\d+)`).exec(verdict)?.[1];
    return v === undefined ? undefined : Number(v);
  };
  const copyMs = ms('copy_ms');
  const walkMs = ms('walk_ms') ?? 0;
  const api = info.find((m) => m.startsWith('api-requests'));
  const progress = r.events.filter((e) => e.type === 'progress');
  return {
    wallSeconds,
    totalSeconds: Number(result.durationMs) / 1000,
    steps,
    copyPhaseSeconds: COPY_PHASE.reduce((a, s) => a + (steps[s] ?? 0), 0),
    ...(copyMs !== undefined
      ? { engineSeconds: (walkMs + copyMs) / 1000, readahead: /readahead=(\S+)/.exec(verdict)?.[1] }
      : {}),
    ...(api
      ? {
          apiRequests: Number(/total=(\d+)/.exec(api)?.[1]),
          apiRequestDetail: api.replace(/^api-requests /, ''),
        }
      : {}),
    ...(progress.length > 0 ? { lastProgress: progress[progress.length - 1] } : {}),
  };
}

async function pvmove(args: string[]): Promise<PvmoveRun> {
  const start = Date.now();
  const r = await runCli([...args, '-o', 'json', '--yes'], {
    env: { PVMOVE_DEBUG_REQUESTS: '1' },
    timeoutMs: 3_600_000,
  });
  return pvmoveFigures(r, (Date.now() - start) / 1000);
}

async function boundDir(c: Cluster, ns: string, claim: string): Promise<{ pv: string; dir: string }> {
  const pvc = await waitForClaimBound(c, ns, claim);
  const pv = pvc.spec!.volumeName!;
  return { pv, dir: await hostPathOf(c, pv) };
}

interface DatasetResult {
  summary: DatasetSummary;
  measured: ReturnType<typeof measure>;
  /** tar's own count of the archive it wrote, against the copy pod's estimate (the progress bar's scale). */
  archiveBytesActual?: number;
  node: Record<NodeContender, number[]>;
  pvmove: PvmoveRun[];
}

async function benchDataset(c: Cluster, name: DatasetName, log: (s: string) => void): Promise<DatasetResult> {
  const ns = await createNamespace(c, `bench-${name}`);
  const dirs = new Set<string>();
  try {
    await createClaim(c, ns, 'data', { storageClassName: 'fast', size: '20Gi' });
    await createClaim(c, ns, 'sink', { storageClassName: 'fast', size: '20Gi' });
    const data = await boundDir(c, ns, 'data');
    const sink = await boundDir(c, ns, 'sink');
    dirs.add(data.dir).add(sink.dir);
    log(`${name}: generating into ${data.dir} (scale ${scale})`);
    const summary = generate(name, data.dir, scale);
    const measured = measure(data.dir);
    log(
      `${name}: ${summary.description}; ${(measured.dataBytes / 1e6).toFixed(0)} MB of data, ${measured.entries} entries`,
    );

    const node: Record<NodeContender, number[]> = { tar: [], cp: [], rsync: [] };
    const runsOut: PvmoveRun[] = [];
    const totals = path.join(root, '.bench', `tar-totals-${name}.txt`);
    let archiveBytesActual: number | undefined;
    for (let i = 0; i < runs; i++) {
      // pvmove moves a fresh claim holding an exact copy of the dataset (made by tar, not timed), so
      // the generated directory stays untouched for the node contenders and every run starts alike.
      // It is made first, so each contender, pvmove included, follows another one's 2 GB of writes
      // (before, only pvmove read data written seconds earlier).
      const claim = `move-${i + 1}`;
      await createClaim(c, ns, claim, { storageClassName: 'fast', size: '20Gi' });
      const source = await boundDir(c, ns, claim);
      dirs.add(source.dir);
      timed(NODE_CONTENDERS.tar, { SRC: data.dir, DST: source.dir, TOTALS: '/dev/null' });
      for (const contender of Object.keys(NODE_CONTENDERS) as NodeContender[]) {
        emptyDir(sink.dir);
        dropCaches();
        const s = timed(NODE_CONTENDERS[contender], { SRC: data.dir, DST: sink.dir, TOTALS: totals });
        node[contender].push(s);
        if (contender === 'tar') archiveBytesActual = totalsBytes(totals);
        log(`${name} run ${i + 1}: ${contender} ${s.toFixed(1)}s (load ${loadAverage()})`);
      }
      emptyDir(sink.dir);
      dropCaches();
      const r = await pvmove([claim, '--to-class', 'standard', '-n', ns]);
      runsOut.push(r);
      log(
        `${name} run ${i + 1}: pvmove copy phase ${r.copyPhaseSeconds.toFixed(1)}s, engine ${r.engineSeconds?.toFixed(1)}s (readahead ${r.readahead}), total ${r.totalSeconds.toFixed(1)}s, ${r.apiRequests} API requests (load ${loadAverage()})`,
      );
      const target = await boundDir(c, ns, claim);
      dirs.add(target.dir);
      // Free the disk before the next run: the claim (its new PV goes with it), the retained source PV.
      await c.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: ns });
      await c.core.deletePersistentVolume({ name: source.pv });
      rmSync(source.dir, { recursive: true, force: true });
    }
    return { summary, measured, archiveBytesActual, node, pvmove: runsOut };
  } finally {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function benchSeed(c: Cluster, log: (s: string) => void): Promise<PvmoveRun[]> {
  const out: PvmoveRun[] = [];
  for (let i = 0; i < runs; i++) {
    const ns = await createNamespace(c, 'bench-seed');
    const dirs: string[] = [];
    try {
      await createSeedDatabase(c, ns);
      dirs.push((await boundDir(c, ns, 'postgres-db-0')).dir);
      const r = await pvmove(['postgres-db-0', '--to-class', 'fast', '--size', '2Gi', '-n', ns]);
      dirs.push((await boundDir(c, ns, 'postgres-db-0')).dir);
      out.push(r);
      log(
        `seed run ${i + 1}: total ${r.totalSeconds.toFixed(1)}s, copy step ${(r.steps.copy ?? 0).toFixed(1)}s, ${r.apiRequests} API requests (load ${loadAverage()})`,
      );
    } finally {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }
  return out;
}

// --- report -------------------------------------------------------------------------------------

interface Row {
  dataset: string;
  contender: string;
  seconds: number;
  mbPerSecond: number;
  filesPerSecond: number;
  ratioToTar: number;
  ratioToRsync: number;
}

function rows(name: string, d: DatasetResult): Row[] {
  const base = median(d.node.tar);
  const rsync = median(d.node.rsync);
  const row = (contender: string, xs: number[]): Row => {
    const s = median(xs);
    return {
      dataset: name,
      contender,
      seconds: s,
      mbPerSecond: d.measured.dataBytes / 1e6 / s,
      filesPerSecond: d.summary.files / s,
      ratioToTar: base / s,
      ratioToRsync: rsync / s,
    };
  };
  const engine = d.pvmove.map((r) => r.engineSeconds).filter((x): x is number => x !== undefined);
  return [
    row('tar | tar (node, the limit)', d.node.tar),
    row('cp -a (node)', d.node.cp),
    row('rsync -aHAXS (node)', d.node.rsync),
    ...(engine.length > 0 ? [row('pvmove engine (walk, readahead + tar, sync; in pod)', engine)] : []),
    row(
      'pvmove copy phase (steps 5-7)',
      d.pvmove.map((r) => r.copyPhaseSeconds),
    ),
    row(
      'pvmove end to end',
      d.pvmove.map((r) => r.totalSeconds),
    ),
  ];
}

function table(all: Row[]): string {
  const head = ['dataset', 'contender', 'time s', 'MB/s', 'files/s', 'x tar', 'x rsync'];
  const body = all.map((r) => [
    r.dataset,
    r.contender,
    r.seconds.toFixed(1),
    r.mbPerSecond.toFixed(0),
    r.filesPerSecond.toFixed(0),
    r.ratioToTar.toFixed(2),
    r.ratioToRsync.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

function overhead(seed: PvmoveRun[]): string {
  const steps = Object.keys(seed[0]?.steps ?? {});
  const lines = steps.map((s) => `| ${s} | ${median(seed.map((r) => r.steps[s] ?? 0)).toFixed(2)} |`);
  const total = median(seed.map((r) => r.totalSeconds));
  const copy = median(seed.map((r) => r.steps.copy ?? 0));
  return [
    '| step | median s |',
    '|:--|--:|',
    ...lines,
    `| **total (result.durationMs)** | ${total.toFixed(2)} |`,
    `| **overhead = total - copy step** | ${median(seed.map((r) => r.totalSeconds - (r.steps.copy ?? 0))).toFixed(2)} |`,
    `| wall clock of the CLI process | ${median(seed.map((r) => r.wallSeconds)).toFixed(2)} |`,
    `| copy step | ${copy.toFixed(2)} |`,
    `| API requests per migration | ${median(seed.map((r) => r.apiRequests ?? 0))} (${seed.map((r) => r.apiRequests).join(', ')}) |`,
  ].join('\n');
}

async function otherScenario(c: Cluster, log: (s: string) => void, startLoad: number): Promise<void> {
  const os = await import('node:os');
  const head = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    scenario,
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cli: flags['from-source']
      ? 'source (tsx)'
      : scenario === 'downtime'
        ? 'release bundle (esbuild options of the binary) with the test hooks kept (PVMOVE_TEST_KILL_AFTER), run by node'
        : 'release bundle (esbuild options of the binary), run by node',
  };
  let text: string;
  let figures: object;
  const cli = flags['from-source']
    ? 'source (tsx)'
    : await (await import('./cli.js')).useBundle({ testHooks: scenario === 'downtime' });
  log(`CLI run from ${cli}`);
  if (scenario === 'batch') {
    const { benchBatch, batchTable } = await import('./batch.js');
    const r = await benchBatch(
      c,
      {
        claims: Math.max(1, Number(flags.claims)),
        parallelClaims: Math.max(0, Number(flags['parallel-claims'])),
        parallelValues: (flags['parallel-values'] ?? '').split(',').filter(Boolean).map(Number),
        ...(flags.parallel ? { parallel: Number(flags.parallel) } : {}),
      },
      log,
    );
    text = batchTable(r);
    figures = r;
  } else if (scenario === 'downtime') {
    const { benchDowntime, downtimeTable } = await import('./downtime.js');
    const r = await benchDowntime(c, { runs, scale }, log);
    text = downtimeTable(r);
    figures = r;
  } else {
    const { benchBlock, blockTable } = await import('./block.js');
    const r = await benchBlock(c, runs, log);
    text = blockTable(r);
    figures = r;
  }
  const loadAvg = { start: startLoad, end: loadAverage() };
  writeFileSync(outFile, `${JSON.stringify({ ...head, loadAverage: loadAvg, ...figures }, null, 2)}\n`);
  process.stdout.write(
    `\n${scenario} scenario (${os.availableParallelism()} cores; CLI: ${head.cli}, ${cli}):\n${text}\n\nload average ${loadAvg.start} -> ${loadAvg.end}; JSON: ${path.relative(root, outFile)}\n`,
  );
}

async function main(): Promise<void> {
  if (!process.env.KUBECONFIG)
    throw new Error('set KUBECONFIG to the test bed: KUBECONFIG=/var/lib/kubectl-pvmove-testbed/kubeconfig');
  mkdirSync(path.join(root, '.bench'), { recursive: true });
  const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  if (scenario !== 'copy') {
    log(`scenario ${scenario}; load ${loadAverage()}`);
    return otherScenario(connect(), log, loadAverage());
  }
  const free = freeBytes('/tmp');
  // The largest dataset is ~2.2 GB of disk at scale 1; at most four copies exist at once.
  const need = 4 * 2.3 * GiB * scale;
  if (free - need < 5 * GiB)
    throw new Error(
      `not enough room in /tmp: ${(free / GiB).toFixed(1)} GiB free, ~${(need / GiB).toFixed(1)} GiB needed`,
    );
  const canDrop = dropCaches();
  log(
    `scale ${scale}, ${runs} runs, datasets ${datasets.join(',')}; page cache drop ${canDrop ? 'works' : 'NOT permitted: caches are warm for all contenders alike'}; load ${loadAverage()}`,
  );

  const c = connect();
  const startLoad = loadAverage();
  const results: Record<string, DatasetResult> = {};
  for (const d of datasets) results[d] = await benchDataset(c, d, log);
  const seed = withSeed ? await benchSeed(c, log) : [];

  const all = Object.entries(results).flatMap(([n, d]) => rows(n, d));
  const progress = Object.entries(results).map(([n, d]) => ({
    dataset: n,
    estimatedArchiveBytes: d.measured.archiveBytes,
    actualArchiveBytes: d.archiveBytesActual,
    estimateToActual: d.archiveBytesActual ? d.measured.archiveBytes / d.archiveBytesActual : undefined,
    dataBytesOnNode: d.measured.dataBytes,
    lastProgress: d.pvmove.map((r) => r.lastProgress),
  }));
  const report = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    scale,
    runs,
    dropCaches: canDrop,
    loadAverage: { start: startLoad, end: loadAverage() },
    cpus: Number((await import('node:os')).availableParallelism()),
    datasets: Object.fromEntries(
      Object.entries(results).map(([n, d]) => [
        n,
        { summary: d.summary, measured: d.measured, node: d.node, pvmove: d.pvmove },
      ]),
    ),
    table: all,
    progress,
    seed,
  };
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${table(all)}\n\n`);
  for (const p of progress) {
    const last = p.lastProgress[p.lastProgress.length - 1] as
      { bytesDone?: number; bytesTotal?: number } | undefined;
    process.stdout.write(
      `progress ${p.dataset}: archive estimate/actual ${p.estimateToActual?.toFixed(3) ?? '?'}; last event ${last?.bytesDone ?? '?'} of ${last?.bytesTotal ?? '?'} bytes, data on node ${p.dataBytesOnNode}\n`,
    );
  }
  if (seed.length > 0) process.stdout.write(`\nseed scenario (${runs} runs, medians):\n${overhead(seed)}\n`);
  process.stdout.write(
    `\nload average ${report.loadAverage.start} -> ${report.loadAverage.end}; JSON: ${path.relative(root, outFile)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

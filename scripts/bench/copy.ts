// `npm run bench`: the copy engine against the node's own tools, on the test bed, side by side.
//
// For each dataset (large files, many small files, a mixed tree with hardlinks and sparse files),
// the data is written into a real claim's hostPath PV directory on this machine (the node). Then,
// for each run: the node's own `tar -c | tar -x` (the limit), `cp -a` and `rsync -aHAXS` copy it
// into a second claim's directory on the same filesystem, and `kubectl pvmove` moves a third claim
// holding the same data (class fast to standard, same filesystem). Page caches are dropped before
// every contender. The seed scenario (a StatefulSet's 1Gi claim moved to class fast at 2Gi) gives
// the plugin's own overhead per step and its API requests. Figures are medians over the runs with
// their spread (min-max); a table goes to stdout, everything to .bench/copy.json.
//
//   npm run bench -- [--quick | --scale 0.1] [--runs 3] [--datasets large,small,mixed] [--no-seed]
//                    [--disks local,net-1ms]
//
// Disk profiles (--disks, disks.ts; default local,net-1ms): every dataset is benched on each. `local`
// is the test bed's disk as it is. `net-<N>ms` reads the source through slowfs
// (scripts/testbed/slowfs, built once by its build.sh into ~/.cache/kubectl-pvmove/slowfs-<hash>/):
// a FUSE passthrough that waits N ms before answering each read request (a page-cache miss, up to
// 128 KiB), requests served concurrently, as a block network volume's latency; `nfs-<N>ms` also
// waits N ms before each open and each uncached lookup, as a network filesystem. The dataset is written into a
// backing directory under /tmp/pvmove-bench-slowfs/ and slowfs mounts it on the source claim's own
// hostPath PV directory, so the copy pod and the node tools read through the same mount; targets
// stay on the local disk. Each dataset runs at its profile's scale (local 1; net-<N>ms large 0.5/N,
// small 0.05/N, mixed 0.1/N: a 1 ms disk gets 1 GiB, 10,000 small files, 2,000 + 20 medium + 2
// sparse; nfs-<N>ms half the small and mixed), times --scale (--quick: 0.02); the table prints it. Every contender is
// compared with the best node tool of its dataset and disk (the faster of tar | tar and cp -a by
// their medians: "x best node"). Mounts are released by path and slowfs stopped by its pid file's
// pid, also when the bench fails; each unmount logs what slowfs served (reads, opens, lookups).
// kubectl pvmove runs from this checkout's source (tsx) unless PVMOVE_BIN names another executable.
// To bench the engine alone on a 1 ms disk (the shared lock: others bench on this machine too):
//
//   flock /tmp/pvmove-bench.lock npm run bench -- --disks net-1ms --datasets small --runs 1 --no-seed
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
//   npm run bench -- --scenario downtime [--runs 1] [--scale 1 | --quick] [--disks local,net-1ms]
// They run the CLI from the release's bundle (--from-source: through tsx, as the e2e tests do);
// downtime's bundle keeps the test hooks (PVMOVE_TEST_KILL_AFTER), which the release leaves out.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
  sh,
  measure,
  NODE_CONTENDERS,
  timed,
  totalsBytes,
  type NodeContender,
} from './node.js';
import { createSeedDatabase } from './seed.js';
import { backingDir, parseDisk, removeBacking, SlowMounts, slowfsBinary, type DiskProfile } from './disks.js';

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
    disks: { type: 'string', default: 'local,net-1ms' },
  },
});
const scenario = flags.scenario!;
if (!['copy', 'batch', 'block', 'downtime'].includes(scenario))
  throw new Error(`unknown scenario ${scenario}: copy (default), batch, block or downtime`);
const outFile = flags.out ?? path.join(root, `.bench/${scenario}.json`);
/** The copy scenario: a factor on each disk profile's own scale; the others: the scale itself. */
const scale = flags.scale ? Number(flags.scale) : flags.quick ? 0.02 : 1;
const disks = (flags.disks ?? '').split(',').filter(Boolean).map(parseDisk);
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
  /** The engine's figures from its verdict line (walk_ms ... level=N: what the controller chose, cp's share). */
  engineFigures?: string;
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
      ? {
          engineSeconds: (walkMs + copyMs) / 1000,
          readahead: /readahead=(\S+)/.exec(verdict)?.[1],
          engineFigures: /walk_ms=.*$/.exec(verdict)?.[0],
        }
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
  disk: DiskProfile;
  /** The dataset's scale on this disk: the profile's own times --scale. */
  scale: number;
  summary: DatasetSummary;
  measured: ReturnType<typeof measure>;
  /** tar's own count of the archive it wrote, against the copy pod's estimate (the progress bar's scale). */
  archiveBytesActual?: number;
  node: Record<NodeContender, number[]>;
  pvmove: PvmoveRun[];
  /** Load average (1 min) before each contender. */
  loads: number[];
}

async function benchDataset(
  c: Cluster,
  name: DatasetName,
  disk: DiskProfile,
  mounts: SlowMounts,
  log: (s: string) => void,
): Promise<DatasetResult> {
  const dscale = Number((disk.scales[name] * scale).toPrecision(3));
  const ns = await createNamespace(c, `bench-${name}-${disk.name.replace(/[^a-z0-9-]/g, '-')}`);
  const dirs = new Set<string>();
  const tag = `${name}@${disk.name}`;
  try {
    await createClaim(c, ns, 'data', { storageClassName: 'fast', size: '20Gi' });
    await createClaim(c, ns, 'sink', { storageClassName: 'fast', size: '20Gi' });
    const data = await boundDir(c, ns, 'data');
    const sink = await boundDir(c, ns, 'sink');
    dirs.add(data.dir).add(sink.dir);
    // On a slow disk the dataset lives in a backing directory, served on the claim's own directory.
    const dataBacking = disk.slow ? backingDir(ns, 'data') : data.dir;
    log(`${tag}: generating into ${dataBacking} (scale ${dscale})`);
    const summary = generate(name, dataBacking, dscale);
    const measured = measure(dataBacking);
    if (disk.slow) await mounts.mount(disk, dataBacking, data.dir);
    log(
      `${tag}: ${summary.description}; ${(measured.dataBytes / 1e6).toFixed(0)} MB of data, ${measured.entries} entries${disk.slow ? `; read through ${disk.description}` : ''}`,
    );

    const node: Record<NodeContender, number[]> = { tar: [], cp: [], rsync: [] };
    const runsOut: PvmoveRun[] = [];
    const loads: number[] = [];
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
      const sourceBacking = disk.slow ? backingDir(ns, claim) : source.dir;
      timed(NODE_CONTENDERS.tar, { SRC: dataBacking, DST: sourceBacking, TOTALS: '/dev/null' });
      if (disk.slow) await mounts.mount(disk, sourceBacking, source.dir);
      for (const contender of Object.keys(NODE_CONTENDERS) as NodeContender[]) {
        emptyDir(sink.dir);
        dropCaches();
        loads.push(loadAverage());
        const s = timed(NODE_CONTENDERS[contender], { SRC: data.dir, DST: sink.dir, TOTALS: totals });
        node[contender].push(s);
        if (contender === 'tar') archiveBytesActual = totalsBytes(totals);
        log(`${tag} run ${i + 1}: ${contender} ${s.toFixed(1)}s (load ${loadAverage()})`);
      }
      emptyDir(sink.dir);
      dropCaches();
      loads.push(loadAverage());
      const r = await pvmove([claim, '--to-class', 'standard', '-n', ns]);
      runsOut.push(r);
      log(
        `${tag} run ${i + 1}: pvmove copy phase ${r.copyPhaseSeconds.toFixed(1)}s, engine ${r.engineSeconds?.toFixed(1)}s (${r.engineFigures ?? `readahead ${r.readahead}`}), total ${r.totalSeconds.toFixed(1)}s, ${r.apiRequests} API requests (load ${loadAverage()})`,
      );
      const target = await boundDir(c, ns, claim);
      dirs.add(target.dir);
      // Free the disk before the next run: the claim (its new PV goes with it), the retained source PV.
      if (disk.slow) mounts.unmount(source.dir);
      await c.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: ns });
      await c.core.deletePersistentVolume({ name: source.pv });
      rmSync(source.dir, { recursive: true, force: true });
      if (disk.slow) rmSync(sourceBacking, { recursive: true, force: true });
    }
    return { disk, scale: dscale, summary, measured, archiveBytesActual, node, pvmove: runsOut, loads };
  } finally {
    // Unmount before anything deletes a directory (a PV's reclaim would delete through the mount).
    mounts.unmountAll();
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    removeBacking(ns);
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
  disk: string;
  scale: number;
  contender: string;
  /** Median of the runs. */
  seconds: number;
  min: number;
  max: number;
  runs: number[];
  mbPerSecond: number;
  filesPerSecond: number;
  /** The best node tool's median (the faster of tar | tar and cp -a) / this contender's median. */
  ratioToBest: number;
  ratioToTar: number;
  ratioToRsync: number;
}

function rows(d: DatasetResult): Row[] {
  const tar = median(d.node.tar);
  const best = Math.min(tar, median(d.node.cp));
  const rsync = median(d.node.rsync);
  const row = (contender: string, xs: number[]): Row => {
    const s = median(xs);
    return {
      dataset: d.summary.name,
      disk: d.disk.name,
      scale: d.scale,
      contender,
      seconds: s,
      min: Math.min(...xs),
      max: Math.max(...xs),
      runs: xs,
      mbPerSecond: d.measured.dataBytes / 1e6 / s,
      filesPerSecond: d.summary.files / s,
      ratioToBest: best / s,
      ratioToTar: tar / s,
      ratioToRsync: rsync / s,
    };
  };
  const engine = d.pvmove.map((r) => r.engineSeconds).filter((x): x is number => x !== undefined);
  return [
    row('tar | tar (node)', d.node.tar),
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
  const head = [
    'dataset',
    'disk',
    'contender',
    'scale',
    'time s',
    'min-max s',
    'MB/s',
    'files/s',
    'x best node',
    'x tar',
    'x rsync',
  ];
  const texts = 3;
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const body = all.map((r) => [
    r.dataset,
    r.disk,
    r.contender,
    String(r.scale),
    f(r.seconds),
    `${f(r.min)}-${f(r.max)}`,
    r.mbPerSecond.toFixed(0),
    r.filesPerSecond.toFixed(0),
    r.ratioToBest.toFixed(2),
    r.ratioToTar.toFixed(2),
    r.ratioToRsync.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < texts ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i < texts ? ':' : '-') + '-'.repeat(w) + (i < texts ? '-' : ':')).join('|')}|`,
    ...body.map((b) => line(b.map((c, i) => (i === 2 ? c.replace(/\|/g, '\\|') : c)))),
  ].join('\n');
}

/** What the report says about the machine: CPUs, memory, kernel, the disk under /tmp. */
function machine(): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? '?';
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const fs = sh(`df --output=source,fstype /tmp | tail -n1`).trim().split(/\s+/);
  return {
    cpus: availableParallelism(),
    cpuModel: model,
    memoryGiB: Math.round(memKb / 1024 / 1024),
    kernel: sh('uname -r').trim(),
    tmpDevice: `${fs[0]} (${fs[1]})`,
  };
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
    const mounts = new SlowMounts(log);
    if (disks.some((d) => d.slow)) {
      SlowMounts.releaseStale(log);
      process.on('exit', () => mounts.unmountAll());
      for (const sig of ['SIGINT', 'SIGTERM'] as const)
        process.once(sig, () => {
          mounts.unmountAll();
          process.exit(130);
        });
    }
    const r = await benchDowntime(c, { runs, scale, disks, mounts }, log).finally(() => mounts.unmountAll());
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
  const need = 4 * 2.3 * GiB * Math.max(...disks.flatMap((d) => datasets.map((n) => d.scales[n] * scale)));
  if (free - need < 5 * GiB)
    throw new Error(
      `not enough room in /tmp: ${(free / GiB).toFixed(1)} GiB free, ~${(need / GiB).toFixed(1)} GiB needed`,
    );
  const canDrop = dropCaches();
  const mounts = new SlowMounts(log);
  if (disks.some((d) => d.slow)) {
    SlowMounts.releaseStale(log);
    log(`slowfs: ${slowfsBinary()}`);
    // Whatever ends the bench, nothing stays mounted and no slowfs of ours keeps running.
    process.on('exit', () => mounts.unmountAll());
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        mounts.unmountAll();
        process.exit(130);
      });
  }
  log(
    `${runs} runs, datasets ${datasets.join(',')}, disks ${disks.map((d) => `${d.name} (scales ${datasets.map((n) => `${n} ${Number((d.scales[n] * scale).toPrecision(3))}`).join(', ')})`).join('; ')}; page cache drop ${canDrop ? 'works' : 'NOT permitted: caches are warm for all contenders alike'}; load ${loadAverage()}`,
  );

  const c = connect();
  const startLoad = loadAverage();
  const started = new Date();
  const results: DatasetResult[] = [];
  // What is done so far goes to <out>.partial.json after each dataset: a failure late in a long
  // run keeps the rows before it.
  const partial = outFile.replace(/\.json$/, '') + '.partial.json';
  for (const disk of disks)
    for (const d of datasets) {
      results.push(await benchDataset(c, d, disk, mounts, log));
      writeFileSync(
        partial,
        `${JSON.stringify({ date: started.toISOString(), table: results.flatMap(rows), datasets: results }, null, 2)}\n`,
      );
      log(`rows so far in ${path.relative(root, partial)}:\n${table(results.flatMap(rows))}`);
    }
  const seed = withSeed ? await benchSeed(c, log) : [];

  const all = results.flatMap(rows);
  const progress = results.map((d) => ({
    dataset: d.summary.name,
    disk: d.disk.name,
    estimatedArchiveBytes: d.measured.archiveBytes,
    actualArchiveBytes: d.archiveBytesActual,
    estimateToActual: d.archiveBytesActual ? d.measured.archiveBytes / d.archiveBytesActual : undefined,
    dataBytesOnNode: d.measured.dataBytes,
    lastProgress: d.pvmove.map((r) => r.lastProgress),
  }));
  const loads = results.flatMap((d) => d.loads);
  const report = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: started.toISOString(),
    end: new Date().toISOString(),
    commit: sh('git -C "$D" rev-parse --short HEAD', { D: root }).trim(),
    cli: process.env.PVMOVE_BIN ?? "this checkout's source (tsx)",
    machine: machine(),
    scale,
    runs,
    disks,
    dropCaches: canDrop,
    loadAverage: {
      start: startLoad,
      end: loadAverage(),
      beforeContenders: { min: Math.min(...loads), max: Math.max(...loads), median: median(loads) },
    },
    cpus: availableParallelism(),
    datasets: results.map((d) => ({
      dataset: d.summary.name,
      disk: d.disk.name,
      scale: d.scale,
      summary: d.summary,
      measured: d.measured,
      node: d.node,
      pvmove: d.pvmove,
      loads: d.loads,
    })),
    table: all,
    progress,
    seed,
  };
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  rmSync(partial, { force: true });
  const m = report.machine;
  process.stdout.write(
    `\ncopy bench ${report.date.slice(0, 16).replace('T', ' ')}-${report.end.slice(11, 16)} UTC, commit ${report.commit} (CLI: ${report.cli}); ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, kernel ${m.kernel}, /tmp on ${m.tmpDevice}\n` +
      `load average ${startLoad} at the start, ${report.loadAverage.beforeContenders.min}-${report.loadAverage.beforeContenders.max} before the contenders (median ${report.loadAverage.beforeContenders.median}), ${report.loadAverage.end} at the end; page cache ${canDrop ? 'dropped before every contender' : 'NOT dropped'}\n` +
      `medians of ${runs} run(s), min-max over the runs; x best node = the faster of tar | tar and cp -a (by median) on that dataset and disk / the contender\n` +
      disks.map((d) => `  disk ${d.name}: ${d.description}\n`).join('') +
      results
        .map((d) => `  ${d.summary.name}@${d.disk.name} (scale ${d.scale}): ${d.summary.description}\n`)
        .join('') +
      `\n${table(all)}\n\n`,
  );
  for (const p of progress) {
    const last = p.lastProgress[p.lastProgress.length - 1] as
      { bytesDone?: number; bytesTotal?: number } | undefined;
    process.stdout.write(
      `progress ${p.dataset}@${p.disk}: archive estimate/actual ${p.estimateToActual?.toFixed(3) ?? '?'}; last event ${last?.bytesDone ?? '?'} of ${last?.bytesTotal ?? '?'} bytes, data on node ${p.dataBytesOnNode}\n`,
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

// The Block scenario (`npm run bench -- --scenario block`): the Block copy engine against `dd` on
// the node between the same two devices. Each run: a local-block claim (128Mi, a loop device of the
// test bed) is filled with random bytes by a pod, then moved by the real CLI to a bigger local-block
// PV (`--to-class local-block --size 256Mi`); the copy pod's verdict line gives the engine's own
// copy time (`copy_ms`: its dd with O_DIRECT and conv=fsync, over the source's length). Then, on the
// node, after dropping the page cache, `dd bs=4M iflag=direct oflag=direct` from the source PV's
// loop device (kept, Retain) to the target PV's (the claim's new device, nothing uses it) over the
// same length, without and with conv=fsync. Two local PVs at a time; both are released after each
// run (the test bed's refill wipes and offers them again). Only devices that are local PVs of this
// test bed (a loop device whose backing file is in the test bed's local disks) are ever written.
import { readFileSync } from 'node:fs';
import {
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
  type Cluster,
} from '../../test/helpers/cluster.js';
import { createBlockClaim, devicePod } from '../../test/helpers/block.js';
import { runPod, waitForClaimBound, waitForPodGone } from '../../test/helpers/workloads.js';
import { failure, median, runMeasured } from './cli.js';
import { dropCaches, loadAverage, sh } from './node.js';

const MiB = 1024 * 1024;
const DEVICE = '/dev/pvmove-bench';

export interface BlockRun {
  bytes: number;
  /** The engine's dd as the copy pod times it (verdict line copy_ms). */
  engineSeconds: number;
  zeroSkip: string;
  /** The move's copy step (pod start, zeroing the target, dd, verification). */
  copyStepSeconds: number;
  moveSeconds: number;
  ddSeconds: number;
  ddFsyncSeconds: number;
  load: number[];
}

/** The loop device of a local-block PV of this test bed; refuses anything else. */
async function testbedDevice(c: Cluster, pvName: string): Promise<string> {
  const pv = await c.core.readPersistentVolume({ name: pvName });
  const dev = pv.spec?.local?.path ?? '';
  const m = /^\/dev\/(loop\d+)$/.exec(dev);
  if (pv.spec?.storageClassName !== 'local-block' || !m)
    throw new Error(`PV ${pvName} is not a local-block PV on a loop device (${dev})`);
  const backing = readFileSync(`/sys/block/${m[1]}/loop/backing_file`, 'utf8').trim();
  if (!/\/local\/disks\/local-block-[^/]+\.img$/.test(backing))
    throw new Error(`${dev} is backed by ${backing}, not a test bed local disk`);
  return dev;
}

/** Seconds `dd` takes from SRC to DST over `bytes`, page cache dropped first. */
function ddOnNode(src: string, dst: string, bytes: number, fsync: boolean): number {
  dropCaches();
  const start = process.hrtime.bigint();
  sh(
    `dd if="$SRC" of="$DST" bs=4M iflag=direct,count_bytes count=$BYTES oflag=direct ${fsync ? 'conv=fsync' : ''} status=none`,
    { SRC: src, DST: dst, BYTES: String(bytes) },
  );
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function oneRun(
  c: Cluster,
  i: number,
  sourceMiB: number,
  targetSize: string,
  log: (s: string) => void,
): Promise<BlockRun> {
  const ns = await createNamespace(c, 'bench-block');
  try {
    const bytes = sourceMiB * MiB;
    await createBlockClaim(c, ns, 'raw', `${sourceMiB}Mi`);
    // Random bytes over the whole device: nothing for the engine to skip, nothing sparse.
    await runPod(
      c,
      ns,
      devicePod(
        'fill',
        [{ claim: 'raw', path: DEVICE }],
        `head -c ${bytes} /dev/urandom | dd of=${DEVICE} bs=4M iflag=fullblock oflag=direct conv=fsync status=none`,
      ),
    );
    await c.core.deleteNamespacedPod({ name: 'fill', namespace: ns, gracePeriodSeconds: 0 });
    await waitForPodGone(c, ns, 'fill');
    const source = (await waitForClaimBound(c, ns, 'raw')).spec!.volumeName!;
    const srcDev = await testbedDevice(c, source);
    const load = [loadAverage()];
    dropCaches();
    const r = await runMeasured(['raw', '--to-class', 'local-block', '--size', targetSize, '-n', ns]);
    const result = r.events.find((e) => e.type === 'result');
    if (r.code !== 0 || result?.status !== 'done') throw new Error(`block move failed\n${failure(r)}`);
    const verdict =
      r.events
        .filter((e) => e.type === 'info' || e.type === 'progress' || e.type === 'step')
        .map((e) => String(e.message ?? ''))
        .find((m) => /copy_ms=\d+/.test(m) && /^verify/.test(m)) ??
      r.events.map((e) => String(e.message ?? '')).find((m) => /copy_ms=\d+/.test(m)) ??
      '';
    const copyMs = Number(/copy_ms=(\d+)/.exec(verdict)?.[1] ?? NaN);
    const copyStep = r.events.find((e) => e.type === 'step' && e.step === 'copy' && e.status === 'done');
    const target = await waitFor('the moved claim to be bound', 60_000, async () => {
      const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'raw', namespace: ns });
      return pvc.spec?.volumeName && pvc.spec.volumeName !== source ? pvc.spec.volumeName : undefined;
    });
    const dstDev = await testbedDevice(c, target);
    load.push(loadAverage());
    const dd = ddOnNode(srcDev, dstDev, bytes, false);
    const ddFsync = ddOnNode(srcDev, dstDev, bytes, true);
    load.push(loadAverage());
    const out: BlockRun = {
      bytes,
      engineSeconds: copyMs / 1000,
      zeroSkip: /zero_skip=(\S+)/.exec(verdict)?.[1] ?? '?',
      copyStepSeconds: Number(copyStep?.durationMs) / 1000,
      moveSeconds: Number(result.durationMs) / 1000,
      ddSeconds: dd,
      ddFsyncSeconds: ddFsync,
      load,
    };
    const rate = (s: number) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;
    log(
      `block run ${i}: ${srcDev} -> ${dstDev} ${sourceMiB} MiB: engine ${out.engineSeconds.toFixed(2)}s (${rate(out.engineSeconds)}, zero_skip=${out.zeroSkip}; copy step ${out.copyStepSeconds.toFixed(1)}s), dd ${dd.toFixed(2)}s (${rate(dd)}), dd conv=fsync ${ddFsync.toFixed(2)}s (${rate(ddFsync)}) (load ${load.join(', ')})`,
    );
    if (!verdict) log(`block run ${i}: no copy_ms in the events; the engine's figure is missing`);
    return out;
  } finally {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  }
}

export interface BlockReport {
  runs: BlockRun[];
  medians: {
    engineMiBps: number;
    ddMiBps: number;
    ddFsyncMiBps: number;
    engineToDd: number;
    engineToDdFsync: number;
    /** Median of each run's engine/dd: the two timed back to back, so closer to the same load. */
    engineToDdPerRun: number;
    copyStepSeconds: number;
  };
  targetMet: boolean;
}

export async function benchBlock(
  c: Cluster,
  runs: number,
  log: (s: string) => void,
  sourceMiB = 128,
  targetSize = '256Mi',
): Promise<BlockReport> {
  const out: BlockRun[] = [];
  for (let i = 1; i <= runs; i++) out.push(await oneRun(c, i, sourceMiB, targetSize, log));
  const mibps = (f: (r: BlockRun) => number) => median(out.map((r) => r.bytes / MiB / f(r)));
  const engine = mibps((r) => r.engineSeconds);
  const dd = mibps((r) => r.ddSeconds);
  const ddFsync = mibps((r) => r.ddFsyncSeconds);
  return {
    runs: out,
    medians: {
      engineMiBps: engine,
      ddMiBps: dd,
      ddFsyncMiBps: ddFsync,
      engineToDd: engine / dd,
      engineToDdFsync: engine / ddFsync,
      engineToDdPerRun: median(out.map((r) => r.ddSeconds / r.engineSeconds)),
      copyStepSeconds: median(out.map((r) => r.copyStepSeconds)),
    },
    targetMet: engine / dd >= 0.9,
  };
}

export function blockTable(r: BlockReport): string {
  const rates = (f: (x: BlockRun) => number) =>
    r.runs.map((x) => (x.bytes / MiB / f(x)).toFixed(0)).join(', ');
  return [
    '| contender | median MiB/s | runs MiB/s | x dd |',
    '|:--|--:|--:|--:|',
    `| dd bs=4M iflag=direct oflag=direct (node) | ${r.medians.ddMiBps.toFixed(0)} | ${rates((x) => x.ddSeconds)} | 1.00 |`,
    `| dd ... conv=fsync (node) | ${r.medians.ddFsyncMiBps.toFixed(0)} | ${rates((x) => x.ddFsyncSeconds)} | ${(r.medians.ddFsyncMiBps / r.medians.ddMiBps).toFixed(2)} |`,
    `| pvmove Block engine (copy_ms, in pod) | ${r.medians.engineMiBps.toFixed(0)} | ${rates((x) => x.engineSeconds)} | ${r.medians.engineToDd.toFixed(2)} |`,
    '',
    `engine / dd ${r.medians.engineToDd.toFixed(2)}x (target >= 0.9x: ${r.targetMet ? 'met' : 'NOT met'}; median of the runs' own ratios ${r.medians.engineToDdPerRun.toFixed(2)}x); engine / dd conv=fsync ${r.medians.engineToDdFsync.toFixed(2)}x; copy step (pod start, zeroing, dd, verification) median ${r.medians.copyStepSeconds.toFixed(1)}s`,
  ].join('\n');
}

// The batch scenario (`npm run bench -- --scenario batch`): a StatefulSet of N replicas (default
// 50; pods are sleepers that write ~300 KB each once) on class standard, moved to class fast in one
// run by the real CLI (`statefulset/NAME --to-class fast`). Reported: wall time, the CLI's peak
// memory, API requests per claim, and the longest downtime (the StatefulSet's scale-down start to
// its scale-up done, from the JSON events). A single-claim move of a 1-replica StatefulSet in the
// same run is the baseline for the per-claim ratios. Then --parallel values on a smaller batch.
import { rmSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import {
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
  type Cluster,
} from '../../test/helpers/cluster.js';
import { TEST_IMAGE } from '../../test/helpers/workloads.js';
import { apiRequests, failure, runMeasured, type MeasuredRun } from './cli.js';
import { loadAverage } from './node.js';

export interface BatchOptions {
  claims: number;
  /** Claims of each --parallel comparison batch; 0 skips the comparison. */
  parallelClaims: number;
  parallelValues: number[];
  /** --parallel of the main batch (undefined: the CLI's default). */
  parallel?: number;
}

export interface BatchRun {
  label: string;
  claims: number;
  parallel?: number;
  wallSeconds: number;
  /** The result event's durationMs (first step to last). */
  totalSeconds: number;
  peakRssMB: number;
  apiRequests: number;
  requestsPerClaim: number;
  secondsPerClaim: number;
  /** First scale-down `started` to last scale-up `done`. */
  downtimeSeconds: number;
  load: { start: number; end: number };
}

function statefulSet(name: string, replicas: number): k8s.V1StatefulSet {
  return {
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'app',
              image: TEST_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: [
                'bash',
                '-c',
                '[ -f /data/id ] || { hostname > /data/id; head -c 300000 /dev/urandom > /data/blob; }; exec sleep infinity',
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: 'standard',
            resources: { requests: { storage: '64Mi' } },
          },
        },
      ],
    },
  };
}

async function readyStatefulSet(c: Cluster, ns: string, name: string, replicas: number): Promise<void> {
  await c.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet(name, replicas) });
  await waitFor(`statefulset ${name} to have ${replicas} ready replicas`, 1_200_000, async () => {
    const s = await c.apps.readNamespacedStatefulSet({ name, namespace: ns });
    return (s.status?.readyReplicas ?? 0) === replicas ? true : undefined;
  });
}

const at = (e: Record<string, unknown>): number => Date.parse(String(e.time));

/** First scale-down `started` to last scale-up `done`; NaN without both. */
function downtime(r: MeasuredRun): number {
  const steps = r.events.filter((e) => e.type === 'step');
  const down = steps.filter((e) => e.step === 'scale-down' && e.status === 'started').map(at);
  const up = steps.filter((e) => e.step === 'scale-up' && e.status === 'done').map(at);
  return down.length && up.length ? (Math.max(...up) - Math.min(...down)) / 1000 : NaN;
}

function figures(label: string, r: MeasuredRun, claims: number, load0: number, parallel?: number): BatchRun {
  const result = r.events.find((e) => e.type === 'result');
  if (r.code !== 0 || result?.status !== 'done')
    throw new Error(`${label}: kubectl pvmove failed\n${failure(r)}`);
  const requests = apiRequests(r) ?? NaN;
  return {
    label,
    claims,
    ...(parallel !== undefined ? { parallel } : {}),
    wallSeconds: r.wallSeconds,
    totalSeconds: Number(result.durationMs) / 1000,
    peakRssMB: r.peakRssBytes / 1024 / 1024,
    apiRequests: requests,
    requestsPerClaim: requests / claims,
    secondsPerClaim: r.wallSeconds / claims,
    downtimeSeconds: downtime(r),
    load: { start: load0, end: loadAverage() },
  };
}

/** A fresh namespace with a StatefulSet of `replicas`, moved to fast; everything deleted after. */
async function moveStatefulSet(
  c: Cluster,
  label: string,
  replicas: number,
  single: boolean,
  parallel: number | undefined,
  log: (s: string) => void,
): Promise<BatchRun> {
  const ns = await createNamespace(c, `bench-batch-${label}`);
  try {
    const started = Date.now();
    await readyStatefulSet(c, ns, 'app', replicas);
    log(`${label}: ${replicas} replica(s) ready in ${((Date.now() - started) / 1000).toFixed(0)}s`);
    const load0 = loadAverage();
    const args = single
      ? ['data-app-0', '--to-class', 'fast', '-n', ns]
      : [
          'statefulset/app',
          '--to-class',
          'fast',
          '-n',
          ns,
          ...(parallel ? ['--parallel', String(parallel)] : []),
        ];
    const r = figures(label, await runMeasured(args), replicas, load0, parallel);
    log(
      `${label}: ${replicas} claim(s)${parallel ? ` --parallel ${parallel}` : ''}: wall ${r.wallSeconds.toFixed(1)}s (${r.secondsPerClaim.toFixed(2)} s/claim), peak RSS ${r.peakRssMB.toFixed(0)} MB, ${r.apiRequests} API requests (${r.requestsPerClaim.toFixed(0)}/claim), downtime ${r.downtimeSeconds.toFixed(1)}s (load ${r.load.start} -> ${r.load.end})`,
    );
    return r;
  } finally {
    // The moved claims' old PVs are kept (Retain): their directories on the node go with them.
    const dirs = (await c.core.listPersistentVolume()).items
      .filter((pv) => pv.spec?.claimRef?.namespace === ns && pv.spec.hostPath?.path)
      .map((pv) => pv.spec!.hostPath!.path);
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export interface BatchReport {
  single: BatchRun;
  batch: BatchRun;
  ratios: { requestsPerClaim: number; secondsPerClaim: number };
  targets: { requestsPerClaimMax: number; peakRssMBMax: number; requestsMet: boolean; memoryMet: boolean };
  parallel: BatchRun[];
  fastestParallel?: number;
}

export async function benchBatch(
  c: Cluster,
  o: BatchOptions,
  log: (s: string) => void,
): Promise<BatchReport> {
  const single = await moveStatefulSet(c, 'single', 1, true, undefined, log);
  const batch = await moveStatefulSet(c, `n${o.claims}`, o.claims, false, o.parallel, log);
  const parallel: BatchRun[] = [];
  if (o.parallelClaims > 0)
    for (const p of o.parallelValues)
      parallel.push(await moveStatefulSet(c, `p${p}`, o.parallelClaims, false, p, log));
  const fastest = [...parallel].sort((a, b) => a.totalSeconds - b.totalSeconds)[0];
  return {
    single,
    batch,
    ratios: {
      requestsPerClaim: batch.requestsPerClaim / single.requestsPerClaim,
      secondsPerClaim: batch.secondsPerClaim / single.secondsPerClaim,
    },
    targets: {
      requestsPerClaimMax: 325,
      peakRssMBMax: 200,
      requestsMet: batch.requestsPerClaim <= 325,
      memoryMet: batch.peakRssMB < 200,
    },
    parallel,
    ...(fastest?.parallel !== undefined ? { fastestParallel: fastest.parallel } : {}),
  };
}

export function batchTable(r: BatchReport): string {
  const head =
    '| run | claims | --parallel | wall s | s/claim | move s | peak RSS MB | API req | req/claim | downtime s |';
  const line = (x: BatchRun) =>
    `| ${x.label} | ${x.claims} | ${x.parallel ?? 'default'} | ${x.wallSeconds.toFixed(1)} | ${x.secondsPerClaim.toFixed(2)} | ${x.totalSeconds.toFixed(1)} | ${x.peakRssMB.toFixed(0)} | ${x.apiRequests} | ${x.requestsPerClaim.toFixed(1)} | ${x.downtimeSeconds.toFixed(1)} |`;
  return [
    head,
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    line(r.single),
    line(r.batch),
    ...r.parallel.map(line),
    '',
    `batch/single per claim: requests ${r.ratios.requestsPerClaim.toFixed(2)}x, wall time ${r.ratios.secondsPerClaim.toFixed(2)}x`,
    `targets: requests/claim ${r.batch.requestsPerClaim.toFixed(1)} <= 325 ${r.targets.requestsMet ? 'met' : 'NOT met'}; peak RSS ${r.batch.peakRssMB.toFixed(0)} MB < 200 MB ${r.targets.memoryMet ? 'met' : 'NOT met'}`,
    ...(r.fastestParallel !== undefined
      ? [
          `fastest --parallel on ${r.parallel[0]?.claims} claims: ${r.fastestParallel} (by the move's own duration)`,
        ]
      : []),
  ].join('\n');
}

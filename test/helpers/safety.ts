// Helpers for the safety e2e tests (crash matrix, faults, preflight refusals): a small app (claim +
// Deployment), snapshots of what a refusal must not change, the checks of "back to the original"
// and "moved", and a CLI run that can act on the child's -o json events while it runs.
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import { type Cluster, isNotFound, waitFor } from './cluster.js';
import { cliCommand, explain, type CliResult } from './cli.js';
import { manifestViaPod } from './volumes.js';
import {
  createClaim,
  createDeployment,
  runPod,
  shellPod,
  waitForClaimBound,
  waitForReadyReplicas,
} from './workloads.js';

export { createDeployment };

export const APP_LABELS = { app: 'web', tier: 'data' };
export const APP_ANNOTATIONS = { 'backup.example.com/schedule': 'nightly' };

/** Seeds a claim with a small tree (owners, modes, a symlink) and `extraMb` of random data. */
export async function createApp(
  c: Cluster,
  ns: string,
  opts: {
    claim?: string;
    storageClassName?: string;
    size?: string;
    extraMb?: number;
    replicas?: number;
  } = {},
): Promise<{ claim: string; pv: string; data: string }> {
  const claim = opts.claim ?? 'data';
  await createClaim(c, ns, claim, {
    storageClassName: opts.storageClassName ?? 'fast',
    size: opts.size ?? '1Gi',
    labels: APP_LABELS,
    annotations: APP_ANNOTATIONS,
  });
  const extra = opts.extraMb ? `head -c ${opts.extraMb}M /dev/urandom > /data/big.bin;` : '';
  await runPod(
    c,
    ns,
    shellPod(
      `seed-${claim}`,
      claim,
      `mkdir -p /data/a/b; echo hello > /data/a/b/c; ln -s a/b/c /data/link; chown -R 33:33 /data/a; chmod 0640 /data/a/b/c; head -c 100000 /dev/urandom > /data/r.bin; ${extra}`,
    ),
  );
  await c.core.deleteNamespacedPod({ name: `seed-${claim}`, namespace: ns, gracePeriodSeconds: 0 });
  const bound = await waitForClaimBound(c, ns, claim);
  const data = await manifestViaPod(c, ns, claim);
  await createDeployment(c, ns, 'web', claim, opts.replicas ?? 1);
  await waitForReady(c, ns, 'web', opts.replicas ?? 1);
  return { claim, pv: bound.spec!.volumeName!, data };
}

export async function waitForReady(c: Cluster, ns: string, name: string, want: number): Promise<void> {
  await waitForReadyReplicas(c, ns, name, want, 'deployment');
}

async function pvGone(c: Cluster, name: string): Promise<boolean> {
  try {
    await c.core.readPersistentVolume({ name });
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

/** Only what a user created: no temp claim, no copy/probe pod, one claim. */
export async function expectNoLeftovers(c: Cluster, ns: string, claim: string): Promise<void> {
  const claims = await c.core.listNamespacedPersistentVolumeClaim({ namespace: ns });
  expect(claims.items.map((p) => p.metadata?.name)).to.deep.equal([claim]);
  const pods = await c.core.listNamespacedPod({ namespace: ns });
  const ours = pods.items.filter(
    (p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'kubectl-pvmove',
  );
  expect(ours.map((p) => p.metadata?.name)).to.deep.equal([]);
}

/** The claim is back on its original PV with its metadata, owners and data; the target PV released. */
export async function expectOriginal(
  c: Cluster,
  ns: string,
  app: { claim: string; pv: string; data: string },
  opts: {
    storageClassName?: string;
    size?: string;
    targetPv?: string;
    keepTarget?: boolean;
    replicas?: number;
  },
): Promise<void> {
  const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: app.claim, namespace: ns });
  expect(pvc.status?.phase).to.equal('Bound');
  expect(pvc.spec?.volumeName).to.equal(app.pv);
  expect(pvc.spec?.storageClassName).to.equal(opts.storageClassName ?? 'fast');
  expect(pvc.spec?.resources?.requests?.storage).to.equal(opts.size ?? '1Gi');
  expect(pvc.metadata?.labels).to.deep.equal(APP_LABELS);
  expect(pvc.metadata?.annotations).to.include(APP_ANNOTATIONS);
  const source = await c.core.readPersistentVolume({ name: app.pv });
  expect(source.spec?.persistentVolumeReclaimPolicy).to.equal('Delete');
  expect(source.metadata?.labels ?? {}).to.not.have.property('pvmove.kubectl.io/migrated-to');
  await waitForReady(c, ns, 'web', opts.replicas ?? 1);
  await expectNoLeftovers(c, ns, app.claim);
  if (opts.targetPv) {
    if (opts.keepTarget) {
      const t = await c.core.readPersistentVolume({ name: opts.targetPv });
      expect(t.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
      expect(t.status?.phase).to.equal('Released');
    } else {
      await waitFor(`target PV ${opts.targetPv} to be reclaimed (Delete)`, 90_000, async () =>
        (await pvGone(c, opts.targetPv!)) ? true : undefined,
      );
    }
  }
  expect(await manifestViaPod(c, ns, app.claim)).to.equal(app.data);
}

/** The claim is on a new PV of `toClass`, with its metadata, owners and data; the old PV retained. */
export async function expectMoved(
  c: Cluster,
  ns: string,
  app: { claim: string; pv: string; data: string },
  toClass: string,
  size = '1Gi',
): Promise<string> {
  const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: app.claim, namespace: ns });
  expect(pvc.status?.phase).to.equal('Bound');
  expect(pvc.spec?.storageClassName).to.equal(toClass);
  expect(pvc.spec?.resources?.requests?.storage).to.equal(size);
  expect(pvc.metadata?.labels).to.deep.equal(APP_LABELS);
  expect(pvc.metadata?.annotations).to.include(APP_ANNOTATIONS);
  const newPv = pvc.spec!.volumeName!;
  expect(newPv).to.not.equal(app.pv);
  const pv = await c.core.readPersistentVolume({ name: newPv });
  expect(pv.spec?.storageClassName).to.equal(toClass);
  expect(pv.spec?.persistentVolumeReclaimPolicy).to.equal('Delete');
  const old = await c.core.readPersistentVolume({ name: app.pv });
  expect(old.status?.phase).to.equal('Released');
  expect(old.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
  await waitForReady(c, ns, 'web', 1);
  await expectNoLeftovers(c, ns, app.claim);
  expect(await manifestViaPod(c, ns, app.claim)).to.equal(app.data);
  return newPv;
}

/** resourceVersions of everything a refused command must leave alone, and the names of all objects. */
export async function snapshot(c: Cluster, ns: string): Promise<Record<string, string[]>> {
  const rv = (items: { metadata?: k8s.V1ObjectMeta }[]) =>
    items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();
  const [pvcs, pvs, deps, cms, pods, dss] = await Promise.all([
    c.core.listNamespacedPersistentVolumeClaim({ namespace: ns }),
    c.core.listPersistentVolume(),
    c.apps.listNamespacedDeployment({ namespace: ns }),
    c.core.listNamespacedConfigMap({ namespace: ns }),
    c.core.listNamespacedPod({ namespace: ns }),
    c.apps.listNamespacedDaemonSet({ namespace: ns }),
  ]);
  return {
    claims: rv(pvcs.items),
    volumes: rv(pvs.items.filter((p) => p.spec?.claimRef?.namespace === ns)),
    deployments: rv(deps.items),
    daemonSets: rv(dss.items),
    configMaps: rv(cms.items),
    pods: pods.items.map((p) => p.metadata?.name ?? '').sort(),
  };
}

export interface Running {
  child: ReturnType<typeof spawn>;
  done: Promise<CliResult>;
}

/** Runs the CLI with -o json and calls `onEvent` for each event as it arrives. */
export function startCli(
  args: string[],
  onEvent: (e: Record<string, unknown>) => void,
  env: Record<string, string> = {},
): Running {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd!, [...pre, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let buf = '';
  const events: Array<Record<string, unknown>> = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      onEvent(e);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, events });
    });
  });
  return { child, done };
}

/** The process died of SIGKILL (tsx reports the child's signal as 137). */
export function expectKilled(r: CliResult): void {
  expect(r.signal === 'SIGKILL' || r.code === 137, explain(r)).to.equal(true);
}

export function resultOf(r: CliResult): Record<string, unknown> | undefined {
  return r.events.find((e) => e.type === 'result' || e.type === 'error');
}

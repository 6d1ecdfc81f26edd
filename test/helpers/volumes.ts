// Reading what a claim holds, as its workload sees it (a Pod) and as it sits on the node (the
// hostPath directory behind the test bed's PVs, on this very machine).
import { execFileSync } from 'node:child_process';
import type { Cluster } from './cluster.js';
import { MANIFEST_SCRIPT } from './tree.js';
import { runPod, shellPod } from './workloads.js';

let readers = 0;

/** The manifest of everything on the claim, computed by a Pod that mounts it; the Pod is removed. */
export async function manifestViaPod(
  c: Cluster,
  namespace: string,
  claim: string,
  subdir = '',
): Promise<string> {
  const name = `manifest-${++readers}-${Date.now().toString(36)}`;
  const script = `cat > /tmp/m.sh <<'SCRIPT'\n${MANIFEST_SCRIPT}\nSCRIPT\nbash /tmp/m.sh /data/${subdir}`;
  try {
    return await runPod(c, namespace, shellPod(name, claim, script));
  } finally {
    await c.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

/** The same manifest computed on the node's directory of a hostPath PV. */
export function manifestOnNode(dir: string): string {
  return execFileSync('bash', ['-c', MANIFEST_SCRIPT, 'manifest', dir], { encoding: 'utf8' });
}

export async function hostPathOf(c: Cluster, pvName: string): Promise<string> {
  const pv = await c.core.readPersistentVolume({ name: pvName });
  const dir = pv.spec?.hostPath?.path;
  if (!dir) throw new Error(`PV ${pvName} is not a hostPath volume`);
  return dir;
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

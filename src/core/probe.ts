// Preflight checks that need the cluster to answer, run before anything changes:
//  - admission: a server-side dry run of the very copy pod (PodSecurity, policy webhooks);
//  - the image: a short-lived probe pod with the copy image and placement must start (ErrImagePull,
//    ImagePullBackOff, ErrImageNeverPull are refusals, not a copy step stuck after the scale-down);
//  - the data: the probe measures it (du) and it must fit the target size.
// The probe pod is the one object a refused preflight creates; it is always deleted before returning.
// A probe pod that a killed run left behind is deleted by the next run once it is plainly stale.
import type { ClusterPort } from './cluster.js';
import { LABEL_CLAIM, LABEL_MANAGED_BY, LABEL_ROLE, MANAGED_BY } from './defaults.js';
import { describe } from './errors.js';
import { ownedLabels } from './manifests.js';
import { claimLabelValue, fitName, type MigrationNames } from './names.js';
import { formatBytes, quantityToBytes } from './quantity.js';
import type { MigrationRequest, Pod, Pv, Pvc } from './types.js';
import { buildProbePod, PROBE_MARK } from './probe-pod.js';
import { volumeModeOf } from './local-volumes.js';

const PULL_FAILURES = ['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName'];
const POLL_MS = 1000;

export function probePodName(claim: string, migrationId: string): string {
  return fitName('pvmove-probe-', claim, `-${migrationId}`);
}

/**
 * A live run polls its probe pod every second and deletes it as soon as it has finished, so one
 * that finished longer ago than this belongs to a run that is gone. (One that has not finished may
 * be a live run's: the preflight refuses it instead, see isPvmovePod.)
 */
export const STALE_PROBE_MS = 30_000;

function finishedAtMs(pod: Pod): number | undefined {
  const times = (pod.status?.containerStatuses ?? [])
    .map((c) => c.state?.terminated?.finishedAt)
    .filter((t) => t !== undefined)
    .map((t) => new Date(t).getTime())
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** Probe pods of this claim, of any run, that finished more than STALE_PROBE_MS ago. */
export function staleProbePods(pods: Pod[], claim: string, nowMs: number): Pod[] {
  return pods.filter((pod) => {
    const labels = pod.metadata.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== MANAGED_BY || labels[LABEL_ROLE] !== 'probe') return false;
    if (labels[LABEL_CLAIM] !== claimLabelValue(claim)) return false;
    if (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') return false;
    const finished = finishedAtMs(pod);
    return finished !== undefined && nowMs - finished > STALE_PROBE_MS;
  });
}

/** The admission refusal of the copy pod as a one-line preflight problem, or undefined. */
export async function admissionProblem(cluster: ClusterPort, copyPod: Pod): Promise<string | undefined> {
  try {
    await cluster.dryRunCreatePod(copyPod);
    return undefined;
  } catch (err) {
    const text = describe(err);
    const ns = copyPod.metadata.namespace ?? '';
    if (/PodSecurity/.test(text)) {
      const detail = text.replace(/^.*?violates /, 'violates ');
      return (
        `namespace ${ns} does not admit the copy pod: it ${detail}; the copy pod runs as root to read every file, ` +
        `so allow it for the move with \`kubectl label namespace ${ns} pod-security.kubernetes.io/enforce=baseline --overwrite\` (set it back afterwards)`
      );
    }
    if (/\b403\b/.test(text) && /forbidden/i.test(text) && !/cannot create resource/.test(text)) {
      return `the copy pod would be rejected by admission in namespace ${ns}: ${text}`;
    }
    if (/cannot create resource/.test(text)) return undefined; // RBAC: reported by the permission check
    throw err;
  }
}

export interface ProbeInput {
  req: MigrationRequest;
  cluster: ClusterPort;
  names: MigrationNames;
  claim: Pvc;
  sourcePv?: Pv;
  podsUsingClaim: Pod[];
  targetSize: string;
  signal: AbortSignal;
}

/** Runs the probe pod; returns a refusal sentence, or undefined when the image runs and the data fits. */
export async function probeProblem(p: ProbeInput): Promise<string | undefined> {
  const ns = p.req.namespace;
  const name = probePodName(p.req.claim, p.names.migrationId);
  const rwop = p.claim.spec?.accessModes?.includes('ReadWriteOncePod') ?? false;
  // A device has no files to measure: its size is the PV's capacity, checked by the preflight.
  const measurable = volumeModeOf(p.claim) === 'Filesystem' && !(rwop && p.podsUsingClaim.length > 0);
  const user = p.podsUsingClaim.find((x) => x.spec?.nodeName);
  const pod = buildProbePod({
    name,
    namespace: ns,
    labels: ownedLabels(p.req.claim, p.names.migrationId, 'probe'),
    sourceClaim: measurable ? p.req.claim : undefined,
    sourceNodeAffinity: p.sourcePv?.spec?.nodeAffinity?.required,
    nodeName: user?.spec?.nodeName,
    copy: p.req.copy,
  });
  const image = p.req.copy.image;
  for (const stale of staleProbePods(await p.cluster.listPods(ns), p.req.claim, Date.now())) {
    await p.cluster.deletePod(ns, stale.metadata.name ?? '');
  }
  await p.cluster.deletePod(ns, name); // this migration's own, if an earlier attempt left it
  await p.cluster.createPod(pod);
  try {
    const started = Date.now();
    for (;;) {
      const cur = await p.cluster.getPod(ns, name);
      if (!cur) return `probe pod ${name} disappeared`;
      const waiting = cur.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
      if (waiting?.reason && PULL_FAILURES.includes(waiting.reason)) {
        return `the copy image ${image} cannot be pulled (${waiting.reason}: ${(waiting.message ?? '').slice(0, 200)}); pass --image with an image the nodes can pull (it needs GNU tar, bash, findutils)`;
      }
      const phase = cur.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') {
        const log = await p.cluster.readPodLog(ns, name, { tailLines: 20 }).catch(() => '');
        if (phase === 'Failed') {
          return `the copy image ${image} does not run here (probe pod exited: ${log.trim().slice(-200) || 'no output'}); pass --image with an image that has sh, du, GNU tar, bash and findutils`;
        }
        const line = log.split('\n').find((l) => l.startsWith(PROBE_MARK));
        const used = line ? Number(line.slice(PROBE_MARK.length)) : NaN;
        if (Number.isFinite(used) && line && line.length > PROBE_MARK.length) {
          const room = Number(quantityToBytes(p.targetSize));
          if (used > room) {
            return `the data on ${p.req.claim} uses ${formatBytes(used)}, more than the target size ${p.targetSize}; pass a bigger --size`;
          }
        }
        return undefined;
      }
      if (Date.now() - started > p.req.timeouts.startMs) {
        const sched = cur.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
        return `probe pod ${name} with the copy image and placement did not start within the start timeout (${sched?.message ?? waiting?.reason ?? phase ?? 'unknown'}); fix the placement (--copy-toleration, --copy-node-selector) or --image`;
      }
      if (p.signal.aborted) return undefined;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await p.cluster.deletePod(ns, name);
    await p.cluster
      .waitFor(`probe pod ${name} to be deleted`, p.req.timeouts.deleteMs, async () =>
        (await p.cluster.getPod(ns, name)) ? undefined : true,
      )
      .catch(() => undefined);
  }
}

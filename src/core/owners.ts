// Who keeps a claim in use: from the pods that mount it up their owner chains to the objects
// pvmove can scale down and back up. Pure over plain objects, so it is tested without a cluster.
import type {
  Hpa,
  OwnerId,
  OwnerKind,
  OwnerRecord,
  OwnerReference,
  OwnerState,
  Pod,
  Workload,
} from './types.js';

export interface OwnerResolution {
  /** Objects to stop, in a stable order (the order they are recorded and restored). */
  owners: OwnerId[];
  /** Pods owned by DaemonSets: pvmove cannot stop those without stopping them on every node. */
  daemonSets: { kind: 'DaemonSet'; name: string }[];
  /** Pods without a controller: deleting them loses them for good, hence --delete-pods. */
  barePods: string[];
  /** Owner chains pvmove does not know how to stop (operators, Argo Rollouts, ...). */
  unknown: string[];
}

export function controllerOf(meta: { ownerReferences?: OwnerReference[] }): OwnerReference | undefined {
  const refs = meta.ownerReferences ?? [];
  return refs.find((r) => r.controller) ?? refs[0];
}

/** True for pods that still count as using their volumes (not Succeeded/Failed). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

export function podMountsClaim(pod: Pod, claim: string): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim);
}

/** Pods that keep the claim busy, ignoring pvmove's own copy pod. */
export function podsUsingClaim(pods: Pod[], claim: string, exceptPod?: string): Pod[] {
  return pods.filter((p) => p.metadata.name !== exceptPod && isPodActive(p) && podMountsClaim(p, claim));
}

export function resolveOwners(pods: Pod[], replicaSets: Workload[], jobs: Workload[]): OwnerResolution {
  const owners: OwnerId[] = [];
  const daemonSets: { kind: 'DaemonSet'; name: string }[] = [];
  const barePods: string[] = [];
  const unknown: string[] = [];
  const add = (kind: OwnerKind, name: string): void => {
    if (!owners.some((o) => o.kind === kind && o.name === name)) owners.push({ kind, name });
  };

  for (const pod of pods) {
    const podName = pod.metadata.name ?? '?';
    const ref = controllerOf(pod.metadata);
    if (!ref) {
      barePods.push(podName);
      continue;
    }
    switch (ref.kind) {
      case 'ReplicaSet': {
        const rs = replicaSets.find((w) => w.metadata.name === ref.name);
        const up = rs ? controllerOf(rs.metadata) : undefined;
        if (!rs) unknown.push(`pod ${podName} is owned by ReplicaSet ${ref.name}, which was not found`);
        else if (!up) add('ReplicaSet', ref.name);
        else if (up.kind === 'Deployment') add('Deployment', up.name);
        else
          unknown.push(
            `pod ${podName} is owned by ReplicaSet ${ref.name}, which is controlled by ${up.kind} ${up.name}`,
          );
        break;
      }
      case 'Job': {
        const job = jobs.find((w) => w.metadata.name === ref.name);
        const up = job ? controllerOf(job.metadata) : undefined;
        if (up?.kind === 'CronJob') add('CronJob', up.name);
        else if (up)
          unknown.push(
            `pod ${podName} is owned by Job ${ref.name}, which is controlled by ${up.kind} ${up.name}`,
          );
        // The Job itself is suspended too: suspending its CronJob does not stop a running Job.
        add('Job', ref.name);
        break;
      }
      case 'StatefulSet':
      case 'ReplicationController':
        add(ref.kind, ref.name);
        break;
      case 'DaemonSet':
        if (!daemonSets.some((d) => d.name === ref.name))
          daemonSets.push({ kind: 'DaemonSet', name: ref.name });
        break;
      default:
        unknown.push(`pod ${podName} is owned by ${ref.kind} ${ref.name}, which pvmove cannot scale`);
    }
  }
  return { owners: sortOwners(owners), daemonSets, barePods, unknown };
}

/** CronJobs first so no new Job starts while the others stop; then the rest by kind and name. */
export function sortOwners<T extends OwnerId>(owners: T[]): T[] {
  const rank: Record<OwnerKind, number> = {
    CronJob: 0,
    Job: 1,
    Deployment: 2,
    StatefulSet: 3,
    ReplicaSet: 4,
    ReplicationController: 5,
  };
  return [...owners].sort((a, b) => rank[a.kind] - rank[b.kind] || a.name.localeCompare(b.name));
}

export function mergeOwners(...lists: OwnerId[][]): OwnerId[] {
  const out: OwnerId[] = [];
  for (const o of lists.flat()) if (!out.some((x) => x.kind === o.kind && x.name === o.name)) out.push(o);
  return sortOwners(out);
}

/** HPAs whose scale target is one of the owners: they would scale it back up (korb#277). */
export function hpaConflicts(hpas: Hpa[], owners: OwnerId[]): string[] {
  const out: string[] = [];
  for (const hpa of hpas) {
    const target = hpa.spec?.scaleTargetRef;
    if (target && owners.some((o) => o.kind === target.kind && o.name === target.name)) {
      out.push(`HorizontalPodAutoscaler ${hpa.metadata.name ?? '?'} targets ${target.kind} ${target.name}`);
    }
  }
  return out;
}

export function ownerLabel(o: OwnerId): string {
  return `${o.kind} ${o.name}`;
}

/**
 * A StatefulSet whose claim retention policy deletes claims on scale-down (whenScaled: Delete): its
 * controller makes each scaled-away pod own its claims, and the garbage collector deletes them with
 * the pod. Scaling it to 0 as it is would delete the claim being moved.
 */
export function deletesClaimsOnScaleDown(o: OwnerId & { pvcRetentionWhenScaled?: string }): boolean {
  return o.kind === 'StatefulSet' && (o.pvcRetentionWhenScaled ?? 'Retain') !== 'Retain';
}

/** The whenScaled to put back: the recorded one, when the StatefulSet does not have it now. */
export function retentionToRestore(record: OwnerRecord, state: OwnerState | undefined): string | undefined {
  const recorded = record.pvcRetentionWhenScaled;
  if (record.kind !== 'StatefulSet' || recorded === undefined) return undefined;
  return (state?.pvcRetentionWhenScaled ?? 'Retain') === recorded ? undefined : recorded;
}

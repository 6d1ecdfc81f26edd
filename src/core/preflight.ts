// Preflight: everything that would make pvmove refuse, decided before anything changes. Pure over
// facts the preflight step gathers, so every refusal message is unit-tested.
import { hpaConflicts, mergeOwners, ownerLabel, type OwnerResolution } from './owners.js';
import { compareQuantities, isValidQuantity } from './quantity.js';
import { storageRequest } from './manifests.js';
import {
  ANNOTATION_SOURCE_CLAIM,
  LABEL_MANAGED_BY,
  LABEL_MIGRATION_ID,
  LABEL_ROLE,
  MANAGED_BY,
} from './defaults.js';
import { hostnamesOf, localTargetProblem, topologyProblem, volumeModeOf } from './local-volumes.js';
import type { ClaimTemplate } from './cluster.js';
import { moveCommand } from './commands.js';
import type { Hpa, MigrationRequest, OwnerId, Pod, Pv, Pvc, StorageClass } from './types.js';

export interface PreflightFacts {
  claim?: Pvc;
  sourcePv?: Pv;
  /** The StorageClass the target will use (--to-class, or the claim's own). */
  storageClass?: StorageClass;
  podsUsingClaim: Pod[];
  resolution: OwnerResolution;
  templateOwners: OwnerId[];
  hpas: Hpa[];
  /** volumeClaimTemplates of the StatefulSets among the owners. */
  claimTemplates?: { statefulSet: string; templates: ClaimTemplate[] }[];
  /** Every PV, when the target class has no provisioner (node-local PVs made by hand). */
  pvs?: Pv[];
  /** The labels of the node a node-local source is on, when the target class limits its topology. */
  sourceNodeLabels?: Record<string, string>;
  /** Why the PVs could not be listed (then the free-PV check is skipped, with a warning). */
  pvsUnreadable?: string;
  /**
   * Finished pods (not kubectl-pvmove's) that still name the claim. Kubernetes does not delete a
   * claim while any scheduled pod names it, finished or not (the pvc-protection finalizer).
   */
  finishedPods?: string[];
}

export interface PreflightResult {
  problems: string[];
  warnings: string[];
  /** Worth saying, not a concern (who will be stopped). */
  info: string[];
  owners: OwnerId[];
  barePods: string[];
  targetClass: string;
  targetSize: string;
}

export function targetClassOf(req: MigrationRequest, claim: Pvc | undefined): string {
  return req.toClass ?? claim?.spec?.storageClassName ?? '';
}

export function targetSizeOf(req: MigrationRequest, claim: Pvc | undefined): string {
  return req.size ?? (claim ? (storageRequest(claim) ?? '') : '');
}

export interface NothingToDo {
  message: string;
  /** The same command with --fresh-volume, which copies to a new volume anyway. */
  next: string;
}

/**
 * A move to the class and size the claim already has changes nothing but costs an outage (the
 * workload is stopped for the copy), so it is answered instead of run, unless --fresh-volume asks
 * for a new volume on purpose. Only for a new migration: a recorded one is resumed as recorded.
 */
export function nothingToDo(req: MigrationRequest, claim: Pvc | undefined): NothingToDo | undefined {
  if (!claim || req.freshVolume) return undefined;
  const currentClass = claim.spec?.storageClassName ?? '';
  const currentSize = storageRequest(claim);
  if (req.toClass !== undefined && req.toClass !== currentClass) return undefined;
  if (req.size !== undefined) {
    if (!currentSize || !isValidQuantity(req.size) || !isValidQuantity(currentSize)) return undefined;
    if (compareQuantities(req.size, currentSize) !== 0) return undefined;
  }
  const next = moveCommand({
    claim: req.claim,
    namespace: req.namespace,
    toClass: req.toClass,
    size: req.size,
    kubeArgs: req.commands.kubeArgs,
    moveArgs: [...req.commands.moveArgs, '--fresh-volume'],
  });
  const volume = claim.spec?.volumeName ? ` (PV ${claim.spec.volumeName})` : '';
  return {
    message:
      `Nothing to do: claim ${req.claim} in ${req.namespace} already has class ${currentClass || '(none)'} and size ${currentSize ?? '?'}${volume}; nothing was changed. ` +
      `To copy it to a new volume of the same class anyway, run \`${next}\``,
    next,
  };
}

/** Pods kubectl-pvmove made (probe, copy): never a user's bare pod, never deleted by --delete-pods. */
export function isPvmovePod(pod: Pod): boolean {
  return pod.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY;
}

function pvmovePodProblem(req: MigrationRequest, pod: Pod): string {
  const name = pod.metadata.name ?? '?';
  const role = { 'copy-pod': 'the copy pod', probe: 'the probe pod' }[
    pod.metadata.labels?.[LABEL_ROLE] ?? ''
  ];
  const id = pod.metadata.labels?.[LABEL_MIGRATION_ID];
  return (
    `pod ${name} mounts ${req.claim}: it is ${role ?? 'a pod'} of another kubectl-pvmove run${id ? ` (migration ${id})` : ''}; ` +
    `wait for that run to end and check \`kubectl pvmove status ${req.claim} -n ${req.namespace}\`, ` +
    `or, if no kubectl-pvmove run is active, delete it with \`kubectl delete pod ${name} -n ${req.namespace}\``
  );
}

export function evaluatePreflight(req: MigrationRequest, f: PreflightFacts): PreflightResult {
  const where = `${req.claim} in namespace ${req.namespace}`;
  const problems: string[] = [];
  const warnings: string[] = [];
  const info: string[] = [];
  const targetClass = targetClassOf(req, f.claim);
  let targetSize = targetSizeOf(req, f.claim);
  // Another run's probe or copy pod has no controller either, but it is not the user's to delete.
  const pvmovePods = f.podsUsingClaim.filter(isPvmovePod);
  const ours = new Set(pvmovePods.map((p) => p.metadata.name));
  const barePods = f.resolution.barePods.filter((name) => !ours.has(name));
  const result = (): PreflightResult => ({
    problems,
    warnings,
    info,
    owners: mergeOwners(f.resolution.owners, f.templateOwners),
    barePods,
    targetClass,
    targetSize,
  });

  const claim = f.claim;
  if (!claim) {
    problems.push(`PersistentVolumeClaim ${where} not found`);
    return result();
  }
  if (claim.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY) {
    const of = claim.metadata.annotations?.[ANNOTATION_SOURCE_CLAIM];
    problems.push(
      `PersistentVolumeClaim ${where} is a temporary claim of kubectl-pvmove${of ? ` (a migration of ${of} is in progress)` : ''}; check it with \`kubectl pvmove status${of ? ` ${of}` : ''} -n ${req.namespace}\``,
    );
  }
  if (claim.metadata.deletionTimestamp) problems.push(`PersistentVolumeClaim ${where} is being deleted`);
  const phase = claim.status?.phase ?? 'unknown';
  if (phase !== 'Bound') problems.push(`PersistentVolumeClaim ${where} is ${phase}, not Bound`);
  const mode = volumeModeOf(claim);
  // A device is copied whole: the target must hold the source PV's full capacity, which can be
  // more than the claim asked for (a local PV bigger than the request).
  const device = f.sourcePv?.spec?.capacity?.storage;
  if (mode === 'Block' && device && isValidQuantity(device) && isValidQuantity(targetSize)) {
    if (compareQuantities(targetSize, device) < 0) {
      if (req.size !== undefined) {
        problems.push(
          `--size ${req.size} is smaller than the source device (PV ${f.sourcePv?.metadata.name ?? '?'} holds ${device}); a Block volume is copied whole, so pass --size ${device} or more`,
        );
      } else {
        info.push(
          `the source device holds ${device} (more than the claim's request): the target asks for ${device}`,
        );
        targetSize = device;
      }
    }
  }
  if (req.precopy) {
    // A warm pass mounts the source a second time while the application has it mounted.
    if (claim.spec?.accessModes?.includes('ReadWriteOncePod')) {
      problems.push(
        `--precopy needs to mount ${req.claim} beside the running application, which its access mode ReadWriteOncePod forbids; run the move without --precopy (the copy is then made while the application is stopped)`,
      );
    }
    if (mode === 'Block') {
      problems.push(
        `--precopy copies files and ${req.claim} is a Block volume (copied whole while stopped); run the move without --precopy`,
      );
    }
  }
  if (phase === 'Bound' && !f.sourcePv) {
    problems.push(`PersistentVolume ${claim.spec?.volumeName ?? '?'} bound to ${req.claim} not found`);
  }

  if (!targetClass) {
    problems.push(`PersistentVolumeClaim ${where} has no StorageClass; pass --to-class`);
  } else if (!f.storageClass) {
    problems.push(`StorageClass ${targetClass} not found`);
  } else if (f.pvs && isValidQuantity(targetSize)) {
    const local = localTargetProblem({
      storageClass: f.storageClass,
      pvs: f.pvs,
      volumeMode: mode,
      size: targetSize,
      node: hostnamesOf(f.sourcePv?.spec?.nodeAffinity?.required)?.[0],
    });
    if (local) problems.push(local);
  } else if (f.pvsUnreadable) {
    warnings.push(
      `StorageClass ${targetClass} has no provisioner and the PVs could not be listed (${f.pvsUnreadable}), so whether a free PV can take the target claim is not checked`,
    );
  }

  if (f.storageClass) {
    const node = hostnamesOf(f.sourcePv?.spec?.nodeAffinity?.required)?.[0];
    const topology = topologyProblem(f.storageClass, node, f.sourceNodeLabels);
    if (topology) problems.push(topology);
  }

  const current = storageRequest(claim);
  if (!isValidQuantity(targetSize)) {
    problems.push(`size ${JSON.stringify(targetSize)} is not a valid quantity`);
  } else if (current && isValidQuantity(current) && compareQuantities(targetSize, current) < 0) {
    problems.push(
      `--size ${targetSize} is smaller than the claim's current request ${current}; shrinking is not possible`,
    );
  }

  const r = f.resolution;
  for (const ds of r.daemonSets) {
    problems.push(
      `DaemonSet ${ds.name} mounts ${req.claim}; kubectl-pvmove cannot stop a DaemonSet, remove its pods from the claim first`,
    );
  }
  for (const pod of pvmovePods) problems.push(pvmovePodProblem(req, pod));
  if (barePods.length > 0) {
    if (req.deletePods) {
      warnings.push(
        `pods ${barePods.join(', ')} have no controller: they will be deleted and NOT re-created`,
      );
    } else {
      problems.push(
        `pods ${barePods.join(', ')} use ${req.claim} and have no controller to re-create them; stop them or pass --delete-pods`,
      );
    }
  }
  problems.push(...r.unknown);
  const finished = f.finishedPods ?? [];
  if (finished.length > 0) {
    problems.push(
      `finished pods ${finished.join(', ')} still name ${req.claim}, and Kubernetes keeps a claim while any pod names it, so the move would stop after the copy with the application down; ` +
        `delete them first with \`kubectl delete pod ${finished.join(' ')} -n ${req.namespace}\``,
    );
  }

  const owners = mergeOwners(r.owners, f.templateOwners);
  const hpas = hpaConflicts(f.hpas, owners);
  if (hpas.length > 0) {
    const text = `${hpas.join('; ')}: it would scale back up during the move`;
    if (req.ignoreHpa) warnings.push(text);
    else problems.push(`${text}; remove it or pass --ignore-hpa`);
  }
  warnings.push(...templateDrift(req.claim, targetClass, f.claimTemplates ?? []));
  if (owners.length > 0) info.push(`will stop ${owners.map(ownerLabel).join(', ')} during the move`);
  return result();
}

/**
 * A claim made from a StatefulSet's volumeClaimTemplate keeps working after the move, but new
 * replicas still get the template's class (crane#795); the template is immutable, so say so.
 */
export function templateDrift(
  claim: string,
  targetClass: string,
  sets: { statefulSet: string; templates: ClaimTemplate[] }[],
): string[] {
  const out: string[] = [];
  for (const { statefulSet, templates } of sets) {
    for (const t of templates) {
      if (!new RegExp(`^${escape(t.name)}-${escape(statefulSet)}-\\d+$`).test(claim)) continue;
      if ((t.storageClassName ?? '') !== targetClass) {
        out.push(
          `StatefulSet ${statefulSet}'s volumeClaimTemplate ${t.name} still asks for class ${t.storageClassName || '(default)'}: ` +
            `new replicas will get that class; update the template (re-create the StatefulSet with --cascade=orphan)`,
        );
      }
    }
  }
  return out;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

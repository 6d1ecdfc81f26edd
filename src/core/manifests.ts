// Every object and patch pvmove sends, built from the request and what was observed. Pure: the
// steps send these, --dry-run prints them and the unit tests check them.
import {
  ANNOTATION_COPIED,
  ANNOTATION_MIGRATION,
  ANNOTATION_SOURCE_CLAIM,
  LABEL_CLAIM,
  LABEL_MANAGED_BY,
  LABEL_MIGRATED_TO,
  LABEL_KEPT_BY_ROLLBACK,
  LABEL_MIGRATION_ID,
  LABEL_ROLE,
  MANAGED_BY,
} from './defaults.js';
import { claimLabelValue } from './names.js';
import type { Labels, Pvc } from './types.js';

export type Role = 'journal' | 'target-claim' | 'copy-pod' | 'probe' | 'lock';

/** Labels on everything pvmove creates, so a re-run and cleanup can find it (invariant 4). */
export function ownedLabels(claim: string, migrationId: string, role: Role): Labels {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_MIGRATION_ID]: migrationId,
    [LABEL_CLAIM]: claimLabelValue(claim),
    [LABEL_ROLE]: role,
  };
}

export function storageRequest(pvc: Pvc): string | undefined {
  return pvc.spec?.resources?.requests?.storage;
}

export interface TargetClaimInput {
  original: Pvc;
  name: string;
  migrationId: string;
  storageClass: string;
  size: string;
}

/**
 * The claim's VolumeAttributesClass, when the class stays the same. It names parameters of the old
 * class's driver, so on a new class it is dropped (the plan warns). The target claim and the
 * re-created claim must agree: the PV is provisioned with the target claim's, and the PV controller
 * binds the re-created claim only to a PV with the same VolumeAttributesClass.
 */
export function keptVolumeAttributesClass(original: Pvc, storageClass: string): string | undefined {
  const vac = original.spec?.volumeAttributesClassName;
  return vac && original.spec?.storageClassName === storageClass ? vac : undefined;
}

/** The temporary claim the data is copied into: the source's access modes and volume mode. */
export function buildTargetClaim(t: TargetClaimInput): Pvc {
  const claim = t.original.metadata.name ?? '';
  const vac = keptVolumeAttributesClass(t.original, t.storageClass);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: t.name,
      namespace: t.original.metadata.namespace,
      labels: ownedLabels(claim, t.migrationId, 'target-claim'),
      annotations: { [ANNOTATION_SOURCE_CLAIM]: claim },
    },
    spec: {
      accessModes: [...(t.original.spec?.accessModes ?? ['ReadWriteOnce'])],
      volumeMode: t.original.spec?.volumeMode ?? 'Filesystem',
      storageClassName: t.storageClass,
      resources: { requests: { storage: t.size } },
      ...(vac ? { volumeAttributesClassName: vac } : {}),
    },
  };
}

/**
 * Annotations the PV controller and provisioners own: copying them onto the new claim would claim
 * a binding or a provisioner that does not apply to it. `volume.beta.kubernetes.io/storage-class`
 * (legacy) would even override spec.storageClassName. last-applied-configuration is the user's
 * and stays.
 */
export function isControllerAnnotation(key: string): boolean {
  return key.startsWith('pv.kubernetes.io/') || /^volume\.([a-z0-9-]+\.)?kubernetes\.io\//.test(key);
}

export function filterAnnotations(annotations: Labels | undefined): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(annotations ?? {})) if (!isControllerAnnotation(k)) out[k] = v;
  return out;
}

export interface RecreatedClaimInput {
  original: Pvc;
  migrationId: string;
  storageClass: string;
  size: string;
  targetPv: string;
}

/**
 * The claim under its original name, bound to the target PV: original labels, annotations and
 * owner references; new class and size. selector, dataSource and dataSourceRef are dropped: the
 * volume already exists and is named by volumeName, and a populator must not run again.
 */
export function buildRecreatedClaim(r: RecreatedClaimInput): Pvc {
  const spec = r.original.spec ?? {};
  const resources: NonNullable<Pvc['spec']>['resources'] = {
    requests: { ...(spec.resources?.requests ?? {}), storage: r.size },
  };
  if (spec.resources?.limits) resources.limits = { ...spec.resources.limits };
  return claimInPlaceOf(
    r.original,
    { [ANNOTATION_MIGRATION]: r.migrationId },
    {
      storageClassName: r.storageClass,
      volumeName: r.targetPv,
      resources,
      volumeAttributesClassName: keptVolumeAttributesClass(r.original, r.storageClass),
    },
  );
}

/** What differs between the claims put in the original's place: the volume and its class and size. */
interface InPlaceSpec {
  storageClassName?: string;
  volumeName: string;
  resources: NonNullable<Pvc['spec']>['resources'];
  volumeAttributesClassName?: string;
}

/**
 * A claim in the original's place (re-created on the target PV, or restored on the source PV):
 * the original's name, labels, owner references, access modes, volume mode and annotations (without
 * those the PV controller owns, plus `annotations`), bound by volumeName to an existing volume.
 */
function claimInPlaceOf(original: Pvc, annotations: Labels, s: InPlaceSpec): Pvc {
  const m = original.metadata;
  const spec = original.spec ?? {};
  const kept = { ...filterAnnotations(m.annotations), ...annotations };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      ...(m.labels && Object.keys(m.labels).length > 0 ? { labels: { ...m.labels } } : {}),
      ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}),
      ...(m.ownerReferences && m.ownerReferences.length > 0
        ? { ownerReferences: m.ownerReferences.map((o) => ({ ...o })) }
        : {}),
    },
    spec: {
      accessModes: [...(spec.accessModes ?? ['ReadWriteOnce'])],
      volumeMode: spec.volumeMode ?? 'Filesystem',
      ...(s.storageClassName !== undefined ? { storageClassName: s.storageClassName } : {}),
      volumeName: s.volumeName,
      resources: s.resources,
      ...(s.volumeAttributesClassName ? { volumeAttributesClassName: s.volumeAttributesClassName } : {}),
    },
  };
}

/** Retain, and the migration's label: the PV is this migration's, as the cluster itself says. */
export function retainAndMarkPatch(migrationId: string): object {
  return {
    metadata: { labels: { [LABEL_MIGRATION_ID]: migrationId } },
    spec: { persistentVolumeReclaimPolicy: 'Retain' },
  };
}

/** A target PV a rollback keeps: Retain, labelled with the migration and as kept. */
export function keptTargetPatch(migrationId: string): object {
  return {
    metadata: { labels: { [LABEL_MIGRATION_ID]: migrationId, [LABEL_KEPT_BY_ROLLBACK]: 'true' } },
    spec: { persistentVolumeReclaimPolicy: 'Retain' },
  };
}

/** Merge patch for a PV's reclaim policy. */
export function reclaimPolicyPatch(policy: string): object {
  return { spec: { persistentVolumeReclaimPolicy: policy } };
}

/**
 * Pre-binds the target PV to the original claim name (invariant 6): a claimRef with namespace and
 * name but no uid, so only a claim of that name can bind it. uid and resourceVersion are nulled in
 * the merge patch, otherwise they would survive from the temporary claim.
 */
export function prebindPatch(namespace: string, claim: string): object {
  return {
    spec: {
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace,
        name: claim,
        uid: null,
        resourceVersion: null,
      },
    },
  };
}

/** Marks the target PV once the copy verified, so "copied" is visible on the cluster. */
export function copiedPatch(migrationId: string): object {
  return { metadata: { annotations: { [ANNOTATION_COPIED]: migrationId } } };
}

/** Labels the retained source PV so people (and cleanup) see where its data went. */
export function sourceMigratedPatch(migrationId: string, targetPv: string): object {
  return { metadata: { labels: { [LABEL_MIGRATED_TO]: targetPv, [LABEL_MIGRATION_ID]: migrationId } } };
}

/**
 * The claim as the journal recorded it, on the source PV again (rollback): original labels,
 * annotations (without those the PV controller owns), owners and spec. selector and data sources
 * are dropped for the same reason as in buildRecreatedClaim.
 */
export function buildRestoredClaim(original: Pvc, sourcePv: string): Pvc {
  const spec = original.spec ?? {};
  return claimInPlaceOf(
    original,
    {},
    {
      storageClassName: spec.storageClassName,
      volumeName: sourcePv,
      resources: JSON.parse(JSON.stringify(spec.resources ?? {})) as NonNullable<Pvc['spec']>['resources'],
      volumeAttributesClassName: spec.volumeAttributesClassName,
    },
  );
}

/**
 * A claimRef to a claim that no longer exists (the temporary one, with a uid no claim has): the PV
 * controller marks the PV Released and applies its reclaim policy. Used by rollback so a target PV
 * that was pre-bound by name is reclaimed (Delete) or kept out of reach (Retain).
 */
export function releasedClaimRef(namespace: string, claim: string, migrationId: string): object {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    namespace,
    name: claim,
    uid: `pvmove-rolled-back-${migrationId}`,
    resourceVersion: null,
  };
}

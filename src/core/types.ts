import type { Commands } from './commands.js';

// Plain shapes of the Kubernetes objects the core reads and writes. They are structural subsets of
// the API types, so the core stays free of @kubernetes/client-node (only src/kube imports it) and
// tests can build objects as literals.

export type Labels = Record<string, string>;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Labels;
  annotations?: Labels;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  deletionTimestamp?: string | Date;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeSelector {
  nodeSelectorTerms: NodeSelectorTerm[];
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface Pvc {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    accessModes?: string[];
    volumeMode?: string;
    storageClassName?: string;
    volumeName?: string;
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    selector?: unknown;
    dataSource?: unknown;
    dataSourceRef?: unknown;
    volumeAttributesClassName?: string;
  };
  status?: { phase?: string; capacity?: Record<string, string> };
}

export interface Pv {
  metadata: ObjectMeta;
  spec?: {
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    claimRef?: ObjectReference;
    nodeAffinity?: { required?: NodeSelector };
    capacity?: Record<string, string>;
    volumeMode?: string;
  };
  status?: { phase?: string };
}

export interface StorageClass {
  metadata: ObjectMeta;
  provisioner?: string;
  volumeBindingMode?: string;
  allowVolumeExpansion?: boolean;
  /** Where the class may provision: a node must match one term (every expression of it). */
  allowedTopologies?: { matchLabelExpressions?: { key: string; values?: string[] }[] }[];
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface PodVolume {
  name: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  [other: string]: unknown;
}

export interface ContainerStatus {
  name: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    /** finishedAt: RFC 3339 from the API, a Date once @kubernetes/client-node has read it. */
    terminated?: { exitCode: number; reason?: string; message?: string; finishedAt?: string | Date };
    running?: unknown;
  };
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    volumes?: PodVolume[];
    nodeName?: string;
    [other: string]: unknown;
  };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
  };
}

/** A workload object as the owner-chain resolution needs it (ReplicaSet, Job, ...). */
export interface Workload {
  kind: string;
  metadata: ObjectMeta;
}

/** A StatefulSet as the API returns it, cleaned to what re-creating it needs (no status). */
export interface StatefulSetManifest {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: ObjectMeta;
  spec: {
    replicas?: number;
    volumeClaimTemplates?: Pvc[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
    [field: string]: unknown;
  };
}

export interface Hpa {
  metadata: ObjectMeta;
  spec?: { scaleTargetRef?: { kind: string; name: string; apiVersion?: string } };
}

/** The kinds pvmove knows how to stop and restart. */
export type OwnerKind =
  'Deployment' | 'StatefulSet' | 'ReplicaSet' | 'ReplicationController' | 'Job' | 'CronJob';

export interface OwnerId {
  kind: OwnerKind;
  name: string;
}

/** What a scaled owner looks like right now (replicas for scalable kinds, suspend for Job/CronJob). */
export interface OwnerState extends OwnerId {
  exists: boolean;
  replicas?: number;
  readyReplicas?: number;
  suspend?: boolean;
  /** StatefulSets: spec.persistentVolumeClaimRetentionPolicy.whenScaled ('Retain' when unset). */
  pvcRetentionWhenScaled?: string;
}

/** What undo needs for one owner: the value before pvmove touched it. */
export interface OwnerRecord extends OwnerId {
  replicas?: number;
  suspend?: boolean;
  /** StatefulSets: whenScaled as it was; set to Retain while the move runs, restored afterwards. */
  pvcRetentionWhenScaled?: string;
}

export type VerifyMode = 'count' | 'checksum' | 'none';

export interface PrecopyOptions {
  /** Warm passes before the stop (each one copies what changed since the one before). */
  passes: number;
}

export interface CopyOptions {
  image: string;
  imagePullPolicy: string;
  tolerations: Toleration[];
  nodeSelector: Labels;
}

/** Per-phase limits in milliseconds (korb#263, pv-migrate#136: fixed timeouts hurt). */
export interface Timeouts {
  bindMs: number;
  startMs: number;
  copyMs: number;
  scaleMs: number;
  deleteMs: number;
  readyMs: number;
}

/** The typed request the CLI builds from argv; the core never sees flags. */
export interface MigrationRequest {
  namespace: string;
  claim: string;
  toClass?: string;
  size?: string;
  deletePods: boolean;
  ignoreHpa: boolean;
  /** Copy to a new volume even when the class and size stay as they are (else: nothing to do). */
  freshVolume?: boolean;
  verify: VerifyMode;
  /**
   * Warm pre-copy: copy while the application still runs (this many passes), so that only what
   * changed since is copied while it is stopped.
   */
  precopy?: PrecopyOptions;
  copy: CopyOptions;
  timeouts: Timeouts;
  /** Commands to print in messages (see commands.ts), with the user's --context/--kubeconfig. */
  commands: Commands;
}

export interface CleanupRequest {
  namespace: string;
  claim: string;
  timeouts: Pick<Timeouts, 'deleteMs'>;
  commands: Commands;
}

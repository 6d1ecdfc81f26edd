// What the core needs from a cluster, as plain objects. src/kube/facade.ts implements it with
// @kubernetes/client-node; the core depends on this interface only (dependency inversion), so the
// orchestration can be exercised with a fake.
import type { MigrationJournal } from './journal.js';
import type { JournalEntry } from './status.js';
import type { LeaseRecord } from './lock.js';
import type {
  Hpa,
  Labels,
  OwnerId,
  OwnerState,
  Pod,
  Pv,
  Pvc,
  StatefulSetManifest,
  StorageClass,
  Workload,
} from './types.js';

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Omitted for cluster-scoped resources. */
  namespace?: string;
}

export interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
}

/** A migration's journal as stored (see src/core/journal-store.ts for one claim's view of it). */
export interface StoredJournal {
  document: MigrationJournal;
  resourceVersion: string;
}

export interface ClaimTemplate {
  name: string;
  storageClassName?: string;
  storage?: string;
}

export interface WaitOptions {
  /** Called on timeout to explain what is still in the way (e.g. which pod holds a claim). */
  detail?: () => Promise<string | undefined>;
  /** Aborts the wait with an InterruptedError-like rejection; omit for waits that must finish. */
  signal?: AbortSignal;
  intervalMs?: number;
  /**
   * Objects whose changes should end the current pause early: the probe then looks at once instead
   * of at its next poll. Only a hint (a watch that stalls or fails changes nothing: the polls go on),
   * for the waits the application is down for.
   */
  wakeOn?: WatchTarget[];
}

/** What a wait may watch: every object of a kind in a namespace, or one by name. */
export interface WatchTarget {
  kind: 'Pod' | 'PersistentVolumeClaim' | 'PersistentVolume' | 'Deployment' | 'StatefulSet' | 'ReplicaSet';
  namespace?: string;
  name?: string;
}

export interface ClusterPort {
  readJournal(namespace: string, name: string): Promise<StoredJournal | undefined>;
  createJournal(
    namespace: string,
    name: string,
    labels: Labels,
    journal: MigrationJournal,
  ): Promise<StoredJournal>;
  /** Replaces the journal if resourceVersion still matches; throws ConflictProblem otherwise. */
  replaceJournal(
    namespace: string,
    name: string,
    journal: MigrationJournal,
    resourceVersion: string,
  ): Promise<StoredJournal>;
  deleteJournal(namespace: string, name: string): Promise<void>;
  /** Every journal pvmove wrote, in one namespace or (undefined) all of them. */
  listJournals(namespace?: string): Promise<JournalEntry[]>;
  /** The claim's lock (src/core/lock.ts): a coordination.k8s.io/v1 Lease. */
  getLease(namespace: string, name: string): Promise<LeaseRecord | undefined>;
  /** Throws ConflictProblem if it exists already. */
  createLease(lease: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces it if lease.resourceVersion still matches (ConflictProblem otherwise); undefined if it is gone. */
  replaceLease(lease: LeaseRecord): Promise<LeaseRecord | undefined>;
  /** Deletes it only if uid and resourceVersion still match: false if they do not (someone took it). */
  deleteLease(namespace: string, name: string, uid: string, resourceVersion: string): Promise<boolean>;
  /** Server-side dry run of a Pod creation: admission (PodSecurity, webhooks) decides; nothing is stored. */
  dryRunCreatePod(pod: Pod): Promise<void>;
  /** Which of these permissions the current user lacks (SelfSubjectAccessReview each). */
  missingPermissions(checks: AccessCheck[]): Promise<AccessCheck[]>;
  /** Events about an object, newest last. */
  listEvents(namespace: string, kind: string, name: string): Promise<KubeEvent[]>;

  getPvc(namespace: string, name: string): Promise<Pvc | undefined>;
  /** Claims of a namespace (or, undefined, of all), optionally by label selector. */
  listPvcs(namespace: string | undefined, labelSelector?: string): Promise<Pvc[]>;
  getPv(name: string): Promise<Pv | undefined>;
  /** Every PersistentVolume (node-local classes: which PVs are free, where, of which size and mode). */
  listPvs(): Promise<Pv[]>;
  /** A node's labels (its topology: hostname, zone, region), or undefined if it does not exist. */
  getNodeLabels(name: string): Promise<Record<string, string> | undefined>;
  getPod(namespace: string, name: string): Promise<Pod | undefined>;
  getStorageClass(name: string): Promise<StorageClass | undefined>;
  /**
   * The pods of a namespace. `cached`: as the API server's watch cache has them, at once; a
   * consistent list (the default) can wait up to ~0.1 s for that cache to catch up with etcd, which,
   * after every look of a step, is time the application is down. A cached list may lag by moments,
   * so what deletes or copies on "no pod uses the claim" asks for a consistent one right before.
   */
  listPods(namespace: string, opts?: { cached?: boolean }): Promise<Pod[]>;
  listReplicaSets(namespace: string): Promise<Workload[]>;
  listJobs(namespace: string): Promise<Workload[]>;
  listHpas(namespace: string): Promise<Hpa[]>;
  /** Workloads whose pod template mounts the claim, even with no pod running (a CronJob between runs). */
  listTemplateOwners(namespace: string, claim: string): Promise<OwnerId[]>;
  getOwnerState(namespace: string, owner: OwnerId): Promise<OwnerState>;
  /** A StatefulSet's volumeClaimTemplates (name and class), to warn about template drift. */
  getClaimTemplates(namespace: string, statefulSet: string): Promise<ClaimTemplate[]>;
  /** The StatefulSet without server-owned fields (uid kept, to delete exactly this one). */
  getStatefulSet(namespace: string, name: string): Promise<StatefulSetManifest | undefined>;
  /** Deletes it with propagationPolicy Orphan (its pods, claims and revisions stay) if its uid matches. */
  deleteStatefulSetOrphaning(namespace: string, name: string, uid: string): Promise<void>;
  createStatefulSet(manifest: StatefulSetManifest): Promise<StatefulSetManifest>;
  scaleOwner(namespace: string, owner: OwnerId, replicas: number): Promise<void>;
  setSuspend(namespace: string, owner: OwnerId, suspend: boolean): Promise<void>;
  /** A StatefulSet's persistentVolumeClaimRetentionPolicy.whenScaled (merge patch: whenDeleted stays). */
  setClaimRetentionWhenScaled(namespace: string, statefulSet: string, whenScaled: string): Promise<void>;

  createPvc(pvc: Pvc): Promise<Pvc>;
  /** Deletes with a uid precondition when given, so a claim re-created by someone else is never hit. */
  deletePvc(namespace: string, name: string, uid?: string): Promise<void>;
  /**
   * Sets a claim's finalizers if it is still at `resourceVersion` (claim-protection.ts): false when
   * it changed or went meanwhile, or the user may not patch claims, and the controller is left to it.
   */
  setClaimFinalizers(
    namespace: string,
    name: string,
    resourceVersion: string,
    finalizers: string[],
  ): Promise<boolean>;
  createPod(pod: Pod): Promise<Pod>;
  /**
   * gracePeriodSeconds 0 removes the pod object at once, without waiting for the kubelet: only for
   * a pod whose work is over (a copy pod after its verdict), so its claims are freed sooner.
   */
  deletePod(namespace: string, name: string, opts?: { gracePeriodSeconds?: number }): Promise<void>;
  /** Merge-patches the pod's annotations. */
  annotatePod(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  patchPv(name: string, mergePatch: object): Promise<Pv>;
  deletePv(name: string): Promise<void>;
  readPodLog(
    namespace: string,
    name: string,
    opts: { limitBytes?: number; tailLines?: number; container?: string },
  ): Promise<string>;
  /**
   * Follows the running pod's log: `onLine` gets each line as the container writes it, until the
   * returned stop is called or the stream ends. Only a hint that it is worth reading the log now
   * (a follow that stalls or is refused changes nothing: the reads go on at their own pace).
   */
  followPodLog?(namespace: string, name: string, onLine: (line: string) => void): () => void;

  /** Polls `probe` until it returns a value; fails with a TimeoutProblem naming `what`. */
  waitFor<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
    opts?: WaitOptions,
  ): Promise<T>;
}

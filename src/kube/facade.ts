// The cluster facade: ClusterPort (src/core/cluster.ts) over @kubernetes/client-node. Every call is
// named in its error ("patch PersistentVolume pvc-123: 403 ..."), transient failures are retried,
// and client objects are handed to the core as plain shapes.
import { Writable } from 'node:stream';
import {
  AppsV1Api,
  AuthorizationV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  Log,
  PatchStrategy,
  StorageV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1ConfigMap,
  type V1Lease,
  type V1PodSpec,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type {
  AccessCheck,
  ClaimTemplate,
  ClusterPort,
  KubeEvent,
  StoredJournal,
  WaitOptions,
} from '../core/cluster.js';
import { JOURNAL_KEY, LABEL_MANAGED_BY, LABEL_PREFIX, LABEL_ROLE, MANAGED_BY } from '../core/defaults.js';
import type { JournalEntry } from '../core/status.js';
import type { LeaseRecord } from '../core/lock.js';
import { ConflictProblem, StepProblem } from '../core/errors.js';
import { parseJournal, serializeJournal, type MigrationJournal } from '../core/journal.js';
import { podMountsClaim } from '../core/owners.js';
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
} from '../core/types.js';
import { isConflict, isNotFound, isTransient, KubeApiError, statusCode } from './errors.js';
import { sleep } from '../core/sleep.js';
import { waitFor } from './wait.js';
import { watchWaker } from './watch-waker.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Client objects are classes with Date fields; the core wants plain shapes. */
const plain = <T>(obj: unknown): T => obj as T;

function templateMounts(spec: V1PodSpec | undefined, claim: string): boolean {
  return podMountsClaim({ metadata: {}, spec: plain<Pod['spec']>(spec) }, claim);
}

/** MicroTimes come back as strings (the client has no deserializer for them), or Dates. */
function timeText(t: unknown): string | undefined {
  if (t === undefined || t === null) return undefined;
  return t instanceof Date ? t.toISOString() : String(t);
}

function toLeaseRecord(l: V1Lease): LeaseRecord {
  const m = l.metadata ?? {};
  const s = l.spec ?? {};
  return {
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
    ...(s.holderIdentity ? { holderIdentity: s.holderIdentity } : {}),
    ...(s.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: s.leaseDurationSeconds } : {}),
    ...(s.acquireTime ? { acquireTime: timeText(s.acquireTime) } : {}),
    ...(s.renewTime ? { renewTime: timeText(s.renewTime) } : {}),
    ...(s.leaseTransitions !== undefined ? { leaseTransitions: s.leaseTransitions } : {}),
  };
}

/** The times are sent as the strings the core formatted (six fractional digits, as MicroTime wants). */
function leaseBody(r: LeaseRecord): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: r.name,
      namespace: r.namespace,
      ...(r.uid ? { uid: r.uid } : {}),
      ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}),
      ...(r.labels ? { labels: r.labels } : {}),
      ...(r.annotations ? { annotations: r.annotations } : {}),
    },
    spec: plain<V1Lease['spec']>({
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: r.acquireTime,
      renewTime: r.renewTime,
      leaseTransitions: r.leaseTransitions,
    }),
  };
}

export class KubeCluster implements ClusterPort {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly autoscaling: AutoscalingV2Api;
  private readonly storage: StorageV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly coordination: CoordinationV1Api;

  constructor(private readonly kc: KubeConfig) {
    this.authz = kc.makeApiClient(AuthorizationV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.autoscaling = kc.makeApiClient(AutoscalingV2Api);
    this.storage = kc.makeApiClient(StorageV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  /** Runs an API call, retrying transient errors, and names it in any error. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt < 4 && isTransient(err)) {
          await sleep(500 * 2 ** attempt);
          continue;
        }
        throw new KubeApiError(what, err);
      }
    }
  }

  /** A read that maps 404 to undefined. */
  private async get<T>(what: string, fn: () => Promise<unknown>): Promise<T | undefined> {
    try {
      return plain<T>(await this.call(what, fn));
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  // --- journal -------------------------------------------------------------------------------

  private toStored(cm: V1ConfigMap): StoredJournal {
    const text = cm.data?.[JOURNAL_KEY];
    if (text === undefined) throw new StepProblem(`ConfigMap ${cm.metadata?.name} has no ${JOURNAL_KEY}`);
    return { document: parseJournal(text), resourceVersion: cm.metadata?.resourceVersion ?? '' };
  }

  private journalConfigMap(
    namespace: string,
    name: string,
    labels: Labels,
    journal: MigrationJournal,
    rv?: string,
  ): V1ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace,
        labels,
        annotations: { [`${LABEL_PREFIX}/schema-version`]: String(journal.schemaVersion) },
        ...(rv ? { resourceVersion: rv } : {}),
      },
      data: { [JOURNAL_KEY]: serializeJournal(journal) },
    };
  }

  async readJournal(namespace: string, name: string): Promise<StoredJournal | undefined> {
    const cm = await this.get<V1ConfigMap>(`get ConfigMap ${namespace}/${name}`, () =>
      this.core.readNamespacedConfigMap({ name, namespace }),
    );
    return cm ? this.toStored(cm) : undefined;
  }

  async createJournal(
    namespace: string,
    name: string,
    labels: Labels,
    journal: MigrationJournal,
  ): Promise<StoredJournal> {
    try {
      const cm = await this.core.createNamespacedConfigMap({
        namespace,
        body: this.journalConfigMap(namespace, name, labels, journal),
      });
      return this.toStored(cm);
    } catch (err) {
      // Another run created it first: one migration per claim (invariant 9).
      if (isConflict(err))
        throw new StepProblem(`journal ${namespace}/${name} was created by another run at the same time`);
      throw new KubeApiError(`create ConfigMap ${namespace}/${name}`, err);
    }
  }

  async replaceJournal(
    namespace: string,
    name: string,
    journal: MigrationJournal,
    resourceVersion: string,
  ): Promise<StoredJournal> {
    // One merge patch, not a read (for the labels) and a replace: a journal write happens twice per
    // step. The resourceVersion in the patch keeps it optimistic: a stale one fails with 409.
    const patch = {
      metadata: {
        resourceVersion,
        annotations: { [`${LABEL_PREFIX}/schema-version`]: String(journal.schemaVersion) },
      },
      data: { [JOURNAL_KEY]: serializeJournal(journal) },
    };
    try {
      const cm = await this.core.patchNamespacedConfigMap({ name, namespace, body: patch }, mergePatch);
      return this.toStored(cm);
    } catch (err) {
      if (isConflict(err)) throw new ConflictProblem(`journal ${namespace}/${name}`);
      throw new KubeApiError(`patch ConfigMap ${namespace}/${name}`, err);
    }
  }

  async deleteJournal(namespace: string, name: string): Promise<void> {
    await this.deleteIgnoringMissing(`delete ConfigMap ${namespace}/${name}`, () =>
      this.core.deleteNamespacedConfigMap({ name, namespace }),
    );
  }

  async listJournals(namespace?: string): Promise<JournalEntry[]> {
    const labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_ROLE}=journal`;
    const list = await this.call(`list ConfigMaps${namespace ? ` in ${namespace}` : ''}`, () =>
      namespace
        ? this.core.listNamespacedConfigMap({ namespace, labelSelector })
        : this.core.listConfigMapForAllNamespaces({ labelSelector }),
    );
    return list.items.map((cm) => {
      const entry = { namespace: cm.metadata?.namespace ?? '', name: cm.metadata?.name ?? '' };
      try {
        return { ...entry, document: this.toStored(cm).document };
      } catch (err) {
        return { ...entry, error: (err as Error).message };
      }
    });
  }

  // --- claim lock ----------------------------------------------------------------------------

  async getLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    const lease = await this.get<V1Lease>(`get Lease ${namespace}/${name}`, () =>
      this.coordination.readNamespacedLease({ name, namespace }),
    );
    return lease ? toLeaseRecord(lease) : undefined;
  }

  async createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    const { namespace, name } = lease;
    try {
      return toLeaseRecord(
        await this.call(`create Lease ${namespace}/${name}`, () =>
          this.coordination.createNamespacedLease({ namespace, body: leaseBody(lease) }),
        ),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409)
        throw new ConflictProblem(`Lease ${namespace}/${name}`);
      throw err;
    }
  }

  async replaceLease(lease: LeaseRecord): Promise<LeaseRecord | undefined> {
    const { namespace, name } = lease;
    try {
      return toLeaseRecord(
        await this.call(`update Lease ${namespace}/${name}`, () =>
          this.coordination.replaceNamespacedLease({ name, namespace, body: leaseBody(lease) }),
        ),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409)
        throw new ConflictProblem(`Lease ${namespace}/${name}`);
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  async deleteLease(namespace: string, name: string, uid: string, resourceVersion: string): Promise<boolean> {
    try {
      await this.call(`delete Lease ${namespace}/${name}`, () =>
        this.coordination.deleteNamespacedLease({
          name,
          namespace,
          body: { preconditions: { uid, resourceVersion } },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return true;
      if (err instanceof KubeApiError && err.code === 409) return false;
      throw err;
    }
  }

  // --- preflight checks ------------------------------------------------------------------------

  async dryRunCreatePod(pod: Pod): Promise<void> {
    const namespace = pod.metadata.namespace ?? '';
    await this.call(`create Pod ${namespace}/${pod.metadata.name} (dry run)`, () =>
      this.core.createNamespacedPod({ namespace, body: plain(pod), dryRun: 'All' }),
    );
  }

  async missingPermissions(checks: AccessCheck[]): Promise<AccessCheck[]> {
    const answers = await Promise.all(
      checks.map(async (c) => {
        const review = await this.call(`create SelfSubjectAccessReview (${c.verb} ${c.resource})`, () =>
          this.authz.createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: {
                resourceAttributes: {
                  verb: c.verb,
                  group: c.group,
                  resource: c.resource,
                  ...(c.subresource ? { subresource: c.subresource } : {}),
                  ...(c.namespace ? { namespace: c.namespace } : {}),
                },
              },
            },
          }),
        );
        return review.status?.allowed ? undefined : c;
      }),
    );
    return answers.filter((c): c is AccessCheck => c !== undefined);
  }

  async listEvents(namespace: string, kind: string, name: string): Promise<KubeEvent[]> {
    const list = await this.call(`list Events in ${namespace}`, () =>
      this.core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
      }),
    );
    const time = (e: (typeof list.items)[number]): number =>
      new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime();
    return [...list.items]
      .sort((a, b) => time(a) - time(b))
      .map((e) => ({ type: e.type, reason: e.reason, message: e.message }));
  }

  // --- reads -----------------------------------------------------------------------------------

  getPvc(namespace: string, name: string): Promise<Pvc | undefined> {
    return this.get(`get PersistentVolumeClaim ${namespace}/${name}`, () =>
      this.core.readNamespacedPersistentVolumeClaim({ name, namespace }),
    );
  }

  getPv(name: string): Promise<Pv | undefined> {
    return this.get(`get PersistentVolume ${name}`, () => this.core.readPersistentVolume({ name }));
  }

  async listPvcs(namespace: string | undefined, labelSelector?: string): Promise<Pvc[]> {
    const list = await this.call(`list PersistentVolumeClaims${namespace ? ` in ${namespace}` : ''}`, () =>
      namespace
        ? this.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector })
        : this.core.listPersistentVolumeClaimForAllNamespaces({ labelSelector }),
    );
    return plain<Pvc[]>(list.items);
  }

  async getNodeLabels(name: string): Promise<Record<string, string> | undefined> {
    const node = await this.get<{ metadata?: { labels?: Record<string, string> } }>(`get Node ${name}`, () =>
      this.core.readNode({ name }),
    );
    return node ? (node.metadata?.labels ?? {}) : undefined;
  }

  async listPvs(): Promise<Pv[]> {
    const list = await this.call('list PersistentVolumes', () => this.core.listPersistentVolume());
    return plain<Pv[]>(list.items);
  }

  getPod(namespace: string, name: string): Promise<Pod | undefined> {
    return this.get(`get Pod ${namespace}/${name}`, () => this.core.readNamespacedPod({ name, namespace }));
  }

  getStorageClass(name: string): Promise<StorageClass | undefined> {
    return this.get(`get StorageClass ${name}`, () => this.storage.readStorageClass({ name }));
  }

  async listPods(namespace: string, opts: { cached?: boolean } = {}): Promise<Pod[]> {
    // resourceVersion "0": any version the API server has, served from its cache without the wait.
    const list = await this.call(`list Pods in ${namespace}`, () =>
      this.core.listNamespacedPod({ namespace, ...(opts.cached ? { resourceVersion: '0' } : {}) }),
    );
    return plain<Pod[]>(list.items);
  }

  async listReplicaSets(namespace: string): Promise<Workload[]> {
    const list = await this.call(`list ReplicaSets in ${namespace}`, () =>
      this.apps.listNamespacedReplicaSet({ namespace }),
    );
    return list.items.map((i) => ({
      kind: 'ReplicaSet',
      metadata: plain<Workload['metadata']>(i.metadata ?? {}),
    }));
  }

  async listJobs(namespace: string): Promise<Workload[]> {
    const list = await this.call(`list Jobs in ${namespace}`, () =>
      this.batch.listNamespacedJob({ namespace }),
    );
    return list.items.map((i) => ({ kind: 'Job', metadata: plain<Workload['metadata']>(i.metadata ?? {}) }));
  }

  async listHpas(namespace: string): Promise<Hpa[]> {
    const list = await this.call(`list HorizontalPodAutoscalers in ${namespace}`, () =>
      this.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }),
    );
    return plain<Hpa[]>(list.items);
  }

  async listTemplateOwners(namespace: string, claim: string): Promise<OwnerId[]> {
    const [deployments, statefulSets, cronJobs] = await Promise.all([
      this.call(`list Deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace })),
      this.call(`list StatefulSets in ${namespace}`, () =>
        this.apps.listNamespacedStatefulSet({ namespace }),
      ),
      this.call(`list CronJobs in ${namespace}`, () => this.batch.listNamespacedCronJob({ namespace })),
    ]);
    const out: OwnerId[] = [];
    // Only those that could start a pod during the move: replicas > 0, or a CronJob not suspended.
    for (const d of deployments.items) {
      if ((d.spec?.replicas ?? 1) > 0 && templateMounts(d.spec?.template.spec, claim)) {
        out.push({ kind: 'Deployment', name: d.metadata?.name ?? '' });
      }
    }
    for (const s of statefulSets.items) {
      if ((s.spec?.replicas ?? 1) > 0 && templateMounts(s.spec?.template.spec, claim)) {
        out.push({ kind: 'StatefulSet', name: s.metadata?.name ?? '' });
      }
    }
    for (const c of cronJobs.items) {
      if (!c.spec?.suspend && templateMounts(c.spec?.jobTemplate.spec?.template.spec, claim)) {
        out.push({ kind: 'CronJob', name: c.metadata?.name ?? '' });
      }
    }
    return out;
  }

  async getOwnerState(namespace: string, owner: OwnerId): Promise<OwnerState> {
    const { kind, name } = owner;
    const what = `get ${kind} ${namespace}/${name}`;
    const args = { name, namespace };
    type Scalable = { spec?: { replicas?: number }; status?: { readyReplicas?: number } };
    type Suspendable = { spec?: { suspend?: boolean } };
    const scalable = (o: Scalable | undefined): OwnerState =>
      o
        ? {
            kind,
            name,
            exists: true,
            replicas: o.spec?.replicas ?? 1,
            readyReplicas: o.status?.readyReplicas ?? 0,
          }
        : { kind, name, exists: false };
    const suspendable = (o: Suspendable | undefined): OwnerState =>
      o ? { kind, name, exists: true, suspend: o.spec?.suspend ?? false } : { kind, name, exists: false };
    switch (kind) {
      case 'Deployment':
        return scalable(await this.get<Scalable>(what, () => this.apps.readNamespacedDeployment(args)));
      case 'StatefulSet': {
        type Retention = { spec?: { persistentVolumeClaimRetentionPolicy?: { whenScaled?: string } } };
        const set = await this.get<Scalable & Retention>(what, () =>
          this.apps.readNamespacedStatefulSet(args),
        );
        // Unset before the policy existed (and when its feature gate is off): claims are retained.
        const whenScaled = set?.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain';
        return set ? { ...scalable(set), pvcRetentionWhenScaled: whenScaled } : scalable(set);
      }
      case 'ReplicaSet':
        return scalable(await this.get<Scalable>(what, () => this.apps.readNamespacedReplicaSet(args)));
      case 'ReplicationController':
        return scalable(
          await this.get<Scalable>(what, () => this.core.readNamespacedReplicationController(args)),
        );
      case 'Job':
        return suspendable(await this.get<Suspendable>(what, () => this.batch.readNamespacedJob(args)));
      case 'CronJob':
        return suspendable(await this.get<Suspendable>(what, () => this.batch.readNamespacedCronJob(args)));
    }
  }

  async getClaimTemplates(namespace: string, statefulSet: string): Promise<ClaimTemplate[]> {
    const sts = await this.get<{ spec?: { volumeClaimTemplates?: Pvc[] } }>(
      `get StatefulSet ${namespace}/${statefulSet}`,
      () => this.apps.readNamespacedStatefulSet({ name: statefulSet, namespace }),
    );
    return (sts?.spec?.volumeClaimTemplates ?? []).map((t) => ({
      name: t.metadata.name ?? '',
      storageClassName: t.spec?.storageClassName,
      storage: t.spec?.resources?.requests?.storage,
    }));
  }

  async getStatefulSet(namespace: string, name: string): Promise<StatefulSetManifest | undefined> {
    const sts = await this.get<StatefulSetManifest>(`get StatefulSet ${namespace}/${name}`, () =>
      this.apps.readNamespacedStatefulSet({ name, namespace }),
    );
    if (!sts) return undefined;
    const m = sts.metadata;
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        ...(m.labels ? { labels: m.labels } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      },
      spec: sts.spec,
    };
  }

  async deleteStatefulSetOrphaning(namespace: string, name: string, uid: string): Promise<void> {
    await this.deleteIgnoringMissing(
      `delete StatefulSet ${namespace}/${name} (orphaning its pods and claims)`,
      () =>
        this.apps.deleteNamespacedStatefulSet({
          name,
          namespace,
          body: { propagationPolicy: 'Orphan', preconditions: { uid } },
        }),
    );
  }

  async createStatefulSet(manifest: StatefulSetManifest): Promise<StatefulSetManifest> {
    const ns = manifest.metadata.namespace ?? '';
    const { uid: _uid, ...metadata } = manifest.metadata;
    const created = await this.call(`create StatefulSet ${ns}/${manifest.metadata.name ?? ''}`, () =>
      this.apps.createNamespacedStatefulSet({
        namespace: ns,
        body: { ...manifest, metadata } as unknown as V1StatefulSet,
      }),
    );
    return plain<StatefulSetManifest>(created);
  }

  // --- writes ----------------------------------------------------------------------------------

  async scaleOwner(namespace: string, owner: OwnerId, replicas: number): Promise<void> {
    const req = { name: owner.name, namespace, body: { spec: { replicas } } };
    const what = `scale ${owner.kind} ${namespace}/${owner.name} to ${replicas}`;
    switch (owner.kind) {
      case 'Deployment':
        await this.call(what, () => this.apps.patchNamespacedDeploymentScale(req, mergePatch));
        return;
      case 'StatefulSet':
        await this.call(what, () => this.apps.patchNamespacedStatefulSetScale(req, mergePatch));
        return;
      case 'ReplicaSet':
        await this.call(what, () => this.apps.patchNamespacedReplicaSetScale(req, mergePatch));
        return;
      case 'ReplicationController':
        await this.call(what, () => this.core.patchNamespacedReplicationControllerScale(req, mergePatch));
        return;
      default:
        throw new StepProblem(`${owner.kind} ${owner.name} cannot be scaled`);
    }
  }

  async setSuspend(namespace: string, owner: OwnerId, suspend: boolean): Promise<void> {
    const req = { name: owner.name, namespace, body: { spec: { suspend } } };
    const what = `set suspend=${suspend} on ${owner.kind} ${namespace}/${owner.name}`;
    if (owner.kind === 'Job') await this.call(what, () => this.batch.patchNamespacedJob(req, mergePatch));
    else if (owner.kind === 'CronJob')
      await this.call(what, () => this.batch.patchNamespacedCronJob(req, mergePatch));
    else throw new StepProblem(`${owner.kind} ${owner.name} cannot be suspended`);
  }

  async setClaimRetentionWhenScaled(
    namespace: string,
    statefulSet: string,
    whenScaled: string,
  ): Promise<void> {
    const body = { spec: { persistentVolumeClaimRetentionPolicy: { whenScaled } } };
    await this.call(
      `set persistentVolumeClaimRetentionPolicy.whenScaled=${whenScaled} on StatefulSet ${namespace}/${statefulSet}`,
      () => this.apps.patchNamespacedStatefulSet({ name: statefulSet, namespace, body }, mergePatch),
    );
  }

  async createPvc(pvc: Pvc): Promise<Pvc> {
    const namespace = pvc.metadata.namespace ?? '';
    const what = `create PersistentVolumeClaim ${namespace}/${pvc.metadata.name}`;
    try {
      return plain<Pvc>(
        await this.core.createNamespacedPersistentVolumeClaim({ namespace, body: plain(pvc) }),
      );
    } catch (err) {
      if (isConflict(err)) throw new StepProblem(`${what}: it already exists`);
      throw new KubeApiError(what, err);
    }
  }

  async deletePvc(namespace: string, name: string, uid?: string): Promise<void> {
    const what = `delete PersistentVolumeClaim ${namespace}/${name}`;
    try {
      await this.core.deleteNamespacedPersistentVolumeClaim({
        name,
        namespace,
        ...(uid ? { body: { preconditions: { uid } } } : {}),
      });
    } catch (err) {
      if (isNotFound(err)) return;
      // The uid precondition failed: the name now belongs to another claim; leave it alone.
      if (isConflict(err))
        throw new StepProblem(`${what}: the claim was replaced by another one (uid differs)`);
      throw new KubeApiError(what, err);
    }
  }

  async setClaimFinalizers(
    namespace: string,
    name: string,
    resourceVersion: string,
    finalizers: string[],
  ): Promise<boolean> {
    // resourceVersion in a merge patch is a precondition: a claim changed since it was read is left
    // alone (409), as one that went (404) or that this user may not patch (403).
    const body = { metadata: { resourceVersion, finalizers } };
    try {
      await this.core.patchNamespacedPersistentVolumeClaim({ name, namespace, body }, mergePatch);
      return true;
    } catch (err) {
      if ([403, 404, 409].includes(statusCode(err) ?? 0)) return false;
      throw new KubeApiError(`set the finalizers of PersistentVolumeClaim ${namespace}/${name}`, err);
    }
  }

  async createPod(pod: Pod): Promise<Pod> {
    const namespace = pod.metadata.namespace ?? '';
    const what = `create Pod ${namespace}/${pod.metadata.name}`;
    try {
      return plain<Pod>(await this.core.createNamespacedPod({ namespace, body: plain(pod) }));
    } catch (err) {
      if (isConflict(err)) throw new StepProblem(`${what}: it already exists`);
      throw new KubeApiError(what, err);
    }
  }

  async deletePod(
    namespace: string,
    name: string,
    opts: { gracePeriodSeconds?: number } = {},
  ): Promise<void> {
    await this.deleteIgnoringMissing(`delete Pod ${namespace}/${name}`, () =>
      this.core.deleteNamespacedPod({ name, namespace, ...opts }),
    );
  }

  async annotatePod(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    await this.call(`annotate Pod ${namespace}/${name}`, () =>
      this.core.patchNamespacedPod({ name, namespace, body: { metadata: { annotations } } }, mergePatch),
    );
  }

  async patchPv(name: string, patch: object): Promise<Pv> {
    return plain<Pv>(
      await this.call(`patch PersistentVolume ${name}`, () =>
        this.core.patchPersistentVolume({ name, body: patch }, mergePatch),
      ),
    );
  }

  async deletePv(name: string): Promise<void> {
    await this.deleteIgnoringMissing(`delete PersistentVolume ${name}`, () =>
      this.core.deletePersistentVolume({ name }),
    );
  }

  async readPodLog(
    namespace: string,
    name: string,
    opts: { limitBytes?: number; tailLines?: number; container?: string },
  ): Promise<string> {
    return this.call(`read log of Pod ${namespace}/${name}`, () =>
      this.core.readNamespacedPodLog({ name, namespace, ...opts }),
    );
  }

  followPodLog(namespace: string, name: string, onLine: (line: string) => void): () => void {
    let stopped = false;
    let follow: AbortController | undefined;
    let partial = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
        done();
      },
    });
    // The client pipes the response into the sink and leaves the response's own stream without an
    // error listener: stopping the follow (an abort) would be an uncaught error without this one.
    sink.on('pipe', (source: NodeJS.ReadableStream) => source.on('error', () => undefined));
    sink.on('error', () => undefined);
    // The pod's only container ('' lets the API server pick it); every line from its start, so a
    // line written just before the follow began is seen too.
    new Log(this.kc)
      .log(namespace, name, '', sink, { follow: true })
      .then((c) => (stopped ? c.abort() : (follow = c)))
      .catch(() => undefined);
    return () => {
      stopped = true;
      follow?.abort();
    };
  }

  waitFor<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
    opts?: WaitOptions,
  ): Promise<T> {
    const wakeOn = opts?.wakeOn ?? [];
    return waitFor(what, timeoutMs, probe, opts, wakeOn.length > 0 ? watchWaker(this.kc, wakeOn) : undefined);
  }

  private async deleteIgnoringMissing(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(what, fn);
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return;
      throw err;
    }
  }
}

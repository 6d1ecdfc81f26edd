// An in-memory cluster for orchestration tests: it implements ClusterPort and a crude PV
// controller (provisioning, binding, release, reclaim), workload controllers (replicas -> pods,
// suspend) and a copy pod that finishes according to a script. Enough to walk the whole itinerary,
// fail it midway and resume it; the real behaviour is checked by the e2e tests on the test bed.
import type {
  AccessCheck,
  ClusterPort,
  KubeEvent,
  StoredJournal,
  WaitOptions,
} from '../../src/core/cluster.js';
import type { JournalEntry } from '../../src/core/status.js';
import type { LeaseRecord } from '../../src/core/lock.js';
import { ConflictProblem, StepProblem, TimeoutProblem } from '../../src/core/errors.js';
import {
  claimJournal,
  parseJournal,
  serializeJournal,
  type Journal,
  type MigrationJournal,
} from '../../src/core/journal.js';
import { compareQuantities } from '../../src/core/quantity.js';
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
} from '../../src/core/types.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export interface FakeOwner {
  kind: 'Deployment';
  name: string;
  replicas: number;
  claim: string;
}

export class FakeCluster implements ClusterPort {
  pvcs = new Map<string, Pvc>();
  pvs = new Map<string, Pv>();
  pods = new Map<string, Pod>();
  journals = new Map<string, { text: string; rv: number; labels: Labels }>();
  classes = new Map<string, StorageClass>();
  deployments = new Map<string, FakeOwner>();
  /** What the copy pod does: 'ok', or a failure with its log. */
  copyOutcome: { ok: true } | { ok: false; log: string } = { ok: true };
  copyPodsCreated = 0;
  calls: string[] = [];
  private seq = 0;
  /** Runs once in the controller loop, for tests that interfere (e.g. someone takes the name). */
  onTick?: (c: FakeCluster) => void;

  constructor() {
    this.classes.set('standard', {
      metadata: { name: 'standard' },
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    this.classes.set('fast', { metadata: { name: 'fast' }, volumeBindingMode: 'Immediate' });
  }

  key(ns: string, name: string): string {
    return `${ns}/${name}`;
  }

  uid(): string {
    return `uid-${++this.seq}`;
  }

  /** A bound claim with its PV, and a Deployment using it. */
  seed(ns = 'shop', claim = 'data', replicas = 2): void {
    const pvName = 'pv-source';
    this.pvs.set(pvName, {
      metadata: { name: pvName },
      spec: {
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'standard',
        capacity: { storage: '1Gi' },
        claimRef: { namespace: ns, name: claim, uid: 'uid-original' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'h', operator: 'In', values: ['n1'] }] }],
          },
        },
      },
      status: { phase: 'Bound' },
    });
    this.pvcs.set(this.key(ns, claim), {
      metadata: {
        name: claim,
        namespace: ns,
        uid: 'uid-original',
        labels: { app: 'web' },
        annotations: { 'pv.kubernetes.io/bind-completed': 'yes' },
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        volumeMode: 'Filesystem',
        storageClassName: 'standard',
        volumeName: pvName,
        resources: { requests: { storage: '1Gi' } },
      },
      status: { phase: 'Bound' },
    });
    this.deployments.set(this.key(ns, 'web'), { kind: 'Deployment', name: 'web', replicas, claim });
    this.tick();
  }

  /** One pass of every controller. */
  tick(): void {
    this.onTick?.(this);
    // Deployments: replicas -> pods (ReplicaSet skipped: the pod's owner is the ReplicaSet web-rs).
    for (const [k, d] of this.deployments) {
      const ns = k.split('/')[0] ?? '';
      const mine = [...this.pods.values()].filter(
        (p) => p.metadata.namespace === ns && p.metadata.name?.startsWith(`${d.name}-pod-`),
      );
      for (const p of mine.slice(d.replicas)) this.pods.delete(this.key(ns, p.metadata.name ?? ''));
      for (let i = mine.length; i < d.replicas; i++) {
        const claim = this.pvcs.get(this.key(ns, d.claim));
        this.pods.set(this.key(ns, `${d.name}-pod-${i}`), {
          metadata: {
            name: `${d.name}-pod-${i}`,
            namespace: ns,
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: `${d.name}-rs`,
                uid: 'rs',
                controller: true,
              },
            ],
          },
          spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: d.claim } }] },
          status: { phase: claim?.status?.phase === 'Bound' ? 'Running' : 'Pending' },
        });
      }
    }
    // Copy pods finish at once.
    for (const p of this.pods.values()) {
      if (p.metadata.labels?.['pvmove.kubectl.io/role'] === 'copy-pod' && p.status?.phase === 'Pending') {
        p.status = { phase: this.copyOutcome.ok ? 'Succeeded' : 'Failed' };
      }
    }
    // PV controller: provision (Immediate, or WaitForFirstConsumer with a pod), bind, release, reclaim.
    for (const pvc of this.pvcs.values()) {
      if (pvc.status?.phase === 'Bound') continue;
      const ns = pvc.metadata.namespace ?? '';
      if (!pvc.spec?.volumeName) {
        // As the real controller's FindMatchingVolume: a PV pre-bound to this claim's name (claimRef
        // without uid) that is big enough is taken first, before the class is even looked at.
        const prebound = [...this.pvs.entries()].find(([, v]) => {
          const r = v.spec?.claimRef;
          const size = pvc.spec?.resources?.requests?.storage ?? '0';
          return (
            r?.name === pvc.metadata.name &&
            r?.namespace === ns &&
            !r?.uid &&
            (v.status?.phase ?? 'Available') === 'Available' &&
            compareQuantities(v.spec?.capacity?.storage ?? '0', size) >= 0
          );
        });
        if (prebound) {
          const [pvName, pv] = prebound;
          pv.spec = { ...pv.spec, claimRef: { ...pv.spec?.claimRef, uid: pvc.metadata.uid } };
          pv.status = { phase: 'Bound' };
          pvc.spec = { ...pvc.spec, volumeName: pvName };
          pvc.status = { phase: 'Bound' };
          continue;
        }
        const sc = this.classes.get(pvc.spec?.storageClassName ?? '');
        const consumer = [...this.pods.values()].some((p) =>
          p.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === pvc.metadata.name),
        );
        if (!sc || (sc.volumeBindingMode === 'WaitForFirstConsumer' && !consumer)) continue;
        const name = `pv-new-${++this.seq}`;
        this.pvs.set(name, {
          metadata: { name },
          spec: {
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: pvc.spec?.storageClassName,
            capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
            claimRef: { namespace: ns, name: pvc.metadata.name, uid: pvc.metadata.uid },
          },
          status: { phase: 'Bound' },
        });
        pvc.spec = { ...pvc.spec, volumeName: name };
        pvc.status = { phase: 'Bound' };
        continue;
      }
      const pv = this.pvs.get(pvc.spec.volumeName);
      const ref = pv?.spec?.claimRef;
      if (
        pv &&
        ref &&
        ref.name === pvc.metadata.name &&
        ref.namespace === ns &&
        (!ref.uid || ref.uid === pvc.metadata.uid)
      ) {
        pv.spec = { ...pv.spec, claimRef: { ...ref, uid: pvc.metadata.uid } };
        pv.status = { phase: 'Bound' };
        pvc.status = { phase: 'Bound' };
      }
    }
    for (const [name, pv] of this.pvs) {
      const ref = pv.spec?.claimRef;
      if (!ref?.uid) {
        if (ref && pv.status?.phase === 'Released') pv.status = { phase: 'Available' };
        continue;
      }
      const claim = this.pvcs.get(this.key(ref.namespace ?? '', ref.name ?? ''));
      if (!claim || claim.metadata.uid !== ref.uid) {
        if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete') this.pvs.delete(name);
        else pv.status = { phase: 'Released' };
      }
    }
  }

  /** The stored journal of a claim, as that claim's view (tests read what a step wrote). */
  journalOf(ns: string, claim: string): Journal | undefined {
    const stored = this.journals.get(this.key(ns, `pvmove-${claim}`));
    return stored ? claimJournal(parseJournal(stored.text), claim) : undefined;
  }

  /** Rewrites the stored journal (tests play someone editing the ConfigMap). */
  editJournal(ns: string, claim: string, edit: (doc: MigrationJournal) => MigrationJournal): void {
    const stored = this.journals.get(this.key(ns, `pvmove-${claim}`));
    if (stored) stored.text = serializeJournal(edit(parseJournal(stored.text)));
  }

  // --- ClusterPort ---------------------------------------------------------------------------

  async readJournal(ns: string, name: string): Promise<StoredJournal | undefined> {
    const j = this.journals.get(this.key(ns, name));
    return j ? { document: parseJournal(j.text), resourceVersion: String(j.rv) } : undefined;
  }
  async createJournal(
    ns: string,
    name: string,
    labels: Labels,
    journal: MigrationJournal,
  ): Promise<StoredJournal> {
    if (this.journals.has(this.key(ns, name))) throw new StepProblem('exists');
    this.journals.set(this.key(ns, name), { text: serializeJournal(journal), rv: 1, labels });
    return { document: clone(journal), resourceVersion: '1' };
  }
  async replaceJournal(
    ns: string,
    name: string,
    journal: MigrationJournal,
    rv: string,
  ): Promise<StoredJournal> {
    const cur = this.journals.get(this.key(ns, name));
    if (!cur || String(cur.rv) !== rv) throw new ConflictProblem('journal');
    cur.text = serializeJournal(journal);
    cur.rv++;
    return { document: clone(journal), resourceVersion: String(cur.rv) };
  }
  async deleteJournal(ns: string, name: string): Promise<void> {
    this.journals.delete(this.key(ns, name));
  }
  async listJournals(namespace?: string): Promise<JournalEntry[]> {
    return [...this.journals.entries()]
      .map(([k, v]) => {
        const [ns = '', name = ''] = k.split('/');
        return { namespace: ns, name, document: parseJournal(v.text) };
      })
      .filter((e) => namespace === undefined || e.namespace === namespace);
  }
  leases = new Map<string, LeaseRecord>();
  async getLease(ns: string, name: string): Promise<LeaseRecord | undefined> {
    const l = this.leases.get(this.key(ns, name));
    return l ? clone(l) : undefined;
  }
  async createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    const k = this.key(lease.namespace, lease.name);
    if (this.leases.has(k)) throw new ConflictProblem(`Lease ${k}`);
    this.leases.set(k, { ...clone(lease), uid: this.uid(), resourceVersion: String(++this.seq) });
    return clone(this.leases.get(k)!);
  }
  async replaceLease(lease: LeaseRecord): Promise<LeaseRecord | undefined> {
    const k = this.key(lease.namespace, lease.name);
    const cur = this.leases.get(k);
    if (!cur) return undefined;
    if (cur.resourceVersion !== lease.resourceVersion) throw new ConflictProblem(`Lease ${k}`);
    this.leases.set(k, { ...clone(lease), uid: cur.uid, resourceVersion: String(++this.seq) });
    return clone(this.leases.get(k)!);
  }
  async deleteLease(ns: string, name: string, uid: string, rv: string): Promise<boolean> {
    const cur = this.leases.get(this.key(ns, name));
    if (cur && (cur.uid !== uid || cur.resourceVersion !== rv)) return false;
    this.leases.delete(this.key(ns, name));
    return true;
  }
  /** Pod specs the dry run rejects, e.g. to model PodSecurity. */
  rejectPods?: (pod: Pod) => string | undefined;
  async dryRunCreatePod(pod: Pod): Promise<void> {
    const why = this.rejectPods?.(pod);
    if (why) throw new StepProblem(why);
  }
  /** Permissions the fake user lacks, as "verb resource[/sub]". */
  denied: string[] = [];
  async missingPermissions(checks: AccessCheck[]): Promise<AccessCheck[]> {
    return checks.filter((c) =>
      this.denied.includes(`${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}`),
    );
  }
  async listEvents(): Promise<KubeEvent[]> {
    return [];
  }
  async getPvc(ns: string, name: string): Promise<Pvc | undefined> {
    const x = this.pvcs.get(this.key(ns, name));
    return x ? clone(x) : undefined;
  }
  async listPvcs(namespace: string | undefined, labelSelector?: string): Promise<Pvc[]> {
    const wanted = (labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('='));
    return [...this.pvcs.values()]
      .filter((p) => namespace === undefined || p.metadata.namespace === namespace)
      .filter((p) => wanted.every(([k, v]) => p.metadata.labels?.[k ?? ''] === v))
      .map(clone);
  }

  nodeLabels: Record<string, Record<string, string>> = {};
  async getNodeLabels(name: string): Promise<Record<string, string> | undefined> {
    return this.nodeLabels[name];
  }

  async listPvs(): Promise<Pv[]> {
    return [...this.pvs.values()].map(clone);
  }
  async getPv(name: string): Promise<Pv | undefined> {
    const x = this.pvs.get(name);
    return x ? clone(x) : undefined;
  }
  async getPod(ns: string, name: string): Promise<Pod | undefined> {
    const x = this.pods.get(this.key(ns, name));
    if (x?.metadata.labels?.['pvmove.kubectl.io/role'] === 'probe') x.status = { phase: 'Succeeded' };
    // Time passes for the copy pod whenever someone looks at it.
    if (x?.metadata.labels?.['pvmove.kubectl.io/role'] === 'copy-pod' && x.status?.phase === 'Pending') {
      x.status = { phase: this.copyOutcome.ok ? 'Succeeded' : 'Failed' };
    }
    return x ? clone(x) : undefined;
  }
  async getStorageClass(name: string): Promise<StorageClass | undefined> {
    return this.classes.get(name);
  }
  /** Pods the API server's cache does not show yet (a cached list lags; a consistent one does not). */
  readonly notCachedYet = new Set<string>();
  async listPods(ns: string, opts: { cached?: boolean } = {}): Promise<Pod[]> {
    return [...this.pods.values()]
      .filter((p) => p.metadata.namespace === ns)
      .filter((p) => !(opts.cached && this.notCachedYet.has(p.metadata.name ?? '')))
      .map(clone);
  }
  async listReplicaSets(): Promise<Workload[]> {
    return [...this.deployments.values()].map((d) => ({
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.name}-rs`,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: d.name, uid: 'd', controller: true },
        ],
      },
    }));
  }
  async listJobs(): Promise<Workload[]> {
    return [];
  }
  async listHpas(): Promise<Hpa[]> {
    return [];
  }
  async listTemplateOwners(): Promise<OwnerId[]> {
    return [];
  }
  async getOwnerState(ns: string, owner: OwnerId): Promise<OwnerState> {
    const d = this.deployments.get(this.key(ns, owner.name));
    if (!d) return { ...owner, exists: false };
    const ready = [...this.pods.values()].filter(
      (p) =>
        p.metadata.namespace === ns &&
        p.metadata.name?.startsWith(`${d.name}-pod-`) &&
        p.status?.phase === 'Running',
    ).length;
    return { ...owner, exists: true, replicas: d.replicas, readyReplicas: ready };
  }
  statefulSetManifests = new Map<string, StatefulSetManifest>();
  async getStatefulSet(ns: string, name: string): Promise<StatefulSetManifest | undefined> {
    const x = this.statefulSetManifests.get(this.key(ns, name));
    return x ? clone(x) : undefined;
  }
  async deleteStatefulSetOrphaning(ns: string, name: string, uid: string): Promise<void> {
    if (this.statefulSetManifests.get(this.key(ns, name))?.metadata.uid === uid)
      this.statefulSetManifests.delete(this.key(ns, name));
  }
  async createStatefulSet(m: StatefulSetManifest): Promise<StatefulSetManifest> {
    const ns = m.metadata.namespace ?? '';
    const name = m.metadata.name ?? '';
    if (this.statefulSetManifests.has(this.key(ns, name))) throw new StepProblem('exists');
    const made = { ...clone(m), metadata: { ...clone(m.metadata), uid: `uid-sts-${++this.seq}` } };
    this.statefulSetManifests.set(this.key(ns, name), made);
    return clone(made);
  }
  async getClaimTemplates(): Promise<[]> {
    return [];
  }
  async scaleOwner(ns: string, owner: OwnerId, replicas: number): Promise<void> {
    this.calls.push(`scale ${owner.name} ${replicas}`);
    const d = this.deployments.get(this.key(ns, owner.name));
    if (d) d.replicas = replicas;
  }
  async setSuspend(): Promise<void> {}
  async setClaimRetentionWhenScaled(_ns: string, statefulSet: string, whenScaled: string): Promise<void> {
    this.calls.push(`retention ${statefulSet} ${whenScaled}`);
  }
  async createPvc(pvc: Pvc): Promise<Pvc> {
    const k = this.key(pvc.metadata.namespace ?? '', pvc.metadata.name ?? '');
    if (this.pvcs.has(k)) throw new StepProblem(`create PersistentVolumeClaim ${k}: it already exists`);
    this.calls.push(`create pvc ${pvc.metadata.name}`);
    const created = {
      ...clone(pvc),
      metadata: { ...clone(pvc.metadata), uid: this.uid() },
      status: { phase: 'Pending' },
    };
    this.pvcs.set(k, created);
    return clone(created);
  }
  async deletePvc(ns: string, name: string, uid?: string): Promise<void> {
    const cur = this.pvcs.get(this.key(ns, name));
    if (!cur) return;
    if (uid && cur.metadata.uid !== uid) throw new StepProblem('uid differs');
    this.calls.push(`delete pvc ${name}`);
    this.pvcs.delete(this.key(ns, name));
  }
  async setClaimFinalizers(
    ns: string,
    name: string,
    resourceVersion: string,
    finalizers: string[],
  ): Promise<boolean> {
    const cur = this.pvcs.get(this.key(ns, name));
    if (!cur || cur.metadata.resourceVersion !== resourceVersion) return false;
    this.calls.push(`set finalizers of pvc ${name}`);
    cur.metadata.finalizers = [...finalizers];
    return true;
  }
  async createPod(pod: Pod): Promise<Pod> {
    const k = this.key(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    if (this.pods.has(k)) throw new StepProblem('exists');
    if (pod.metadata.labels?.['pvmove.kubectl.io/role'] === 'copy-pod') this.copyPodsCreated++;
    this.pods.set(k, { ...clone(pod), status: { phase: 'Pending' } });
    return clone(pod);
  }
  async deletePod(ns: string, name: string): Promise<void> {
    this.pods.delete(this.key(ns, name));
  }
  async annotatePod(ns: string, name: string, annotations: Record<string, string>): Promise<void> {
    const pod = this.pods.get(this.key(ns, name));
    if (!pod) throw new StepProblem(`pod ${name} not found`);
    pod.metadata.annotations = { ...pod.metadata.annotations, ...annotations };
  }
  async patchPv(name: string, patch: object): Promise<Pv> {
    const pv = this.pvs.get(name);
    if (!pv) throw new StepProblem(`PV ${name} not found`);
    this.calls.push(`patch pv ${name} ${JSON.stringify(patch)}`);
    const merged = mergePatch(pv, patch) as Pv;
    this.pvs.set(name, merged);
    return clone(merged);
  }
  async deletePv(name: string): Promise<void> {
    this.pvs.delete(name);
  }
  async readPodLog(): Promise<string> {
    if (!this.copyOutcome.ok) return this.copyOutcome.log;
    return [
      'PVMOVE total_bytes=1000 files=3 used_bytes=4096 archive_records=1 checkpoint_records=1 target_room=99999',
      'PVMOVE copy started',
      'PVMOVE progress checkpoint=1',
      'PVMOVE copy done',
      'PVMOVE verify ok mode=count files=3 bytes=1000',
    ].join('\n');
  }
  async waitFor<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
    opts?: WaitOptions,
  ): Promise<T> {
    for (let i = 0; i < 20; i++) {
      if (opts?.signal?.aborted) throw new Error('interrupted');
      this.tick();
      const v = await probe();
      if (v !== undefined) return v;
    }
    throw new TimeoutProblem(what, timeoutMs, opts?.detail ? await opts.detail() : undefined);
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Plain objects shaped like what the API server returns, for the pure-logic tests.
import { DEFAULT_COPY, DEFAULT_TIMEOUTS } from '../../src/core/defaults.js';
import type { Journal } from '../../src/core/journal.js';
import type { Observed } from '../../src/core/observed.js';
import type { MigrationRequest, Pod, Pv, Pvc } from '../../src/core/types.js';

export function request(over: Partial<MigrationRequest> = {}): MigrationRequest {
  return {
    namespace: 'shop',
    claim: 'data',
    toClass: 'fast',
    size: '2Gi',
    deletePods: false,
    ignoreHpa: false,
    verify: 'count',
    copy: { ...DEFAULT_COPY },
    timeouts: { ...DEFAULT_TIMEOUTS },
    commands: {
      resume: 'kubectl pvmove data -n shop --to-class fast --size 2Gi',
      cleanup: 'kubectl pvmove cleanup data -n shop',
      rollback: 'kubectl pvmove rollback data -n shop',
      kubeArgs: [],
      moveArgs: [],
    },
    ...over,
  };
}

export function pvc(
  over: { spec?: Pvc['spec']; metadata?: Pvc['metadata']; status?: Pvc['status'] } = {},
): Pvc {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: 'data',
      namespace: 'shop',
      uid: 'uid-original',
      labels: { app: 'web' },
      annotations: {
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
        'volume.beta.kubernetes.io/storage-provisioner': 'kubernetes.io/host-path',
        'volume.kubernetes.io/storage-provisioner': 'kubernetes.io/host-path',
        'volume.kubernetes.io/selected-node': 'node-1',
        'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"PersistentVolumeClaim"}',
        'team.example.com/owner': 'shop',
      },
      ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Shop', name: 'main', uid: 'shop-uid' }],
      finalizers: ['kubernetes.io/pvc-protection'],
      ...over.metadata,
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      storageClassName: 'standard',
      volumeName: 'pv-source',
      resources: { requests: { storage: '1Gi' } },
      ...over.spec,
    },
    status: { phase: 'Bound', capacity: { storage: '1Gi' }, ...over.status },
  };
}

export function pv(
  name: string,
  over: Partial<NonNullable<Pv['spec']>> = {},
  annotations?: Record<string, string>,
): Pv {
  return {
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { persistentVolumeReclaimPolicy: 'Delete', capacity: { storage: '1Gi' }, ...over },
    status: { phase: 'Bound' },
  };
}

export function pod(
  name: string,
  claim: string,
  owner?: { kind: string; name: string },
  phase = 'Running',
): Pod {
  return {
    metadata: {
      name,
      namespace: 'shop',
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'v1',
                kind: owner.kind,
                name: owner.name,
                uid: `${name}-owner`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }] },
    status: { phase },
  };
}

export function journal(over: Partial<Journal> = {}): Journal {
  return {
    migrationId: 'mabc1234',
    createdAt: '2026-01-01T00:00:00.000Z',
    phase: 'in-progress',
    claim: { namespace: 'shop', name: 'data' },
    request: { toClass: 'fast', size: '2Gi', verify: 'count' },
    original: {
      pvc: pvc(),
      pvcUid: 'uid-original',
      sourcePv: { name: 'pv-source', reclaimPolicy: 'Delete' },
      owners: [{ kind: 'Deployment', name: 'web', replicas: 2 }],
      deletedPods: [],
    },
    names: { targetClaim: 'data-pvmove-mabc1234', copyPod: 'pvmove-copy-data-mabc1234' },
    steps: {},
    ...over,
  };
}

export function observed(over: Partial<Observed> = {}): Observed {
  return { podsUsingClaim: [], owners: [], ...over };
}

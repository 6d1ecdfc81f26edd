// Builders and waits for the objects e2e tests create: claims, one-shot pods that run a shell
// script against a claim, and Deployments. The image is the copy image the test bed preloads.
import type * as k8s from '@kubernetes/client-node';
import { type Cluster, waitFor } from './cluster.js';

export const TEST_IMAGE = process.env.PVMOVE_TEST_IMAGE ?? 'docker.io/library/debian:12-slim';

export async function createClaim(
  c: Cluster,
  namespace: string,
  name: string,
  opts: {
    storageClassName?: string;
    size?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): Promise<k8s.V1PersistentVolumeClaim> {
  return c.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name, labels: opts.labels, annotations: opts.annotations },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: opts.storageClassName,
        resources: { requests: { storage: opts.size ?? '1Gi' } },
      },
    },
  });
}

export async function waitForClaimBound(c: Cluster, namespace: string, name: string, timeoutMs = 120_000) {
  return waitFor(`PVC ${namespace}/${name} to be Bound`, timeoutMs, async () => {
    const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name, namespace });
    return pvc.status?.phase === 'Bound' ? pvc : undefined;
  });
}

export function shellPod(name: string, claim: string, script: string, mountPath = '/data'): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'sh',
          image: TEST_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['bash', '-ec', script],
          volumeMounts: [{ name: 'data', mountPath }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
    },
  };
}

/** Runs a pod to completion and returns its log; fails with the log if the pod fails. */
export async function runPod(
  c: Cluster,
  namespace: string,
  pod: k8s.V1Pod,
  timeoutMs = 180_000,
): Promise<string> {
  const name = pod.metadata!.name!;
  await c.core.createNamespacedPod({ namespace, body: pod });
  const phase = await waitFor(`pod ${namespace}/${name} to finish`, timeoutMs, async () => {
    const p = await c.core.readNamespacedPod({ name, namespace });
    const ph = p.status?.phase;
    return ph === 'Succeeded' || ph === 'Failed' ? ph : undefined;
  });
  const log = await c.core.readNamespacedPodLog({ name, namespace });
  if (phase !== 'Succeeded') throw new Error(`pod ${name} failed: ${log}`);
  return log;
}

export async function waitForPodGone(c: Cluster, namespace: string, name: string, timeoutMs = 120_000) {
  await waitFor(`pod ${namespace}/${name} to be deleted`, timeoutMs, async () => {
    const pods = await c.core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${name}` });
    return pods.items.length === 0 ? true : undefined;
  });
}

/** A pod spec that mounts `claim` at /data and sleeps: the application of most tests. */
export function sleeperPodSpec(claim: string): k8s.V1PodSpec {
  return {
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'app',
        image: TEST_IMAGE,
        imagePullPolicy: 'IfNotPresent',
        command: ['sleep', 'infinity'],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
    ],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
  };
}

export async function createDeployment(
  c: Cluster,
  namespace: string,
  name: string,
  claim: string,
  replicas = 1,
): Promise<void> {
  const labels = { app: name };
  await c.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: sleeperPodSpec(claim) },
      },
    },
  });
}

/** Waits until the owner has `want` ready replicas and asks for exactly that many. */
export async function waitForReadyReplicas(
  c: Cluster,
  namespace: string,
  name: string,
  want: number,
  kind: 'statefulset' | 'deployment' = 'deployment',
): Promise<void> {
  await waitFor(`${kind} ${name} to have ${want} ready replica(s)`, 180_000, async () => {
    const obj =
      kind === 'statefulset'
        ? await c.apps.readNamespacedStatefulSet({ name, namespace })
        : await c.apps.readNamespacedDeployment({ name, namespace });
    return (obj.status?.readyReplicas ?? 0) === want && obj.spec?.replicas === want ? true : undefined;
  });
}

/**
 * The seed scenario's workload: StatefulSet `db` (1 replica) whose claim `postgres-db-0` (1Gi,
 * class standard, labelled and annotated) holds a data directory owned by uid 999 with mode 0700.
 * `claimRetention` sets its persistentVolumeClaimRetentionPolicy (the API's default is Retain/Retain).
 */
export async function createSeedDatabase(
  c: Cluster,
  namespace: string,
  opts: { claimRetention?: k8s.V1StatefulSetPersistentVolumeClaimRetentionPolicy } = {},
): Promise<void> {
  const labels = { app: 'db' };
  const init = [
    'if [ ! -f /var/lib/postgresql/data/PG_VERSION ]; then',
    '  mkdir -p /var/lib/postgresql/data/base',
    '  echo 16 > /var/lib/postgresql/data/PG_VERSION',
    '  head -c 5000000 /dev/urandom > /var/lib/postgresql/data/base/16384',
    '  ln -s base/16384 /var/lib/postgresql/data/current',
    '  chown -R 999:999 /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data',
    'fi',
    'touch /tmp/ready; exec sleep infinity',
  ].join('\n');
  await c.apps.createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name: 'db' },
      spec: {
        replicas: 1,
        serviceName: 'db',
        ...(opts.claimRetention ? { persistentVolumeClaimRetentionPolicy: opts.claimRetention } : {}),
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'db',
                image: TEST_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                command: ['bash', '-c', init],
                readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
                volumeMounts: [{ name: 'postgres', mountPath: '/var/lib/postgresql' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: {
              name: 'postgres',
              labels: { app: 'db', tier: 'data' },
              annotations: { 'backup.example.com/schedule': 'nightly' },
            },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: 'standard',
              resources: { requests: { storage: '1Gi' } },
            },
          },
        ],
      },
    },
  });
  await waitForReadyReplicas(c, namespace, 'db', 1, 'statefulset');
}

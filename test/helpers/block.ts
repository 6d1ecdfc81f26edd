// Builders for e2e tests of raw-device claims (volumeMode Block) on the test bed's local-block
// class: the claim, and a one-shot pod that maps claims as devices and runs a shell script.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from './cluster.js';
import { TEST_IMAGE } from './workloads.js';

export async function createBlockClaim(
  c: Cluster,
  namespace: string,
  name: string,
  size: string,
  storageClassName = 'local-block',
): Promise<k8s.V1PersistentVolumeClaim> {
  return c.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        volumeMode: 'Block',
        storageClassName,
        resources: { requests: { storage: size } },
      },
    },
  });
}

/** A pod that maps each claim at its device path and runs `script` with bash -e. */
export function devicePod(
  name: string,
  devices: { claim: string; path: string; readOnly?: boolean }[],
  script: string,
): k8s.V1Pod {
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
          volumeDevices: devices.map((d, i) => ({ name: `dev${i}`, devicePath: d.path })),
        },
      ],
      volumes: devices.map((d, i) => ({
        name: `dev${i}`,
        persistentVolumeClaim: { claimName: d.claim, ...(d.readOnly ? { readOnly: true } : {}) },
      })),
    },
  };
}

export const MiB = 1024 * 1024;

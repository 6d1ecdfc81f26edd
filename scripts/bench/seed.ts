// The seed scenario for the overhead figures: a StatefulSet "db" with one replica and a 1Gi claim
// postgres-db-0 on class standard, a few MB written by the pod itself (the recipe of
// test/e2e/migrate.test.ts).
import { waitFor, type Cluster } from '../../test/helpers/cluster.js';
import { TEST_IMAGE } from '../../test/helpers/workloads.js';

const INIT = [
  'if [ ! -f /var/lib/postgresql/data/PG_VERSION ]; then',
  '  mkdir -p /var/lib/postgresql/data/base',
  '  echo 16 > /var/lib/postgresql/data/PG_VERSION',
  '  head -c 5000000 /dev/urandom > /var/lib/postgresql/data/base/16384',
  '  ln -s base/16384 /var/lib/postgresql/data/current',
  '  chown -R 999:999 /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data',
  'fi',
  'touch /tmp/ready; exec sleep infinity',
].join('\n');

export async function createSeedDatabase(c: Cluster, namespace: string): Promise<void> {
  const labels = { app: 'db' };
  await c.apps.createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name: 'db' },
      spec: {
        replicas: 1,
        serviceName: 'db',
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
                command: ['bash', '-c', INIT],
                readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
                volumeMounts: [{ name: 'postgres', mountPath: '/var/lib/postgresql' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'postgres', labels: { app: 'db', tier: 'data' } },
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
  await waitFor('StatefulSet db to be ready', 180_000, async () => {
    const sts = await c.apps.readNamespacedStatefulSet({ name: 'db', namespace });
    return (sts.status?.readyReplicas ?? 0) === 1 ? true : undefined;
  });
}

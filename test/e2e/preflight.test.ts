// Every refusal before anything changes: exit 2, a one-line message saying what to do, and no
// object changed (resourceVersions of claims, PVs, owners, ConfigMaps; no new pod or claim). One
// namespace holds the claims of all cases (a refusal changes nothing, which each case checks).
// The RBAC cases run the plugin as a ServiceAccount bound to deploy/rbac/clusterrole.yaml (the move
// succeeds) and to the same role without `patch persistentvolumes` (refused, listing it).
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
  type Cluster,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import {
  bindServiceAccount,
  deleteClusterRbac,
  serviceAccountKubeconfig,
  shippedClusterRoleRules,
} from '../helpers/rbac.js';
import { createApp, createDeployment, expectMoved, snapshot, waitForReady } from '../helpers/safety.js';
import { createClaim, runPod, shellPod, sleeperPodSpec, waitForClaimBound } from '../helpers/workloads.js';

async function expectRefused(c: Cluster, ns: string, args: string[], message: string | RegExp, env = {}) {
  const before = await snapshot(c, ns);
  const r = await runCli([...args, '-n', ns], { env });
  expect(r.code, explain(r)).to.equal(2);
  const line = r.stderr.trim().split('\n').pop() ?? '';
  if (typeof message === 'string') expect(line, explain(r)).to.contain(message);
  else expect(line, explain(r)).to.match(message);
  expect(line).to.match(/nothing was changed/i);
  expect(await snapshot(c, ns), 'nothing changed').to.deep.equal(before);
}

describe('preflight refusals (exit 2, nothing changed)', function () {
  let c: Cluster;
  let ns: string;

  before(async () => {
    c = connect();
    ns = await createNamespace(c, 'e2e-preflight');
    await Promise.all([
      createApp(c, ns), // claim "data" + Deployment web
      (async () => {
        await createClaim(c, ns, 'ds-data', { storageClassName: 'fast' });
        await c.apps.createNamespacedDaemonSet({
          namespace: ns,
          body: {
            metadata: { name: 'agent' },
            spec: {
              selector: { matchLabels: { app: 'agent' } },
              template: { metadata: { labels: { app: 'agent' } }, spec: sleeperPodSpec('ds-data') },
            },
          },
        });
      })(),
      (async () => {
        await createClaim(c, ns, 'bare-data', { storageClassName: 'fast' });
        await c.core.createNamespacedPod({
          namespace: ns,
          body: { metadata: { name: 'bare' }, spec: sleeperPodSpec('bare-data') },
        });
      })(),
      (async () => {
        await createClaim(c, ns, 'hpa-data', { storageClassName: 'fast' });
        await createDeployment(c, ns, 'scaled', 'hpa-data');
        await c.kc
          .makeApiClient((await import('@kubernetes/client-node')).AutoscalingV2Api)
          .createNamespacedHorizontalPodAutoscaler({
            namespace: ns,
            body: {
              metadata: { name: 'scaled' },
              spec: {
                scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
                minReplicas: 1,
                maxReplicas: 3,
              },
            },
          });
      })(),
      createClaim(c, ns, 'pending-data', { storageClassName: 'standard' }),
      (async () => {
        await createClaim(c, ns, 'tiny', { storageClassName: 'fast', size: '1Mi' });
        await runPod(c, ns, shellPod('seed-tiny', 'tiny', 'head -c 3000000 /dev/urandom > /data/blob'));
        await c.core.deleteNamespacedPod({ name: 'seed-tiny', namespace: ns, gracePeriodSeconds: 0 });
      })(),
      (async () => {
        // Left Completed: it keeps the claim from being deleted, as a finished Job's pod does.
        await createClaim(c, ns, 'done-data', { storageClassName: 'fast' });
        await runPod(c, ns, shellPod('finished-job', 'done-data', 'echo done > /data/x'));
      })(),
    ]);
    await waitForReady(c, ns, 'scaled', 1);
    await waitFor('the DaemonSet and bare pods to run', 120_000, async () => {
      const pods = await c.core.listNamespacedPod({ namespace: ns });
      const running = (p: string) =>
        pods.items.some((x) => x.metadata?.name?.startsWith(p) && x.status?.phase === 'Running');
      return running('agent') && running('bare') ? true : undefined;
    });
    await waitForClaimBound(c, ns, 'tiny');
  });

  after(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('a claim that does not exist', async () => {
    await expectRefused(
      c,
      ns,
      ['nope', '--to-class', 'standard'],
      `PersistentVolumeClaim nope in namespace ${ns} not found`,
    );
  });

  it('a claim that is not Bound', async () => {
    await expectRefused(c, ns, ['pending-data', '--to-class', 'fast'], 'is Pending, not Bound');
  });

  it('a StorageClass that does not exist', async () => {
    await expectRefused(c, ns, ['data', '--to-class', 'nosuch'], 'StorageClass nosuch not found');
  });

  it('a size below the current request', async () => {
    await expectRefused(c, ns, ['data', '--size', '500Mi'], "smaller than the claim's current request 1Gi");
  });

  it('a size below the data on the claim (measured by the probe pod)', async () => {
    await expectRefused(
      c,
      ns,
      ['tiny', '--to-class', 'standard'],
      /uses 2\.9 MiB|uses [0-9.]+ [KMG]i?B, more than the target size 1Mi/,
    );
  });

  // Block claims are moved now (test/e2e/local-move.test.ts), and refused there only where no
  // volume of the target class could take them.

  it('a DaemonSet using the claim', async () => {
    await expectRefused(c, ns, ['ds-data', '--to-class', 'standard'], 'DaemonSet agent mounts ds-data');
  });

  it('a bare Pod using the claim', async () => {
    await expectRefused(
      c,
      ns,
      ['bare-data', '--to-class', 'standard'],
      'pods bare use bare-data and have no controller',
    );
  });

  it("a finished pod that still names the claim (it would block the claim's deletion after the copy)", async () => {
    await expectRefused(
      c,
      ns,
      ['done-data', '--to-class', 'standard'],
      `finished pods finished-job still name done-data, and Kubernetes keeps a claim while any pod names it`,
    );
  });

  it('an HPA on an owner', async () => {
    await expectRefused(
      c,
      ns,
      ['hpa-data', '--to-class', 'standard'],
      'HorizontalPodAutoscaler scaled targets Deployment scaled',
    );
  });

  it('a copy image that cannot be pulled (probe pod, before the scale-down)', async () => {
    await expectRefused(
      c,
      ns,
      ['data', '--to-class', 'standard', '--image', 'registry.invalid/pvmove/none:1'],
      /copy image registry\.invalid\/pvmove\/none:1 cannot be pulled \((ErrImagePull|ImagePullBackOff)/,
    );
  });

  it('a namespace whose PodSecurity level forbids the copy pod', async () => {
    await c.core.patchNamespace({
      name: ns,
      body: [
        { op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' },
      ],
    });
    try {
      await expectRefused(
        c,
        ns,
        ['data', '--to-class', 'standard'],
        `kubectl label namespace ${ns} pod-security.kubernetes.io/enforce=baseline --overwrite`,
      );
    } finally {
      await c.core.patchNamespace({
        name: ns,
        body: [{ op: 'remove', path: '/metadata/labels/pod-security.kubernetes.io~1enforce' }],
      });
    }
  });

  it('a claim already being migrated with other flags, and a temporary claim of a migration', async () => {
    const killed = await runCli(['data', '--to-class', 'standard', '-n', ns], {
      env: { PVMOVE_TEST_KILL_AFTER: 'create-target' },
    });
    expect(killed.code === 137 || killed.signal === 'SIGKILL', explain(killed)).to.equal(true);
    try {
      await expectRefused(c, ns, ['data', '--to-class', 'fast'], 'is in progress with --to-class standard');
      await expectRefused(c, ns, ['resume', 'data', '--size', '5Gi'], 'resume cannot change that');
      const temp = (await c.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.find((p) =>
        p.metadata?.name?.startsWith('data-pvmove-'),
      );
      await waitForClaimBound(c, ns, temp!.metadata!.name!);
      await expectRefused(
        c,
        ns,
        [temp!.metadata!.name!, '--to-class', 'fast'],
        'is a temporary claim of kubectl-pvmove',
      );
    } finally {
      const rb = await runCli(['rollback', 'data', '-n', ns]);
      expect(rb.code, explain(rb)).to.equal(0);
    }
  });
});

describe('RBAC: the plugin as a ServiceAccount bound to deploy/rbac/clusterrole.yaml', function () {
  let c: Cluster;
  let ns: string;
  const suffix = Date.now().toString(36);
  const roles = [
    `pvmove-e2e-full-${suffix}`,
    `pvmove-e2e-nopatch-${suffix}`,
    `pvmove-e2e-noclaimpatch-${suffix}`,
  ];

  before(async () => {
    c = connect();
    ns = await createNamespace(c, 'e2e-rbac');
  });
  after(async () => {
    await deleteClusterRbac(c, roles);
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  /**
   * A ServiceAccount bound to `rules`, and a kubeconfig with a TokenRequest token for it, once the
   * binding took effect (the ClusterRoleBinding reaches every namespace).
   */
  async function kubeconfigFor(name: string, rules: k8s.V1PolicyRule[]): Promise<string> {
    await bindServiceAccount(c, ns, name, rules);
    const kubeconfig = await serviceAccountKubeconfig(c, ns, name);
    await waitFor('the RBAC binding to take effect', 30_000, async () => {
      const r = await runCli(['status', '-n', ns], { env: { KUBECONFIG: kubeconfig } });
      return r.code === 0 ? true : undefined;
    });
    return kubeconfig;
  }

  it('moves a claim with exactly the ClusterRole; refuses listing `patch persistentvolumes` without it', async () => {
    const rules = shippedClusterRoleRules();
    const app = await createApp(c, ns);

    // Without patch on persistentvolumes: refused, nothing changed.
    const noPatch = rules.map((r) =>
      r.resources?.includes('persistentvolumes') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r,
    );
    const limited = await kubeconfigFor(roles[1]!, noPatch);
    await expectRefused(
      c,
      ns,
      ['data', '--to-class', 'standard'],
      'missing permissions: patch persistentvolumes',
      {
        KUBECONFIG: limited,
      },
    );

    // With the ClusterRole as shipped: the move succeeds.
    const full = await kubeconfigFor(roles[0]!, rules);
    const r = await runCli(['data', '--to-class', 'standard', '-n', ns, '-o', 'json'], {
      env: { KUBECONFIG: full },
    });
    expect(r.code, explain(r)).to.equal(0);
    await expectMoved(c, ns, app, 'standard');
    const cleanup = await runCli(['cleanup', 'data', '-n', ns, '--yes'], { env: { KUBECONFIG: full } });
    expect(cleanup.code, explain(cleanup)).to.equal(0);
  });

  it('moves without `patch persistentvolumeclaims`: the swap leaves the claims to the protection controller', async () => {
    const rules = shippedClusterRoleRules().map((r) =>
      r.resources?.includes('persistentvolumeclaims')
        ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') }
        : r,
    );
    expect(JSON.stringify(rules)).to.not.equal(JSON.stringify(shippedClusterRoleRules()));
    // Its own namespace (the first test's app is there); the ClusterRoleBinding reaches it.
    const appNs = await createNamespace(c, 'e2e-rbac-claims');
    try {
      const app = await createApp(c, appNs);
      const limited = await kubeconfigFor(roles[2]!, rules);
      const r = await runCli(['data', '--to-class', 'standard', '-n', appNs, '-o', 'json'], {
        env: { KUBECONFIG: limited },
      });
      expect(r.code, explain(r)).to.equal(0);
      await expectMoved(c, appNs, app, 'standard');
    } finally {
      await deleteNamespace(c, appNs);
      await deleteVolumesOf(c, appNs);
    }
  });
});

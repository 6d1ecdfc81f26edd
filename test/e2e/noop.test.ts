// A move that changes nothing, and pods of other kubectl-pvmove runs on the claim:
//  - the same class and size: exit 0, "nothing to do", nothing changed (no journal, no pod, no
//    scale-down); with --fresh-volume the same request copies the data to a new volume;
//  - another run's probe pod mounting the claim is not a "bare pod": the refusal names it as
//    kubectl-pvmove's, never suggests --delete-pods, and --delete-pods does not delete it;
//  - a probe pod a dead run left behind, finished long ago, is deleted by the next move.
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
import { createApp, expectMoved, resultOf, snapshot } from '../helpers/safety.js';
import { sleeperPodSpec, TEST_IMAGE, waitForPodGone } from '../helpers/workloads.js';

/** A pod labelled the way kubectl-pvmove labels its probe pod of `migrationId`, mounting `claim`. */
function probePodOf(migrationId: string, claim: string, spec: k8s.V1PodSpec): k8s.V1Pod {
  return {
    metadata: {
      name: `pvmove-probe-${claim}-${migrationId}`,
      labels: {
        'app.kubernetes.io/managed-by': 'kubectl-pvmove',
        'pvmove.kubectl.io/migration-id': migrationId,
        'pvmove.kubectl.io/claim': claim,
        'pvmove.kubectl.io/role': 'probe',
      },
    },
    spec,
  };
}

/** Seconds since the pod's container terminated, or undefined while it has not. */
function finishedSecondsAgo(pod: k8s.V1Pod): number | undefined {
  const at = pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt;
  return at ? (Date.now() - new Date(at).getTime()) / 1000 : undefined;
}

describe('a move that changes nothing; pods of other kubectl-pvmove runs', function () {
  let c: Cluster;
  let ns: string;
  let app: { claim: string; pv: string; data: string };
  // A probe pod of a run that died long ago: it measured the claim and exited.
  const leftover = probePodOf('mdead0001', 'data', {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'probe',
        image: TEST_IMAGE,
        imagePullPolicy: 'IfNotPresent',
        command: ['true'],
        volumeMounts: [{ name: 'src', mountPath: '/src', readOnly: true }],
      },
    ],
    volumes: [{ name: 'src', persistentVolumeClaim: { claimName: 'data', readOnly: true } }],
  });

  before(async () => {
    c = connect();
    ns = await createNamespace(c, 'e2e-noop');
    [app] = await Promise.all([
      createApp(c, ns), // claim "data", class fast, 1Gi, Deployment web
      c.core.createNamespacedPod({ namespace: ns, body: leftover }),
    ]);
  });

  after(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('the same class and size: nothing to do, exit 0, nothing changed', async () => {
    const before = await snapshot(c, ns);
    const r = await runCli(['data', '--to-class', 'fast', '--size', '1024Mi', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);
    // One JSON event per line: the cluster it acts on, then only the answer: no plan, no step.
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).to.deep.equal(['info', 'result']);
    const result = resultOf(r);
    expect(result?.status, explain(r)).to.equal('nothing-to-do');
    expect(String(result?.message)).to.match(/nothing to do/i);
    expect(String(result?.message)).to.contain('--fresh-volume');
    expect(await snapshot(c, ns), 'nothing changed').to.deep.equal(before);
    const claim = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    expect(claim.spec?.volumeName).to.equal(app.pv);
  });

  it("another run's probe pod on the claim: refused without --delete-pods, and never deleted", async () => {
    const other = probePodOf('mlive0001', 'data', sleeperPodSpec('data'));
    const created = await c.core.createNamespacedPod({ namespace: ns, body: other });
    try {
      const before = await snapshot(c, ns);
      const r = await runCli(['data', '--to-class', 'standard', '-n', ns]);
      expect(r.code, explain(r)).to.equal(2);
      const line = r.stderr.trim().split('\n').pop() ?? '';
      expect(line, explain(r)).to.contain(`pod ${other.metadata!.name}`);
      expect(line).to.contain('another kubectl-pvmove run');
      expect(line).to.contain(`kubectl pvmove status data -n ${ns}`);
      expect(line).to.not.contain('--delete-pods');
      expect(line).to.match(/nothing was changed/i);

      // --delete-pods is about the user's own bare pods: it never deletes kubectl-pvmove's.
      const d = await runCli(['data', '--to-class', 'standard', '-n', ns, '--delete-pods']);
      expect(d.code, explain(d)).to.equal(2);
      expect(d.stderr, explain(d)).to.contain('another kubectl-pvmove run');
      expect(await snapshot(c, ns), 'nothing changed').to.deep.equal(before);
      const still = await c.core.readNamespacedPod({ name: other.metadata!.name!, namespace: ns });
      expect(still.metadata?.uid).to.equal(created.metadata?.uid);
      expect(still.metadata?.deletionTimestamp).to.equal(undefined);
    } finally {
      await c.core.deleteNamespacedPod({ name: other.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 });
      await waitForPodGone(c, ns, other.metadata!.name!);
    }
  });

  it('--fresh-volume copies to a new volume of the same class; a stale probe pod of a dead run is deleted', async function () {
    // "Stale": finished for longer than a live run would keep its probe pod (it deletes it at once).
    await waitFor('the leftover probe pod to have finished 35s ago', 180_000, async () => {
      const p = await c.core.readNamespacedPod({ name: leftover.metadata!.name!, namespace: ns });
      return (finishedSecondsAgo(p) ?? 0) > 35 ? true : undefined;
    });
    const r = await runCli(['data', '--to-class', 'fast', '--fresh-volume', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);
    expect(resultOf(r)?.status, explain(r)).to.equal('done');
    // The new PV, the old one Retain/Released, the data, and no kubectl-pvmove pod left (the leftover too).
    await expectMoved(c, ns, app, 'fast');
  });
});

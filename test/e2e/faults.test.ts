// Faults injected into the cluster while a move runs, each checked for "nothing destructive
// happened" (the original claim and its data are there, the source PV is Retain) and recovered
// with resume or rollback:
//  - the copy pod deleted mid-copy -> the step fails, resume completes the move;
//  - the copy container exits non-zero: a unix socket on the source (tar cannot archive it, so the
//    target has one entry less and the count verification fails with exit 6) -> rollback;
//  - a target class whose provisioner nobody serves -> the bind timeout names the claim's event;
//  - an owner scaled back up by someone else during the copy -> detected, stopped; rollback.
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  type Cluster,
  journalOf,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { hostPathOf } from '../helpers/volumes.js';
import { createApp, expectMoved, expectOriginal, resultOf, startCli } from '../helpers/safety.js';

/** The original claim is still there, bound to its PV, and that PV is Retain: nothing lost. */
async function expectNothingDestroyed(c: Cluster, ns: string, pv: string): Promise<void> {
  const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
  expect(pvc.spec?.volumeName).to.equal(pv);
  expect(pvc.status?.phase).to.equal('Bound');
  const source = await c.core.readPersistentVolume({ name: pv });
  expect(source.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
}

describe('faults during a move', function () {
  let c: Cluster;
  let ns: string;
  before(() => {
    c = connect();
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-fault');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
    const left = (await c.core.listPersistentVolume()).items.filter(
      (p) => p.spec?.claimRef?.namespace === ns,
    );
    expect(left.map((p) => p.metadata?.name)).to.deep.equal([]);
  });

  it('the copy pod deleted mid-copy: the step fails, nothing is destroyed, resume completes', async () => {
    const app = await createApp(c, ns, { extraMb: 200 });
    const run = startCli(
      ['data', '--to-class', 'standard', '-n', ns, '-o', 'json', '--verify', 'checksum'],
      (e) => {
        if (e.type === 'step' && e.step === 'copy' && e.status === 'started') {
          void c.core
            .listNamespacedPod({ namespace: ns, labelSelector: 'pvmove.kubectl.io/role=copy-pod' })
            .then((pods) =>
              Promise.all(
                pods.items.map((p) =>
                  c.core.deleteNamespacedPod({
                    name: p.metadata!.name!,
                    namespace: ns,
                    gracePeriodSeconds: 0,
                  }),
                ),
              ),
            );
        }
      },
    );
    const r = await run.done;
    expect(r.code, explain(r)).to.equal(1);
    expect(String(resultOf(r)?.message)).to.match(/copy pod .* (disappeared|failed)/);
    expect(r.stderr).to.contain('kubectl pvmove rollback data');
    await expectNothingDestroyed(c, ns, app.pv);

    const resume = await runCli(['resume', 'data', '-n', ns, '-o', 'json']);
    expect(resume.code, explain(resume)).to.equal(0);
    await expectMoved(c, ns, app, 'standard');
  });

  it('the copy container exits non-zero (an entry tar cannot copy): stopped before any claim is deleted; rollback', async () => {
    const app = await createApp(c, ns);
    // A unix socket on the source: tar skips it, the target has one entry less, verify fails.
    const dir = await hostPathOf(c, app.pv);
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind('${dir}/app.sock')`]);
    const r = await runCli(['data', '--to-class', 'standard', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(1);
    const failure = String(resultOf(r)?.message);
    expect(failure).to.contain('Step copy failed');
    expect(failure).to.match(/exit code [1-9]/);
    expect(failure).to.contain('verify-failed');
    await expectNothingDestroyed(c, ns, app.pv);
    const journal = await journalOf(c, ns, 'data');

    const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json']);
    expect(rb.code, explain(rb)).to.equal(0);
    execFileSync('rm', ['-f', `${dir}/app.sock`]); // the manifest pod cannot hash a socket either
    await expectOriginal(c, ns, app, { targetPv: journal?.original.targetPv?.name });
  });

  it('a target class nobody provisions: the bind timeout names the reason, nothing destroyed; rollback', async () => {
    const sc = `pvmove-e2e-none-${ns.slice(-6)}`;
    await c.storage.createStorageClass({
      body: {
        metadata: { name: sc },
        provisioner: 'example.com/none',
        volumeBindingMode: 'Immediate',
        reclaimPolicy: 'Delete',
      },
    });
    try {
      const app = await createApp(c, ns);
      const r = await runCli(['data', '--to-class', sc, '-n', ns, '-o', 'json', '--timeout-bind', '20s']);
      expect(r.code, explain(r)).to.equal(1);
      const failure = String(resultOf(r)?.message);
      expect(failure).to.contain('Step retain-target-pv failed');
      expect(failure).to.contain('timed out after 20s');
      expect(failure).to.contain('example.com/none');
      await expectNothingDestroyed(c, ns, app.pv);

      const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json']);
      expect(rb.code, explain(rb)).to.equal(0);
      await expectOriginal(c, ns, app, {});
    } finally {
      await c.storage.deleteStorageClass({ name: sc });
    }
  });

  it('an owner scaled back up by someone else during the copy: detected, stopped safely; rollback', async () => {
    const app = await createApp(c, ns, { extraMb: 200 });
    const run = startCli(
      ['data', '--to-class', 'standard', '-n', ns, '-o', 'json', '--verify', 'checksum'],
      (e) => {
        if (e.type === 'step' && e.step === 'copy' && e.status === 'started') {
          void c.apps.patchNamespacedDeploymentScale({
            name: 'web',
            namespace: ns,
            body: [{ op: 'replace', path: '/spec/replicas', value: 1 }],
          });
        }
      },
    );
    const r = await run.done;
    expect(r.code, explain(r)).to.equal(1);
    expect(String(resultOf(r)?.message)).to.match(/started using data during the copy|uses data again/);
    await expectNothingDestroyed(c, ns, app.pv);

    const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json']);
    expect(rb.code, explain(rb)).to.equal(0);
    await expectOriginal(c, ns, app, {});
  });
});

// Two runs at once on the same claim: one holder at a time, through a Lease per claim
// (`pvmove-<claim>`). A second move and a rollback typed while a move runs are refused at once
// (exit 2) naming the holder and --force-unlock, and change nothing; the first run completes. A
// lease held by a live run on another host is refused too, and --force-unlock takes it over. After
// a move, a rollback or a cleanup no Lease is left in the namespace.
import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  waitFor,
  type Cluster,
} from '../helpers/cluster.js';
import { explain, runCli, type CliResult } from '../helpers/cli.js';
import { createApp, expectMoved, snapshot, startCli } from '../helpers/safety.js';

/** The refusal's one line: the holder, since when, its last renewal, and the way out. */
function expectLockRefusal(r: CliResult, holder: string): void {
  expect(r.code, explain(r)).to.equal(2);
  const line = r.stderr.trim().split('\n').pop() ?? '';
  expect(line, explain(r)).to.contain(holder);
  expect(line).to.match(/since \d{4}-\d\d-\d\dT/);
  expect(line).to.match(/last renewed/);
  expect(line).to.contain('--force-unlock');
  expect(line).to.match(/nothing was changed/i);
  // Refused before planning: no plan, no step.
  expect(r.events.filter((e) => e.type === 'plan' || e.type === 'step')).to.deep.equal([]);
}

describe('two runs at once on the same claim', function () {
  let c: Cluster;
  let leases: k8s.CoordinationV1Api;
  let ns: string;
  const holderOf = async (): Promise<string | undefined> =>
    (await leases.listNamespacedLease({ namespace: ns })).items.find(
      (l) => l.metadata?.name === 'pvmove-data',
    )?.spec?.holderIdentity;
  const expectNoLease = async (after: string): Promise<void> => {
    const left = (await leases.listNamespacedLease({ namespace: ns })).items.map((l) => l.metadata?.name);
    expect(left, `no Lease left after ${after}`).to.deep.equal([]);
  };

  before(() => {
    c = connect();
    leases = c.kc.makeApiClient(k8s.CoordinationV1Api);
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-lock');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('a second move and a rollback during a move are refused at once naming the holder; the first run completes', async () => {
    const app = await createApp(c, ns);
    // The first run must still be running when the other two start (each takes seconds to start on
    // a loaded machine): its application's pod takes 60s to stop (sleep as PID 1 ignores SIGTERM,
    // so the grace period runs out), and the scale-down step waits for it.
    await c.apps.patchNamespacedDeployment({
      name: 'web',
      namespace: ns,
      body: [{ op: 'add', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 60 }],
    });
    await waitFor('web to run with the 60s grace period', 180_000, async () => {
      const pods = await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      const ready = pods.items.filter(
        (p) =>
          p.spec?.terminationGracePeriodSeconds === 60 &&
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
      );
      return ready.length === 1 && pods.items.length === 1 ? true : undefined;
    });
    const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json'];
    let during:
      Promise<{ holder?: string; second: CliResult; rollback: CliResult; after?: string }> | undefined;
    const first = startCli(move, (e) => {
      if (e.type !== 'step' || e.step !== 'scale-down' || e.status !== 'started' || during) return;
      during = (async () => {
        const holder = await holderOf();
        const [second, rollback] = await Promise.all([
          runCli(move, { timeoutMs: 180_000 }),
          runCli(['rollback', 'data', '-n', ns, '-o', 'json'], { timeoutMs: 180_000 }),
        ]);
        return { holder, second, rollback, after: await holderOf() };
      })();
    });
    const r = await first.done;
    expect(during, explain(r)).to.not.equal(undefined);
    const { holder, second, rollback, after } = await during!;
    expect(second.code, explain(second)).to.equal(2);
    expect(rollback.code, explain(rollback)).to.equal(2);
    expect(holder, 'the running move holds the Lease pvmove-data').to.be.a('string');
    expectLockRefusal(second, holder!);
    expectLockRefusal(rollback, holder!);
    expect(after, 'the refused runs did not take the Lease').to.equal(holder);

    expect(r.code, explain(r)).to.equal(0);
    await expectMoved(c, ns, app, 'standard');
    await expectNoLease('the move');
    const cleanup = await runCli(['cleanup', 'data', '-n', ns, '--yes']);
    expect(cleanup.code, explain(cleanup)).to.equal(0);
    await expectNoLease('cleanup');
  });

  it('a lease held by a live run on another host: move refuses; --force-unlock takes it over and moves', async () => {
    const app = await createApp(c, ns);
    const now = new k8s.V1MicroTime(Date.now());
    await leases.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: 'pvmove-data' },
        spec: {
          holderIdentity: 'other-host/1/x',
          leaseDurationSeconds: 120,
          acquireTime: now,
          renewTime: now,
        },
      },
    });
    const before = await snapshot(c, ns);
    const move = ['data', '--to-class', 'standard', '-n', ns, '-o', 'json'];
    expectLockRefusal(await runCli(move), 'other-host/1/x');
    expect(await snapshot(c, ns), 'nothing changed').to.deep.equal(before);
    expect(await holderOf()).to.equal('other-host/1/x');

    const forced = await runCli([...move, '--force-unlock']);
    expect(forced.code, explain(forced)).to.equal(0);
    const warnings = forced.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.join('\n'), 'the takeover is reported').to.contain('other-host/1/x');
    await expectMoved(c, ns, app, 'standard');
    await expectNoLease('the move');

    const rb = await runCli(['rollback', 'data', '-n', ns, '-o', 'json', '--yes']);
    expect(rb.code, explain(rb)).to.equal(0);
    const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    expect(pvc.spec?.volumeName).to.equal(app.pv);
    await expectNoLease('the rollback');
  });
});

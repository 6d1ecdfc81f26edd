// Moves of node-local volumes on the test bed's local PVs (loop devices, classes local-block and
// local-fs, provisioner kubernetes.io/no-provisioner, every PV pinned to the node): a raw device
// (volumeMode Block) of a StatefulSet moved to a bigger device with its bytes intact; a crash in the
// middle of a device copy, resumed, then rolled back; a local filesystem moved to network-like
// storage with the exact tree; and the moves that cannot work refused before anything changes.
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import {
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  journalOf,
  waitFor,
  type Cluster,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { createBlockClaim, devicePod } from '../helpers/block.js';
import { expectKilled, resultOf } from '../helpers/safety.js';
import { manifestViaPod } from '../helpers/volumes.js';
import { createClaim, runPod, shellPod, TEST_IMAGE, waitForClaimBound } from '../helpers/workloads.js';

const SOURCE_BYTES = 64 * 1024 * 1024;
const DEVICE = '/dev/pvmove-e2e';

/** Seeds the device once (a marker, then 24 MiB of random bytes), then prints what it holds. */
const DEVICE_APP = `
if [ "$(head -c 8 ${DEVICE})" != SEEDED01 ]; then
  { printf SEEDED01; head -c 25165824 /dev/urandom; } | dd of=${DEVICE} bs=4M iflag=fullblock conv=fsync status=none
  echo seeded
fi
echo "MARK $(head -c 8 ${DEVICE})"
echo "SHA $(head -c ${SOURCE_BYTES} ${DEVICE} | sha256sum | cut -d' ' -f1)"
echo "SIZE $(blockdev --getsize64 ${DEVICE})"
`;

function statefulSet(name: string): k8s.V1StatefulSet {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'db',
              image: TEST_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['bash', '-ec', `${DEVICE_APP}\nexec sleep infinity`],
              volumeDevices: [{ name: 'data', devicePath: DEVICE }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            volumeMode: 'Block',
            storageClassName: 'local-block',
            resources: { requests: { storage: '64Mi' } },
          },
        },
      ],
    },
  };
}

/** What the running pod of the StatefulSet printed: its marker, the sha256 over the source length, the device size. */
async function deviceReport(
  c: Cluster,
  ns: string,
  pod: string,
  uid?: string,
): Promise<Record<string, string>> {
  return waitFor(`pod ${pod} to report its device`, 180_000, async () => {
    const p = await c.core.readNamespacedPod({ name: pod, namespace: ns }).catch(() => undefined);
    if (!p || p.status?.phase !== 'Running' || (uid && p.metadata?.uid === uid)) return undefined;
    const log = await c.core.readNamespacedPodLog({ name: pod, namespace: ns }).catch(() => '');
    const fields = Object.fromEntries(
      log
        .split('\n')
        .map((l) => l.split(' '))
        .filter((w) => w.length === 2)
        .map(([k, v]) => [k!, v!]),
    );
    return fields.SIZE
      ? { ...fields, uid: p.metadata?.uid ?? '', seeded: String(log.includes('seeded')) }
      : undefined;
  });
}

/** sha256 of a Block claim's first `bytes` bytes, read by a one-shot pod. */
async function deviceSha(c: Cluster, ns: string, claim: string, bytes = SOURCE_BYTES): Promise<string> {
  const name = `sha-${claim}-${Date.now().toString(36)}`.slice(0, 60);
  try {
    const log = await runPod(
      c,
      ns,
      devicePod(
        name,
        [{ claim, path: DEVICE, readOnly: true }],
        `head -c ${bytes} ${DEVICE} | sha256sum | cut -d' ' -f1`,
      ),
    );
    return log.trim();
  } finally {
    await c.core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

async function boundPv(c: Cluster, ns: string, claim: string): Promise<k8s.V1PersistentVolume> {
  const pvc = await waitForClaimBound(c, ns, claim);
  return c.core.readPersistentVolume({ name: pvc.spec!.volumeName! });
}

describe('node-local volumes: raw devices and local filesystems', function () {
  let c: Cluster;
  const namespaces: string[] = [];
  before(() => {
    c = connect();
  });
  after(async () => {
    for (const ns of namespaces) {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
    }
  });

  it("moves a StatefulSet's Block claim to a bigger local-block device: same bytes, the pod reads them back", async () => {
    const ns = await createNamespace(c, 'e2e-block');
    namespaces.push(ns);
    await c.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSet('db') });
    const before = await deviceReport(c, ns, 'db-0');
    expect(before.MARK).to.equal('SEEDED01');
    const source = await boundPv(c, ns, 'data-db-0');
    expect(source.spec?.volumeMode).to.equal('Block');

    const r = await runCli([
      'data-db-0',
      '--to-class',
      'local-block',
      '--size',
      '128Mi',
      '-n',
      ns,
      '-o',
      'json',
      '--verify',
      'checksum',
      '--yes',
    ]);
    expect(r.code, explain(r)).to.equal(0);

    const claim = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data-db-0', namespace: ns });
    const target = await c.core.readPersistentVolume({ name: claim.spec!.volumeName! });
    expect(claim.spec?.volumeMode).to.equal('Block');
    expect(claim.spec?.storageClassName).to.equal('local-block');
    expect(target.metadata?.name).to.not.equal(source.metadata?.name);
    expect(target.spec?.capacity?.storage).to.equal('128Mi');
    expect(target.spec?.local?.path, 'a local PV of the pool').to.be.a('string');
    // The pod that runs after the move reads the bytes written before it, and did not seed again.
    const after = await deviceReport(c, ns, 'db-0', before.uid);
    expect(after.MARK).to.equal('SEEDED01');
    expect(after.seeded).to.equal('false');
    expect(after.SHA).to.equal(before.SHA);
    expect(Number(after.SIZE)).to.equal(128 * 1024 * 1024);
    // The old device is kept, Released and Retain, until cleanup.
    const old = await c.core.readPersistentVolume({ name: source.metadata!.name! });
    expect(old.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect((await journalOf(c, ns, 'data-db-0'))?.phase).to.equal('finished');
  });

  it('a device copy killed in the middle resumes to identical bytes; then a rollback puts the claim back on its own device', async () => {
    const ns = await createNamespace(c, 'e2e-block-crash');
    namespaces.push(ns);
    await createBlockClaim(c, ns, 'raw', '64Mi');
    await runPod(c, ns, devicePod('seed', [{ claim: 'raw', path: DEVICE }], DEVICE_APP));
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    const source = await boundPv(c, ns, 'raw');
    const sha = await deviceSha(c, ns, 'raw');

    const move = ['raw', '--to-class', 'local-block', '--size', '128Mi', '-n', ns, '-o', 'json', '--yes'];
    expectKilled(await runCli(move, { env: { PVMOVE_TEST_KILL_AFTER: 'copy-progress' } }));
    const killed = await journalOf(c, ns, 'raw');
    expect(killed?.phase).to.equal('in-progress');
    expect(killed?.steps['release-claims'], 'killed before the swap').to.equal(undefined);

    const resumed = await runCli(move);
    expect(resumed.code, explain(resumed)).to.equal(0);
    const moved = await boundPv(c, ns, 'raw');
    expect(moved.metadata?.name).to.not.equal(source.metadata?.name);
    expect(await deviceSha(c, ns, 'raw')).to.equal(sha);

    const rb = await runCli(['rollback', 'raw', '-n', ns, '-o', 'json', '--yes']);
    expect(rb.code, explain(rb)).to.equal(0);
    const back = await boundPv(c, ns, 'raw');
    expect(back.metadata?.name).to.equal(source.metadata?.name);
    expect(back.spec?.persistentVolumeReclaimPolicy).to.equal(source.spec?.persistentVolumeReclaimPolicy);
    expect(await deviceSha(c, ns, 'raw')).to.equal(sha);
    // The device the claim ran on after the move is kept (it may hold later writes).
    const kept = await c.core.readPersistentVolume({ name: moved.metadata!.name! });
    expect(kept.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
  });

  it('moves a local-fs claim to network storage (class fast) with the exact tree', async () => {
    const ns = await createNamespace(c, 'e2e-localfs');
    namespaces.push(ns);
    await createClaim(c, ns, 'files', { storageClassName: 'local-fs', size: '64Mi' });
    const tree = [
      'mkdir -p /data/a/b && echo one > /data/a/one.txt && head -c 3000000 /dev/urandom > /data/a/b/blob',
      'ln -s ../a/one.txt /data/a/b/link && ln /data/a/one.txt /data/a/hard.txt',
      'chown 999:998 /data/a/b/blob && chmod 0640 /data/a/b/blob && chmod 0711 /data/a/b',
      'mkfifo /data/a/fifo && touch -d 2020-02-02T02:02:02 /data/a/one.txt',
    ].join(' && ');
    await runPod(c, ns, shellPod('seed', 'files', tree));
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    const source = await boundPv(c, ns, 'files');
    expect(source.spec?.local?.path).to.be.a('string');
    const manifest = await manifestViaPod(c, ns, 'files');

    const r = await runCli(['files', '--to-class', 'fast', '-n', ns, '-o', 'json', '--yes']);
    expect(r.code, explain(r)).to.equal(0);
    const target = await boundPv(c, ns, 'files');
    expect(target.spec?.storageClassName).to.equal('fast');
    expect(target.spec?.local, 'no longer a local PV').to.equal(undefined);
    expect(await manifestViaPod(c, ns, 'files')).to.equal(manifest);
  });

  it('refuses, before anything changes, the moves no local PV (or no node) can take', async () => {
    const ns = await createNamespace(c, 'e2e-local-refuse');
    namespaces.push(ns);
    await createClaim(c, ns, 'files', { storageClassName: 'standard', size: '64Mi' });
    await createBlockClaim(c, ns, 'raw', '64Mi');
    await runPod(c, ns, shellPod('seed', 'files', 'echo keep > /data/keep.txt'));
    await runPod(
      c,
      ns,
      devicePod('seed-raw', [{ claim: 'raw', path: DEVICE }], 'printf SEEDED01 > ' + DEVICE),
    );
    for (const pod of ['seed', 'seed-raw'])
      await c.core.deleteNamespacedPod({ name: pod, namespace: ns, gracePeriodSeconds: 0 });
    const before = {
      files: (await boundPv(c, ns, 'files')).metadata!.name!,
      raw: (await boundPv(c, ns, 'raw')).metadata!.name!,
    };

    const cases: [string[], string][] = [
      [['files', '--to-class', 'local-block'], 'a Filesystem claim cannot move to Block volumes'],
      [['raw', '--to-class', 'local-fs'], 'a Block claim cannot move to Filesystem volumes'],
      [
        ['raw', '--to-class', 'local-block', '--size', '1Gi'],
        'it needs a free PersistentVolume of volumeMode Block, at least 1Gi',
      ],
    ];
    for (const [args, want] of cases) {
      const r = await runCli([...args, '-n', ns, '-o', 'json', '--yes']);
      expect(r.code, explain(r)).to.equal(2);
      const message = String(resultOf(r)?.message);
      expect(message, explain(r)).to.contain(want);
      expect(message).to.contain('StorageClass local-');
      expect(message).to.contain('nothing was changed');
      if (args[0] === 'raw') expect(message).to.match(/on node \S+ \(where the source volume is\)/);
    }
    // A class that provisions only on another node: no node could mount the pinned source and it.
    const elsewhere = `pvmove-e2e-elsewhere-${ns.slice(-6)}`;
    await c.storage.createStorageClass({
      body: {
        metadata: { name: elsewhere },
        provisioner: 'kubernetes.io/host-path',
        volumeBindingMode: 'WaitForFirstConsumer',
        allowedTopologies: [
          { matchLabelExpressions: [{ key: 'kubernetes.io/hostname', values: ['pvmove-e2e-no-such-node'] }] },
        ],
      },
    });
    try {
      const r = await runCli(['raw', '--to-class', elsewhere, '-n', ns, '-o', 'json', '--yes']);
      expect(r.code, explain(r)).to.equal(2);
      const message = String(resultOf(r)?.message);
      expect(message, explain(r)).to.contain(
        `StorageClass ${elsewhere} provisions only where kubernetes.io/hostname in (pvmove-e2e-no-such-node)`,
      );
      expect(message).to.match(/the source volume is only reachable on node \S+: no node could mount both/);
    } finally {
      await c.storage.deleteStorageClass({ name: elsewhere });
    }

    // Nothing changed: no journal, both claims on their PVs, policies as they were.
    for (const claim of ['files', 'raw'] as const) {
      expect(await journalOf(c, ns, claim)).to.equal(undefined);
      const pv = await boundPv(c, ns, claim);
      expect(pv.metadata?.name).to.equal(before[claim]);
      expect(pv.metadata?.labels?.['pvmove.kubectl.io/migration-id']).to.equal(undefined);
    }
  });
});

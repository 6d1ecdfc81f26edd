// The test bed's node-local volumes: classes local-block (raw loop devices) and local-fs (ext4 on
// loop devices), PVs pinned to the node, released PVs wiped and offered again, and the loop devices
// the test bed attaches accounted for (attached once, detached exactly).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  isNotFound,
  waitFor,
} from '../helpers/cluster.js';
import { runPod, shellPod, waitForClaimBound, waitForPodGone } from '../helpers/workloads.js';
import { createBlockClaim, devicePod, MiB } from '../helpers/block.js';

const repo = path.resolve(import.meta.dirname, '../..');

async function createFsClaim(c: Cluster, namespace: string, name: string, size: string) {
  await c.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'local-fs',
        resources: { requests: { storage: size } },
      },
    },
  });
}

/** The node's kubernetes.io/hostname, and the hostnames a PV's required node affinity allows. */
async function nodeHostname(c: Cluster): Promise<string> {
  const nodes = await c.core.listNode();
  return nodes.items[0]!.metadata!.labels!['kubernetes.io/hostname']!;
}
function affinityHostnames(pv: k8s.V1PersistentVolume): string[] {
  return (pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []).flatMap((t) =>
    (t.matchExpressions ?? [])
      .filter((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In')
      .flatMap((e) => e.values ?? []),
  );
}

async function boundPv(c: Cluster, namespace: string, claim: string): Promise<k8s.V1PersistentVolume> {
  const pvc = await waitForClaimBound(c, namespace, claim);
  return c.core.readPersistentVolume({ name: pvc.spec!.volumeName! });
}

/** Waits until the PV `name` was deleted and created again (another uid): the refill of the test bed. */
async function recreatedPv(c: Cluster, name: string, oldUid: string): Promise<k8s.V1PersistentVolume> {
  return waitFor(`local PV ${name} to be wiped and created again`, 120_000, async () => {
    try {
      const pv = await c.core.readPersistentVolume({ name });
      return pv.metadata?.uid !== oldUid ? pv : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

describe('test bed: node-local volumes', function () {
  let c: Cluster;
  let ns: string;
  let hostname: string;

  before(async () => {
    c = connect();
    hostname = await nodeHostname(c);
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-local');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
  });

  it('has the classes local-block and local-fs (no provisioner, WaitForFirstConsumer) and PVs of 64Mi, 128Mi and 256Mi pinned to the node', async () => {
    for (const name of ['local-block', 'local-fs']) {
      const sc = await c.storage.readStorageClass({ name });
      expect(sc.provisioner).to.equal('kubernetes.io/no-provisioner');
      expect(sc.volumeBindingMode).to.equal('WaitForFirstConsumer');
    }
    const pvs = (await c.core.listPersistentVolume()).items.filter((pv) =>
      ['local-block', 'local-fs'].includes(pv.spec?.storageClassName ?? ''),
    );
    for (const cls of ['local-block', 'local-fs']) {
      const sizes = new Set(
        pvs.filter((pv) => pv.spec?.storageClassName === cls).map((pv) => pv.spec?.capacity?.storage),
      );
      expect([...sizes].sort(), cls).to.include.members(['128Mi', '256Mi', '64Mi']);
    }
    for (const pv of pvs) {
      expect(pv.spec?.local?.path, pv.metadata?.name).to.be.a('string');
      expect(pv.spec?.volumeMode, pv.metadata?.name).to.equal(
        pv.spec?.storageClassName === 'local-block' ? 'Block' : 'Filesystem',
      );
      expect(affinityHostnames(pv), pv.metadata?.name).to.deep.equal([hostname]);
    }
  });

  it('binds a Block claim on local-block: a pod writes bytes on the raw device, the next pod reads them back', async () => {
    await createBlockClaim(c, ns, 'raw', '64Mi');
    const payload = randomBytes(48 * 1024).toString('base64');
    const digest = createHash('sha256').update(payload).digest('hex');
    // Written at 8 MiB into the device, not into any file: a filesystem would not be there.
    await runPod(
      c,
      ns,
      devicePod(
        'writer',
        [{ claim: 'raw', path: '/dev/raw' }],
        `[ -b /dev/raw ]
         printf '%s' '${payload}' | dd of=/dev/raw bs=1M seek=8 conv=notrunc,fsync status=none`,
      ),
    );
    const out = await runPod(
      c,
      ns,
      devicePod(
        'reader',
        [{ claim: 'raw', path: '/dev/raw' }],
        `echo "size $(blockdev --getsize64 /dev/raw)"
         echo "sum $(dd if=/dev/raw bs=1M skip=8 count=${payload.length} iflag=count_bytes status=none | sha256sum | cut -c1-64)"`,
      ),
    );
    expect(out).to.match(new RegExp(`^size ${64 * MiB}$`, 'm'));
    expect(out).to.match(new RegExp(`^sum ${digest}$`, 'm'));
    const pv = await boundPv(c, ns, 'raw');
    expect(pv.spec?.storageClassName).to.equal('local-block');
    expect(pv.spec?.volumeMode).to.equal('Block');
    expect(affinityHostnames(pv)).to.deep.equal([hostname]);
  });

  it('binds a local-fs claim to an ext4 PV pinned to the node: a pod writes a file, the next reads it', async () => {
    await createFsClaim(c, ns, 'files', '64Mi');
    const payload = randomBytes(48 * 1024).toString('base64');
    const digest = createHash('sha256').update(payload).digest('hex');
    await runPod(c, ns, shellPod('writer', 'files', `printf '%s' '${payload}' > /data/payload; sync`));
    const out = await runPod(
      c,
      ns,
      shellPod('reader', 'files', 'echo "fs $(stat -f -c %T /data)"; sha256sum /data/payload'),
    );
    expect(out).to.match(/^fs ext2\/ext3$/m);
    expect(out).to.include(digest);
    const pv = await boundPv(c, ns, 'files');
    expect(pv.spec?.storageClassName).to.equal('local-fs');
    expect(pv.spec?.volumeMode).to.equal('Filesystem');
    expect(affinityHostnames(pv)).to.deep.equal([hostname]);
    const reader = await c.core.readNamespacedPod({ name: 'reader', namespace: ns });
    expect(reader.spec?.nodeName).to.equal(hostname);
  });

  it('wipes a released local PV and offers it again (Block reads zeros, a filesystem holds only lost+found)', async () => {
    await createBlockClaim(c, ns, 'raw', '64Mi');
    await createFsClaim(c, ns, 'files', '64Mi');
    await runPod(
      c,
      ns,
      devicePod(
        'dirty-raw',
        [{ claim: 'raw', path: '/dev/raw' }],
        'head -c 1M /dev/urandom | dd of=/dev/raw conv=fsync status=none',
      ),
    );
    await runPod(c, ns, shellPod('dirty-files', 'files', 'mkdir -p /data/d; echo data > /data/d/f; sync'));
    const raw = await boundPv(c, ns, 'raw');
    const files = await boundPv(c, ns, 'files');
    for (const pod of ['dirty-raw', 'dirty-files']) {
      await c.core.deleteNamespacedPod({ name: pod, namespace: ns });
      await waitForPodGone(c, ns, pod);
    }
    await c.core.deleteNamespacedPersistentVolumeClaim({ name: 'raw', namespace: ns });
    await c.core.deleteNamespacedPersistentVolumeClaim({ name: 'files', namespace: ns });

    const raw2 = await recreatedPv(c, raw.metadata!.name!, raw.metadata!.uid!);
    expect(raw2.spec?.persistentVolumeReclaimPolicy).to.equal('Delete');
    // Read on the node (the test bed is this machine): the device's first MiB.
    const fd = openSync(raw2.spec!.local!.path!, 'r');
    const head = Buffer.alloc(MiB);
    try {
      readSync(fd, head, 0, MiB, 0);
    } finally {
      closeSync(fd);
    }
    expect(head.equals(Buffer.alloc(MiB)), 'the first MiB of the re-offered device is zeros').to.equal(true);

    const files2 = await recreatedPv(c, files.metadata!.name!, files.metadata!.uid!);
    expect(readdirSync(files2.spec!.local!.path!)).to.deep.equal(['lost+found']);
  });

  it('loop bookkeeping (a private state directory): a crashed up reuses its devices, down detaches exactly its own', () => {
    const state = mkdtempSync(path.join(tmpdir(), 'pvmove-loops-'));
    const foreign = mkdtempSync(path.join(tmpdir(), 'pvmove-foreign-'));
    const foreignFile = path.join(foreign, 'other.img');
    writeFileSync(foreignFile, '');
    const bash = (script: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `set -euo pipefail
           source scripts/testbed/lib/common.sh
           source scripts/testbed/lib/local-pvs.sh
           TB_LOCAL_POOL="local-block 2 64Mi
           local-fs 1 64Mi"
           ${script}`,
        ],
        { cwd: repo, env: { ...process.env, TB_STATE: state }, encoding: 'utf8' },
      );
    const attachedUnder = (dir: string) =>
      execFileSync('losetup', ['--noheadings', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(`${dir}/`))
        .map((l) => l.trim().split(/\s+/)[0]!)
        .sort();
    let foreignDev = '';
    try {
      const prepare = 'while read -r n c s; do prepare_local_disk "$n" "$c" "$s"; done < <(local_pool)';
      bash(prepare);
      const first = attachedUnder(state);
      expect(first).to.have.length(3);
      // A crash after attaching, before recording: the state file is lost, the devices and the
      // mount stay. The next up finds and reuses them instead of attaching more.
      rmSync(path.join(state, 'local', 'loops'));
      bash(prepare);
      expect(attachedUnder(state)).to.deep.equal(first);
      // Someone else's loop device, on a file outside the test bed.
      execFileSync('truncate', ['-s', '16M', foreignFile]);
      foreignDev = execFileSync('losetup', ['--find', '--show', foreignFile], { encoding: 'utf8' }).trim();
      // down: detach (a mounted device goes when unmounted), unmount, detach again.
      bash(`detach_testbed_loops
            findmnt -rn -o TARGET | { grep "^$TB_STATE/" || true; } | sort -r | xargs -r -n1 umount
            detach_testbed_loops`);
      expect(attachedUnder(state)).to.deep.equal([]);
      expect(attachedUnder(foreign)).to.deep.equal([foreignDev]);
    } finally {
      if (foreignDev) execFileSync('losetup', ['--detach', foreignDev]);
      try {
        bash(
          `findmnt -rn -o TARGET | { grep "^$TB_STATE/" || true; } | sort -r | xargs -r -n1 umount; detach_testbed_loops`,
        );
      } finally {
        rmSync(state, { recursive: true, force: true });
        rmSync(foreign, { recursive: true, force: true });
      }
    }
  });
});

// The whole move of one claim, run through the CLI as a user would, checked the way a user would:
// the claim (name, labels, annotations, class, size), both PVs, the workload, and the bytes,
// owners, modes and links the workload sees.
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
  isNotFound,
  waitFor,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { hostPathOf, manifestOnNode, manifestViaPod } from '../helpers/volumes.js';
import {
  createClaim,
  createDeployment,
  createSeedDatabase,
  runPod,
  shellPod,
  waitForClaimBound,
  waitForReadyReplicas,
} from '../helpers/workloads.js';

describe('kubectl pvmove: one claim', function () {
  let c: Cluster;
  let ns: string;

  before(() => {
    c = connect();
  });
  beforeEach(async () => {
    ns = await createNamespace(c, 'e2e-move');
  });
  afterEach(async () => {
    await deleteNamespace(c, ns);
    await deleteVolumesOf(c, ns);
  });

  it('moves a StatefulSet claim to another class and size, keeping name, metadata, owners and modes (seed scenario)', async () => {
    await createSeedDatabase(c, ns);
    const before = await c.core.readNamespacedPersistentVolumeClaim({ name: 'postgres-db-0', namespace: ns });
    const oldPv = before.spec!.volumeName!;
    const dataBefore = await manifestViaPod(c, ns, 'postgres-db-0');
    expect(dataBefore).to.match(/\.\/data\|directory\|999:999\|700\|/);

    const r = await runCli(['postgres-db-0', '--to-class', 'fast', '--size', '2Gi', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);
    const result = r.events.find((e) => e.type === 'result');
    expect(result?.status, explain(r)).to.equal('done');
    expect(String(result?.next)).to.contain(`kubectl pvmove cleanup postgres-db-0 -n ${ns}`);

    // The claim: same name, labels and annotations; new class, size and volume.
    const after = await c.core.readNamespacedPersistentVolumeClaim({ name: 'postgres-db-0', namespace: ns });
    expect(after.status?.phase).to.equal('Bound');
    expect(after.spec?.storageClassName).to.equal('fast');
    expect(after.spec?.resources?.requests?.storage).to.equal('2Gi');
    expect(after.metadata?.labels).to.include({ app: 'db', tier: 'data' });
    expect(after.metadata?.annotations).to.include({ 'backup.example.com/schedule': 'nightly' });
    expect(after.spec?.volumeName).to.not.equal(oldPv);
    const newPv = await c.core.readPersistentVolume({ name: after.spec!.volumeName! });
    expect(newPv.spec?.storageClassName).to.equal('fast');
    expect(newPv.spec?.capacity?.storage).to.equal('2Gi');
    expect(newPv.spec?.persistentVolumeReclaimPolicy, 'new PV gets the source PV original policy').to.equal(
      'Delete',
    );

    // The workload is back, and sees the same bytes, owners and modes.
    await waitForReadyReplicas(c, ns, 'db', 1, 'statefulset');
    expect(await manifestViaPod(c, ns, 'postgres-db-0')).to.equal(dataBefore);

    // The old PV is kept, Released and Retain, with the original data still on it.
    const old = await c.core.readPersistentVolume({ name: oldPv });
    expect(old.status?.phase).to.equal('Released');
    expect(old.spec?.persistentVolumeReclaimPolicy).to.equal('Retain');
    expect(manifestOnNode(await hostPathOf(c, oldPv))).to.equal(dataBefore);

    // Nothing temporary is left: one claim, the StatefulSet's pod only.
    const claims = await c.core.listNamespacedPersistentVolumeClaim({ namespace: ns });
    expect(claims.items.map((p) => p.metadata?.name)).to.deep.equal(['postgres-db-0']);
    const pods = await c.core.listNamespacedPod({ namespace: ns });
    expect(pods.items.map((p) => p.metadata?.name)).to.deep.equal(['db-0']);

    // Cleanup deletes the retained source PV, and only that.
    const cleanup = await runCli(['cleanup', 'postgres-db-0', '-n', ns, '--yes', '-o', 'json']);
    expect(cleanup.code, explain(cleanup)).to.equal(0);
    await waitFor(`old PV ${oldPv} deleted`, 60_000, async () => {
      try {
        await c.core.readPersistentVolume({ name: oldPv });
        return undefined;
      } catch (err) {
        return isNotFound(err) ? true : undefined;
      }
    });
    expect((await c.core.readPersistentVolume({ name: newPv.metadata!.name! })).status?.phase).to.equal(
      'Bound',
    );
  });

  it('resizes a Deployment claim within its class', async () => {
    await createClaim(c, ns, 'uploads', { storageClassName: 'fast', size: '1Gi', labels: { app: 'web' } });
    await waitForClaimBound(c, ns, 'uploads');
    await runPod(
      c,
      ns,
      shellPod(
        'seed',
        'uploads',
        'head -c 4000000 /dev/urandom > /data/blob; mkdir -p /data/a/b; echo hi > /data/a/b/c; chown -R 33:33 /data/a',
      ),
    );
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    await createDeployment(c, ns, 'web', 'uploads');
    await waitForReadyReplicas(c, ns, 'web', 1, 'deployment');
    const dataBefore = await manifestViaPod(c, ns, 'uploads');

    const r = await runCli(['uploads', '--size', '2Gi', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);

    const after = await c.core.readNamespacedPersistentVolumeClaim({ name: 'uploads', namespace: ns });
    expect(after.spec?.storageClassName).to.equal('fast');
    expect(after.spec?.resources?.requests?.storage).to.equal('2Gi');
    expect(after.metadata?.labels).to.include({ app: 'web' });
    await waitForReadyReplicas(c, ns, 'web', 1, 'deployment');
    expect(await manifestViaPod(c, ns, 'uploads')).to.equal(dataBefore);
  });

  it('copies hardlinks, symlinks, sparse files, xattrs, ACLs, empty dirs, odd names and a large file (by cp) identically', async () => {
    await createClaim(c, ns, 'tree', { storageClassName: 'standard', size: '1Gi' });
    await runPod(c, ns, shellPod('seed', 'tree', TREE_SCRIPT));
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    const bound = await waitForClaimBound(c, ns, 'tree');
    // xattrs and ACLs are set from the node: the slim copy image has no setfattr/setfacl.
    const srcDir = await hostPathOf(c, bound.spec!.volumeName!);
    const { execFileSync } = await import('node:child_process');
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'pvmove-e2e', `${srcDir}/plain.txt`]);
    execFileSync('setfacl', ['-m', 'u:1234:rw', `${srcDir}/acl.txt`]);
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'big-e2e', `${srcDir}/media/2024/big.bin`]);
    execFileSync('setfacl', ['-m', 'u:4321:r', `${srcDir}/media/2024/big.bin`]);
    const dataBefore = manifestOnNode(srcDir);

    const r = await runCli(['tree', '--to-class', 'fast', '-n', ns, '-o', 'json', '--verify', 'checksum']);
    expect(r.code, explain(r)).to.equal(0);
    // big.bin went through cp, the rest through tar (the copy's verdict counts the files cp copied).
    const verdict = r.events.find(
      (e) => e.type === 'info' && e.step === 'copy' && /cp_files=/.test(String(e.message)),
    );
    expect(String(verdict?.message), explain(r)).to.match(/ cp_files=1( |$)/);

    const after = await c.core.readNamespacedPersistentVolumeClaim({ name: 'tree', namespace: ns });
    const dstDir = await hostPathOf(c, after.spec!.volumeName!);
    expect(manifestOnNode(dstDir)).to.equal(dataBefore);
    expect(await manifestViaPod(c, ns, 'tree')).to.equal(dataBefore);
    const xattr = execFileSync(
      'getfattr',
      ['--absolute-names', '--only-values', '-n', 'user.origin', `${dstDir}/plain.txt`],
      {
        encoding: 'utf8',
      },
    );
    expect(xattr).to.equal('pvmove-e2e');
    expect(
      execFileSync(
        'getfattr',
        ['--absolute-names', '--only-values', '-n', 'user.origin', `${dstDir}/media/2024/big.bin`],
        {
          encoding: 'utf8',
        },
      ),
    ).to.equal('big-e2e');
    expect(
      execFileSync('getfacl', ['--absolute-names', '-c', `${dstDir}/media/2024/big.bin`], {
        encoding: 'utf8',
      }),
    ).to.contain('user:4321:r--');
    expect(
      execFileSync('getfacl', ['--absolute-names', '-c', `${dstDir}/acl.txt`], { encoding: 'utf8' }),
    ).to.contain('user:1234:rw-');
    const { statSync } = await import('node:fs');
    const sparse = statSync(`${dstDir}/sparse.img`);
    expect(sparse.size).to.equal(100 * 1024 * 1024);
    expect(sparse.blocks * 512, 'the sparse file stays sparse').to.be.below(4 * 1024 * 1024);
    expect(statSync(`${dstDir}/plain.txt`).ino, 'hardlink kept').to.equal(
      statSync(`${dstDir}/hardlink.txt`).ino,
    );
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    await createClaim(c, ns, 'quiet', { storageClassName: 'fast', size: '1Gi', labels: { keep: 'me' } });
    const bound = await waitForClaimBound(c, ns, 'quiet');
    const snapshot = async () => {
      const pvc = await c.core.readNamespacedPersistentVolumeClaim({ name: 'quiet', namespace: ns });
      const pv = await c.core.readPersistentVolume({ name: bound.spec!.volumeName! });
      const cms = await c.core.listNamespacedConfigMap({ namespace: ns });
      const pods = await c.core.listNamespacedPod({ namespace: ns });
      const pvcs = await c.core.listNamespacedPersistentVolumeClaim({ namespace: ns });
      const pvs = await c.core.listPersistentVolume();
      return {
        pvc: pvc.metadata?.resourceVersion,
        pv: pv.metadata?.resourceVersion,
        configMaps: cms.items
          .map((o: k8s.V1ConfigMap) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
          .sort(),
        pods: pods.items.length,
        claims: pvcs.items.map((o) => o.metadata?.name),
        // This namespace's PVs only: other e2e files run at the same time and change theirs.
        pvs: pvs.items
          .filter((o) => o.spec?.claimRef?.namespace === ns)
          .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
          .sort(),
      };
    };
    const before = await snapshot();
    const r = await runCli(['quiet', '--to-class', 'standard', '--size', '3Gi', '-n', ns, '--dry-run']);
    expect(r.code, explain(r)).to.equal(0);
    expect(r.stdout).to.contain('PersistentVolumeClaim');
    expect(r.stdout).to.contain('standard');
    expect(await snapshot()).to.deep.equal(before);
  });
});

const TREE_SCRIPT = `
cd /data
mkdir -p empty-dir deep/a/b/c
printf 'hello\\n' > plain.txt
head -c 3000000 /dev/urandom > deep/a/b/c/random.bin
ln plain.txt hardlink.txt
ln -s plain.txt symlink
ln -s /nonexistent/target dangling
truncate -s 100M sparse.img
printf 'end' | dd of=sparse.img bs=1 seek=50000000 conv=notrunc status=none
printf x > 'name with spaces'; printf y > 'ünïcödé-名前'; printf z > ./-dash; printf q > "$(printf 'new\\nline')"
echo acl > acl.txt
echo secret > owned.txt; chown 1234:5678 owned.txt; chmod 0640 owned.txt
echo run > setuid.bin; chmod 4755 setuid.bin
touch -d '2001-02-03 04:05:06' plain.txt deep/a
chmod 0700 deep; chown 999:999 deep
# A file large enough for the engine's cp path (>= 64 MiB, one link), in directories cp makes.
mkdir -p media/2024; head -c 70000000 /dev/urandom > media/2024/big.bin
chown 1234:5678 media/2024/big.bin; chmod 0640 media/2024/big.bin
touch -d '2002-03-04 05:06:07' media/2024/big.bin media/2024; chmod 0750 media; chown 999:999 media
`;

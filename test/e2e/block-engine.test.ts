// The Block-device copy engine on its own, without the migration around it: its pod (built by the
// engine, created as is) copies one local-block claim's raw device to a bigger one, and the bytes
// are compared from outside the engine (sha256 over the source's length, in another pod).
import { expect } from 'chai';
import type * as k8s from '@kubernetes/client-node';
import { blockEngine } from '../../src/engines/block/index.js';
import type { CopyReport } from '../../src/core/copy-engine.js';
import type { VerifyMode } from '../../src/core/types.js';
import { type Cluster, connect, createNamespace, deleteNamespace, waitFor } from '../helpers/cluster.js';
import { runPod, TEST_IMAGE, waitForClaimBound } from '../helpers/workloads.js';
import { createBlockClaim, devicePod, MiB } from '../helpers/block.js';

const SOURCE_BYTES = 64 * MiB;

/** Runs the engine's pod for claims src -> dst; resolves with the pod's phase and the folded report. */
async function runEnginePod(
  c: Cluster,
  namespace: string,
  name: string,
  verify: VerifyMode,
  expectFingerprint?: string,
): Promise<{ phase: string; exitCode?: number; report: CopyReport; log: string }> {
  const pod = blockEngine.buildPod({
    name,
    namespace,
    labels: { app: 'pvmove-block-e2e' },
    sourceClaim: 'src',
    targetClaim: 'dst',
    copy: { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', tolerations: [], nodeSelector: {} },
    verify,
    ...(expectFingerprint ? { expectFingerprint } : {}),
  });
  await c.core.createNamespacedPod({ namespace, body: pod as k8s.V1Pod });
  const done = await waitFor(`copy pod ${name} to finish`, 300_000, async () => {
    const p = await c.core.readNamespacedPod({ name, namespace });
    const ph = p.status?.phase;
    return ph === 'Succeeded' || ph === 'Failed' ? p : undefined;
  });
  const log = await c.core.readNamespacedPodLog({ name, namespace });
  return {
    phase: done.status!.phase!,
    exitCode: done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode,
    report: blockEngine.readLog(blockEngine.emptyReport(), log),
    log,
  };
}

/** sha256 of both devices over the source's length, read by a pod of the test (not the engine's). */
async function sums(c: Cluster, namespace: string, name: string): Promise<{ src: string; dst: string }> {
  const out = await runPod(
    c,
    namespace,
    devicePod(
      name,
      [
        { claim: 'src', path: '/dev/s', readOnly: true },
        { claim: 'dst', path: '/dev/t' },
      ],
      `echo "src $(head -c ${SOURCE_BYTES} /dev/s | sha256sum | cut -c1-64)"
       echo "dst $(head -c ${SOURCE_BYTES} /dev/t | sha256sum | cut -c1-64)"`,
    ),
  );
  const field = (k: string) => new RegExp(`^${k} ([0-9a-f]{64})$`, 'm').exec(out)?.[1] ?? `(none in: ${out})`;
  return { src: field('src'), dst: field('dst') };
}

describe('Block copy engine (raw devices on local-block)', function () {
  let c: Cluster;
  let ns: string;
  let written: string;

  before(async () => {
    c = connect();
    ns = await createNamespace(c, 'e2e-block-engine');
    await createBlockClaim(c, ns, 'src', '64Mi');
    await createBlockClaim(c, ns, 'dst', '128Mi');
    // The source: random data at the start, in the middle (not on a 4 MiB boundary) and in the
    // last sector, zeros between. The target: random bytes everywhere, so a zero block the engine
    // skipped without zeroing the target first would show as a difference.
    const out = await runPod(
      c,
      ns,
      devicePod(
        'fill',
        [
          { claim: 'src', path: '/dev/s' },
          { claim: 'dst', path: '/dev/t' },
        ],
        `head -c 3M /dev/urandom | dd of=/dev/s conv=fsync status=none
         head -c 1M /dev/urandom | dd of=/dev/s bs=1M seek=37 conv=notrunc,fsync status=none
         head -c 512 /dev/urandom | dd of=/dev/s bs=512 seek=$(( ${SOURCE_BYTES} / 512 - 1 )) conv=notrunc,fsync status=none
         dd if=/dev/urandom of=/dev/t bs=4M status=none conv=fsync || true
         echo "size $(blockdev --getsize64 /dev/s) $(blockdev --getsize64 /dev/t)"
         echo "sum $(head -c ${SOURCE_BYTES} /dev/s | sha256sum | cut -c1-64)"`,
      ),
    );
    expect(out).to.match(new RegExp(`^size ${SOURCE_BYTES} ${2 * SOURCE_BYTES}$`, 'm'));
    written = /^sum ([0-9a-f]{64})$/m.exec(out)![1]!;
  });
  after(async () => {
    await deleteNamespace(c, ns);
  });

  it('copies the source device onto a bigger, dirty target: sha256 over the source length is equal (checksum verification)', async () => {
    const run = await runEnginePod(c, ns, 'copy-checksum', 'checksum');
    expect(run.phase, run.log).to.equal('Succeeded');
    expect(run.report.error).to.equal(undefined);
    expect(run.report.totalBytes).to.equal(SOURCE_BYTES);
    expect(run.report.copyDone).to.equal(true);
    expect(run.report.verifyOk).to.match(
      new RegExp(`^verify ok mode=checksum bytes=${SOURCE_BYTES} sha256=${written} `),
    );
    expect(run.report.fingerprint).to.equal(written);
    // The loop devices of the test bed read zeros where a hole was punched: zero blocks are skipped.
    expect(run.log).to.match(/zero_skip=yes/);
    const f = blockEngine.progress(run.report, []);
    expect(f).to.include({ bytesDone: SOURCE_BYTES, bytesTotal: SOURCE_BYTES, percent: 100 });

    const after = await sums(c, ns, 'sums-1');
    expect(after.src).to.equal(written);
    expect(after.dst).to.equal(written);
    // The target PV is the bigger one, on the same node as the source.
    const dst = await waitForClaimBound(c, ns, 'dst');
    expect(dst.status?.capacity?.storage).to.equal('128Mi');
  });

  it('keeps a copy that still matches the recorded fingerprint, and copies again when it does not (count verification)', async () => {
    const kept = await runEnginePod(c, ns, 'copy-again', 'count', written);
    expect(kept.phase, kept.log).to.equal('Succeeded');
    expect(kept.report.earlierCopy?.verdict).to.equal('unchanged');
    expect(kept.log).to.not.match(/PVMOVE copy started/);
    expect(kept.report.verifyOk).to.match(new RegExp(`^verify ok mode=count bytes=${SOURCE_BYTES}`));

    const other = 'f'.repeat(64);
    const redone = await runEnginePod(c, ns, 'copy-redone', 'count', other);
    expect(redone.phase, redone.log).to.equal('Succeeded');
    expect(redone.report.earlierCopy?.verdict).to.equal('source-changed');
    expect(redone.log).to.match(/PVMOVE copy started/);
    expect(redone.report.verifyOk).to.match(new RegExp(`^verify ok mode=count bytes=${SOURCE_BYTES} `));
    const after = await sums(c, ns, 'sums-2');
    expect(after.dst).to.equal(written);
  });

  it('cannot write the source device: the engine maps it read-only', async () => {
    const out = await runPod(
      c,
      ns,
      devicePod(
        'write-source',
        [{ claim: 'src', path: '/dev/s', readOnly: true }],
        `if printf x | dd of=/dev/s conv=notrunc,fsync status=none 2>/dev/null; then echo WRITABLE; else echo read-only; fi`,
      ),
    );
    expect(out.trim()).to.equal('read-only');
    const pod = blockEngine.buildPod({
      name: 'x',
      namespace: ns,
      labels: {},
      sourceClaim: 'src',
      targetClaim: 'dst',
      copy: { image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', tolerations: [], nodeSelector: {} },
      verify: 'count',
    });
    expect(pod.spec?.volumes?.find((v) => v.name === 'src')?.persistentVolumeClaim?.readOnly).to.equal(true);
  });

  it('refuses a target smaller than the source before writing anything', async () => {
    const small = await createNamespace(c, 'e2e-block-small');
    try {
      await createBlockClaim(c, small, 'src', '128Mi');
      await createBlockClaim(c, small, 'dst', '64Mi');
      const run = await runEnginePod(c, small, 'copy-small', 'checksum');
      expect(run.phase).to.equal('Failed');
      expect(run.exitCode).to.equal(3);
      expect(run.report.error).to.match(
        /^target-too-small the source device has 134217728 bytes but the target device only 67108864$/,
      );
      expect(run.log).to.not.match(/copy started/);
    } finally {
      await deleteNamespace(c, small);
    }
  });
});

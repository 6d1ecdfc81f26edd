// The Block engine's pure parts: the copy pod it describes (raw devices, the source read-only,
// placement and verification carried over), its script's syntax in every verification mode, and
// the parser of its `PVMOVE ...` lines with the progress figures the copy step shows.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import type { CopyPodRequest, CopyReport } from '../../src/core/copy-engine.js';
import { DEFAULT_COPY, DEFAULT_IMAGE } from '../../src/core/defaults.js';
import type { VerifyMode } from '../../src/core/types.js';
import { blockEngine } from '../../src/engines/block/index.js';
import { blockCopyScript, EXPECT_FINGERPRINT_ENV } from '../../src/engines/block/script.js';
import { tarEngine } from '../../src/engines/tar/index.js';

const base: CopyPodRequest = {
  name: 'pvmove-copy-disk-m1',
  namespace: 'vm',
  labels: { 'pvmove.kubectl.io/migration-id': 'm1' },
  sourceClaim: 'disk',
  targetClaim: 'disk-pvmove-m1',
  copy: { ...DEFAULT_COPY },
  verify: 'count',
};

type Container = {
  name: string;
  image: string;
  imagePullPolicy: string;
  command: string[];
  env?: { name: string; value: string }[];
  volumeMounts?: unknown;
  volumeDevices?: unknown;
  securityContext?: Record<string, unknown>;
};
type SpecView = {
  restartPolicy: string;
  securityContext: { runAsUser: number };
  containers: Container[];
  volumes: unknown[];
  affinity?: unknown;
  tolerations?: unknown;
  nodeSelector?: unknown;
};

const specOf = (r: CopyPodRequest) => blockEngine.buildPod(r).spec as unknown as SpecView;

describe('Block engine: copy pod', () => {
  it('maps the source read-only at /dev/pvmove-source and the target at /dev/pvmove-target, mounts nothing', () => {
    const spec = specOf(base);
    expect(spec.restartPolicy).to.equal('Never');
    expect(spec.securityContext.runAsUser).to.equal(0);
    expect(spec.containers).to.have.length(1);
    const c = spec.containers[0]!;
    expect(c.image).to.equal(DEFAULT_IMAGE);
    expect(c.imagePullPolicy).to.equal('IfNotPresent');
    expect(c.volumeMounts).to.equal(undefined);
    expect(c.volumeDevices).to.deep.equal([
      { name: 'src', devicePath: '/dev/pvmove-source' },
      { name: 'dst', devicePath: '/dev/pvmove-target' },
    ]);
    expect(spec.volumes).to.deep.equal([
      { name: 'src', persistentVolumeClaim: { claimName: 'disk', readOnly: true } },
      { name: 'dst', persistentVolumeClaim: { claimName: 'disk-pvmove-m1' } },
    ]);
    expect(c.securityContext).to.include({ allowPrivilegeEscalation: false });
    expect(c.securityContext?.privileged).to.equal(undefined);
    expect(c.command.slice(0, 2)).to.deep.equal(['bash', '-c']);
    expect(c.env).to.equal(undefined);
  });

  it('carries name, namespace, labels, the source node affinity, tolerations and node selector', () => {
    const nodeSelectorTerms = [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] },
    ];
    const pod = blockEngine.buildPod({
      ...base,
      sourceNodeAffinity: { nodeSelectorTerms },
      copy: {
        ...DEFAULT_COPY,
        image: 'registry.local/debian:12-slim',
        tolerations: [{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }],
        nodeSelector: { disk: 'ssd' },
      },
    });
    expect(pod.metadata).to.include({ name: 'pvmove-copy-disk-m1', namespace: 'vm' });
    expect(pod.metadata.labels).to.deep.equal(base.labels);
    const spec = pod.spec as unknown as SpecView;
    expect(spec.containers[0]!.image).to.equal('registry.local/debian:12-slim');
    expect(spec.affinity).to.deep.equal({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } },
    });
    expect(spec.tolerations).to.deep.equal([{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.nodeSelector).to.deep.equal({ disk: 'ssd' });
    expect(specOf(base).affinity).to.equal(undefined);
  });

  it('passes an earlier copy fingerprint in the environment', () => {
    const spec = specOf({ ...base, expectFingerprint: 'a'.repeat(64) });
    expect(spec.containers[0]!.env).to.deep.equal([{ name: EXPECT_FINGERPRINT_ENV, value: 'a'.repeat(64) }]);
  });

  it('hashes what a re-run may change, and never as the tar engine would', () => {
    const hash = (r: CopyPodRequest) => blockEngine.podHash(blockEngine.buildPod(r));
    const h = hash(base);
    expect(h).to.match(/^[0-9a-f]{12}$/);
    expect(hash({ ...base, name: 'other', labels: {} })).to.equal(h);
    expect(hash({ ...base, verify: 'checksum' })).to.not.equal(h);
    expect(hash({ ...base, copy: { ...DEFAULT_COPY, image: 'other:1' } })).to.not.equal(h);
    expect(hash({ ...base, copy: { ...DEFAULT_COPY, nodeSelector: { a: 'b' } } })).to.not.equal(h);
    expect(tarEngine.podHash(tarEngine.buildPod(base))).to.not.equal(h);
  });

  for (const verify of ['count', 'checksum', 'none'] as VerifyMode[]) {
    it(`has a script bash accepts (verify ${verify}) that copies with dd in 4 MiB direct blocks`, () => {
      const script = blockCopyScript(verify);
      execFileSync('bash', ['-n', '-c', script]);
      expect(script).to.match(
        /dd if="\$src" of="\$dst" bs=4194304 iflag=direct,count_bytes count="\$size" oflag=direct/,
      );
      expect(script).to.include('blockdev --getsize64 "$src"');
      expect(script).to.include('blkdiscard --force --zeroout');
      expect(script.includes('sums\nif')).to.equal(verify === 'checksum');
    });
  }
});

const SIZE = 256 * 1024 * 1024;

function read(...chunks: string[]): CopyReport {
  return chunks.reduce((r, log) => blockEngine.readLog(r, log), blockEngine.emptyReport());
}

describe('Block engine: log and progress', () => {
  it('reads the size, the bytes copied and the verdict', () => {
    const r = read(
      [
        `PVMOVE total_bytes=${SIZE} target_bytes=${2 * SIZE} block_bytes=4194304`,
        'PVMOVE copy started zero_skip=yes',
        'PVMOVE progress bytes=4194304',
        'PVMOVE progress bytes=67108864',
      ].join('\n'),
    );
    expect(r).to.include({ totalBytes: SIZE, usedBytes: SIZE, checkpoint: 67108864, copyDone: false });
    expect(r.verifyOk).to.equal(undefined);
    const done = blockEngine.readLog(
      r,
      [
        `PVMOVE progress bytes=${SIZE}`,
        `PVMOVE copy done bytes=${SIZE} copy_ms=812 zero_skip=yes`,
        `PVMOVE fingerprint=${'c'.repeat(64)}`,
        `PVMOVE verify ok mode=checksum bytes=${SIZE} sha256=${'c'.repeat(64)} copy_ms=812 zero_skip=yes`,
      ].join('\n'),
    );
    expect(done).to.include({ copyDone: true, checkpoint: SIZE, fingerprint: 'c'.repeat(64) });
    expect(done.verifyOk).to.match(/^verify ok mode=checksum bytes=268435456 sha256=c{64} /);
  });

  it('is safe to feed overlapping windows: the bytes done never go back', () => {
    const a = 'PVMOVE total_bytes=100\nPVMOVE progress bytes=40\nPVMOVE progress bytes=60\n';
    const r = read(a, 'PVMOVE progress bytes=40\nPVMOVE progress bytes=60\n', 'PVMOVE progress bytes=50\n');
    expect(r.checkpoint).to.equal(60);
    expect(read(a, a)).to.deep.equal(read(a));
  });

  it('reads the error, the tools own lines, and what became of an earlier copy', () => {
    const r = read(
      [
        'dd: error writing /dev/pvmove-target: No space left on device',
        '12+0 records in',
        'PVMOVE earlier-copy target-differs sha256 of the target over 100 bytes is abc',
        'PVMOVE error copy-failed dd could not copy the device (see the dd lines above)',
      ].join('\r\n'),
    );
    expect(r.tarMessages).to.deep.equal(['dd: error writing /dev/pvmove-target: No space left on device']);
    expect(r.error).to.equal('copy-failed dd could not copy the device (see the dd lines above)');
    expect(r.earlierCopy).to.deep.equal({
      verdict: 'target-differs',
      detail: 'sha256 of the target over 100 bytes is abc',
    });
    expect(read('PVMOVE verify skipped mode=none bytes=1').verifyOk).to.equal(
      'verify skipped mode=none bytes=1',
    );
  });

  it('reports bytes, percent, rate and ETA, and 100% only when dd is done', () => {
    expect(blockEngine.progress(read('PVMOVE copy started'), [])).to.equal(undefined);
    const r = read(`PVMOVE total_bytes=${SIZE}\nPVMOVE progress bytes=${SIZE / 4}`);
    const f = blockEngine.progress(r, [
      { atMs: 0, bytesDone: 0 },
      { atMs: 2000, bytesDone: SIZE / 4 },
    ]);
    expect(f).to.deep.equal({
      bytesDone: SIZE / 4,
      bytesTotal: SIZE,
      percent: 25,
      rateBytesPerSecond: SIZE / 8,
      etaSeconds: 6,
    });
    // dd's read counter at the end, before dd said it is done: not yet 100%.
    expect(
      blockEngine.progress(read(`PVMOVE total_bytes=${SIZE}\nPVMOVE progress bytes=${SIZE}`), [])?.percent,
    ).to.be.below(100);
    expect(
      blockEngine.progress(read(`PVMOVE total_bytes=${SIZE}\nPVMOVE copy done bytes=${SIZE}`), []),
    ).to.include({ bytesDone: SIZE, percent: 100 });
  });
});

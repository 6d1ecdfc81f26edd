import { expect } from 'chai';
import { DEFAULT_COPY, DEFAULT_IMAGE } from '../../src/core/defaults.js';
import { buildCopyPod, type CopyPodSpec } from '../../src/engines/tar/pod.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyScript, PLAN_AWK, READAHEAD } from '../../src/engines/tar/script.js';
import { runCopyScript } from './local-copy.js';

const base: CopyPodSpec = {
  name: 'pvmove-copy-data-m1',
  namespace: 'shop',
  labels: { 'pvmove.kubectl.io/migration-id': 'm1' },
  sourceClaim: 'data',
  targetClaim: 'data-pvmove-m1',
  copy: { ...DEFAULT_COPY },
  verify: 'count',
};

type PodSpecView = {
  restartPolicy: string;
  securityContext: { runAsUser: number };
  containers: { image: string; imagePullPolicy: string; command: string[]; volumeMounts: unknown[] }[];
  volumes: unknown[];
  affinity?: unknown;
  tolerations?: unknown;
  nodeSelector?: unknown;
};

describe('copy pod manifest', () => {
  it('mounts the source read-only at /src and the target at /dst, as root, never restarting', () => {
    const pod = buildCopyPod(base);
    const spec = pod.spec as unknown as PodSpecView;
    expect(spec.restartPolicy).to.equal('Never');
    expect(spec.securityContext.runAsUser).to.equal(0);
    const c = spec.containers[0];
    expect(c?.image).to.equal(DEFAULT_IMAGE);
    expect(c?.imagePullPolicy).to.equal('IfNotPresent');
    expect(c?.volumeMounts).to.deep.equal([
      { name: 'src', mountPath: '/src', readOnly: true },
      { name: 'dst', mountPath: '/dst' },
    ]);
    expect(spec.volumes).to.deep.equal([
      { name: 'src', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
      { name: 'dst', persistentVolumeClaim: { claimName: 'data-pvmove-m1' } },
    ]);
    expect(spec).to.not.have.property('affinity');
    expect(pod.metadata.labels).to.deep.equal({ 'pvmove.kubectl.io/migration-id': 'm1' });
  });

  it("copies the source PV's node affinity as a required node affinity", () => {
    const terms = [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] },
    ];
    const spec = buildCopyPod({ ...base, sourceNodeAffinity: { nodeSelectorTerms: terms } })
      .spec as unknown as PodSpecView;
    expect(spec.affinity).to.deep.equal({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
    });
  });

  it('takes image, pull policy, tolerations and node selector from the options', () => {
    const spec = buildCopyPod({
      ...base,
      copy: {
        image: 'registry.local/tools:1',
        imagePullPolicy: 'Never',
        tolerations: [{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }],
        nodeSelector: { disk: 'ssd' },
      },
    }).spec as unknown as PodSpecView;
    expect(spec.containers[0]?.image).to.equal('registry.local/tools:1');
    expect(spec.containers[0]?.imagePullPolicy).to.equal('Never');
    expect(spec.tolerations).to.deep.equal([{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.nodeSelector).to.deep.equal({ disk: 'ssd' });
  });
});

describe('copy script', () => {
  it('fails on any error in the tar pipeline and preserves everything', () => {
    const s = copyScript('count');
    expect(s).to.match(/^set -euo pipefail/);
    for (const flag of [
      '--numeric-owner',
      '--acls',
      '--xattrs',
      "--xattrs-include='*'",
      '--sparse',
      '--one-file-system',
    ]) {
      expect(s).to.include(flag);
    }
    expect(s).to.include('--same-owner --preserve-permissions');
    expect(s).to.include('--checkpoint-action="echo=PVMOVE progress checkpoint=%u"');
    expect(s).to.include('die 4 "tar-failed');
    // Both tars' exit codes are checked (they are joined by a fifo, not a pipefail pipeline).
    expect(s).to.include('if [ "$create_rc" -ne 0 ] || [ "$extract_rc" -ne 0 ]; then');
  });

  it('measures before copying and refuses when the data does not fit', () => {
    const s = copyScript('count');
    expect(s.indexOf('say "total_bytes=')).to.be.lessThan(s.indexOf('tar --create'));
    expect(s).to.include('die 3 "insufficient-space');
  });

  it('verifies by count, checksum or not at all', () => {
    expect(copyScript('count')).to.include('say "verify ok mode=count');
    expect(copyScript('count')).to.not.include('sha256sum --');
    expect(copyScript('checksum')).to.include('sha256sum --');
    expect(copyScript('checksum')).to.include('say "verify ok mode=checksum');
    expect(copyScript('none')).to.include('verify skipped');
    expect(copyScript('none')).to.not.include('verify ok');
  });
});

describe('copy pod hash', () => {
  it('changes with what a re-run may change, and only then', () => {
    const hash = (s: CopyPodSpec) => buildCopyPod(s).metadata.annotations?.['pvmove.kubectl.io/pod-hash'];
    expect(hash(base)).to.match(/^[0-9a-f]{12}$/);
    expect(hash({ ...base, name: 'other-name' })).to.equal(hash(base));
    expect(hash({ ...base, copy: { ...base.copy, image: 'x/y:1' } })).to.not.equal(hash(base));
    expect(hash({ ...base, copy: { ...base.copy, nodeSelector: { a: 'b' } } })).to.not.equal(hash(base));
    expect(hash({ ...base, verify: 'checksum' })).to.not.equal(hash(base));
  });
});

describe('copy script readahead plan', () => {
  // The awk program runs here as it runs in the copy pod (Debian's mawk in both places).
  const plan = (list: string, large = 0): Record<string, string> => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pvmove-ra-'));
    try {
      execFileSync('mkdir', ['-p', `${dir}/readahead`, `${dir}/large`]);
      const program = PLAN_AWK.replaceAll('/tmp/', `${dir}/`);
      execFileSync('awk', ['-v', `large=${large}`, '-v', 'bf=256', program], {
        input: list,
        encoding: 'utf8',
      });
      const files: Record<string, string> = {};
      for (const sub of ['readahead', 'large'])
        for (const name of readdirSync(`${dir}/${sub}`))
          files[`${sub}/${name}`] = readFileSync(path.join(dir, sub, name), 'utf8');
      return files;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('reads each inode once, skips empty and sparse files, keeps spaces in names', () => {
    const files = plan(
      [
        '4096 8 1 11 a file',
        '0 0 1 12 empty',
        '1073741824 8192 1 13 sparse.img',
        '100 8 2 14 linked',
        '100 8 2 14 dir/other link',
      ].join('\n') + '\n',
    );
    expect(files).to.deep.equal({
      'readahead/1.files': 'a file\nlinked\n',
      'readahead/work': '0 4196 f 1\n',
    });
  });

  it('reads a large file as segments, and gives each item the data bytes before it', () => {
    const seg = READAHEAD.segmentBytes;
    const big = seg + 10;
    const files = plan(
      [`10 8 1 2 s1`, `${big} ${Math.ceil(big / 512)} 1 1 big one`, `20 8 1 3 s2`].join('\n') + '\n',
    );
    expect(files['readahead/work']).to.equal(
      `0 10 f 1\n10 ${seg} c 0 big one\n${10 + seg} 10 c ${seg} big one\n${20 + seg} 20 f 2\n`,
    );
    expect(files['readahead/2.files']).to.equal('s2\n');
  });

  it('closes a group of small files at its file limit', () => {
    const many = Array.from({ length: READAHEAD.filesPerReader + 1 }, (_, i) => `1 8 1 ${i + 10} f${i}`);
    expect(plan(many.join('\n') + '\n')['readahead/work']).to.equal(
      `0 ${READAHEAD.filesPerReader} f 1\n${READAHEAD.filesPerReader} 1 f 2\n`,
    );
  });

  it('sets large single-link files apart for cp, with their records and tar exclusions', () => {
    const mib = 1024 * 1024;
    const files = plan(
      [
        `${2 * mib} 4096 1 1 dir/big one`,
        `10 8 1 2 small`,
        `${2 * mib} 4096 2 3 linked`,
        `${3 * mib} 6144 1 4 back\\slash`,
        `${mib} 2048 1 5 b*[x]`,
      ].join('\n') + '\n',
      mib,
    );
    expect(files['large/index']).to.equal(`1 16 0 dir/big one\n2 24 ${2 * mib} b*[x]\n`);
    expect(files['large/exclude']).to.equal('./dir/big one\n./b*[x]\n');
    expect(files['large/1.work']).to.equal(`0 ${2 * mib} c 0 dir/big one\n`);
    expect(files['large/2.work']).to.equal(`${2 * mib} ${mib} c 0 b*[x]\n`);
    // tar keeps the small file, the hardlinked one and the one with a backslash in its name.
    expect(files['readahead/work']).to.equal(`0 ${10 + 5 * mib} f 1\n`);
    expect(files['readahead/1.files']).to.equal('small\nlinked\nback\\slash\n');
  });
});

describe('copy script run locally: a copy an earlier run made is checked, not trusted', function () {
  // The script as the pod runs it, with /src, /dst and /tmp moved into a scratch directory.
  this.timeout(60_000);
  let root: string;
  const run = (expect?: string): string => {
    try {
      return runCopyScript(root, 'count', expect ? { PVMOVE_EXPECT_FINGERPRINT: expect } : {});
    } finally {
      rmSync(`${root}/tmp`, { recursive: true, force: true });
      execFileSync('mkdir', ['-p', `${root}/tmp`]);
    }
  };
  const lines = (log: string) =>
    log.split('\n').filter((l) => l.startsWith('PVMOVE ') && !l.includes('progress'));
  const fingerprint = (log: string) => /PVMOVE fingerprint=(\w+)/.exec(log)?.[1] ?? '';

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-copy-'));
    execFileSync('bash', [
      '-c',
      `mkdir -p ${root}/src/a ${root}/dst ${root}/tmp && echo hi > ${root}/src/a/f`,
    ]);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('copies, then finds an unchanged source and copies nothing again', () => {
    const first = run();
    expect(lines(first).at(-1)).to.match(/^PVMOVE verify ok mode=count files=2 bytes=3 /);
    const again = lines(run(fingerprint(first)));
    expect(again).to.include('PVMOVE earlier-copy unchanged');
    expect(again.some((l) => l.startsWith('PVMOVE copy started'))).to.equal(false);
  });

  it('clears the target and copies again when the source changed since', () => {
    const first = run();
    execFileSync('bash', ['-c', `echo later > ${root}/src/a/g && rm ${root}/src/a/f`]);
    const again = lines(run(fingerprint(first)));
    expect(again).to.include('PVMOVE earlier-copy source-changed');
    expect(again).to.include('PVMOVE clearing-target entries of an earlier copy');
    expect(again.at(-1)).to.match(/^PVMOVE verify ok mode=count files=2 bytes=6 /);
    expect(readdirSync(`${root}/dst/a`)).to.deep.equal(['g']);
  });

  it('copies again when the target no longer matches, even with the source unchanged', () => {
    const first = run();
    execFileSync('bash', ['-c', `echo junk > ${root}/dst/junk`]);
    const again = lines(run(fingerprint(first)));
    expect(again.find((l) => l.startsWith('PVMOVE earlier-copy'))).to.match(
      /^PVMOVE earlier-copy target-differs /,
    );
    expect(readdirSync(`${root}/dst`)).to.deep.equal(['a']);
  });
});

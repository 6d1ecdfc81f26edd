// Figures of the single binary: startup of `--help` (run directly and as `kubectl pvmove`, median
// of N runs, against `node -e 0` of the same pinned Node), binary and archive size, and the peak RSS
// of a real migration on the test bed (/usr/bin/time -v). Prints a table, writes .bench/binary.json.
//
//   npm run bench:binary [-- --runs 21] [-- --no-cluster] [-- --startup-only]
// --startup-only: only the startup rows (no archive, no migration), quick; nothing is written.
// Needs dist/kubectl-pvmove (npm run build:binary); the migration needs KUBECONFIG (the test bed)
// and creates, then deletes, a namespace dev-bin-bench-*.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');
const binary = path.join(root, 'dist/kubectl-pvmove');
const TARGETS = { helpRatio: 2, archiveMB: 45, peakRssMB: 150 };

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '21' },
    'no-cluster': { type: 'boolean' },
    'startup-only': { type: 'boolean' },
  },
});
const runs = Number(values.runs);
if (!existsSync(binary)) fail('dist/kubectl-pvmove is missing: npm run build:binary');
const pinned = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies?.node;
if (pinned && process.versions.node !== pinned) {
  fail(
    `run with the pinned Node ${pinned} (npm run bench:binary), not ${process.version}: it is the baseline`,
  );
}

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median wall time (ms) of `runs` runs, after 2 warm-up runs; fails if a run fails. */
function startup(cmd, args, env) {
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= 2) times.push(ms);
  }
  return { medianMs: +median(times).toFixed(1), minMs: +Math.min(...times).toFixed(1), runs };
}

const work = mkdtempSync(path.join(tmpdir(), 'pvmove-bench-'));
try {
  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(binary, path.join(bin, 'kubectl-pvmove'));
  const env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: process.env.HOME ?? work };
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();

  const node = startup(process.execPath, ['-e', '0'], env);
  const direct = startup(binary, ['--help'], env);
  const versionDirect = startup(binary, ['--version'], env);
  const viaKubectl = startup('kubectl', ['pvmove', '--help'], env);
  const kubectlAlone = startup('kubectl', ['version', '--client'], env);
  const ratio = (x) => +(x.medianMs / node.medianMs).toFixed(2);
  const ok = (good) => (good ? 'ok' : 'MISSED');
  const startupRows = [
    ['node -e 0 (pinned Node baseline)', `${node.medianMs} ms`, '', ''],
    ...[
      ['dist/kubectl-pvmove --help', direct],
      ['dist/kubectl-pvmove --version', versionDirect],
      ['kubectl pvmove --help', viaKubectl],
    ].map(([name, x]) => [
      name,
      `${x.medianMs} ms`,
      `${ratio(x)}x`,
      `<= ${TARGETS.helpRatio}x ${ok(ratio(x) <= TARGETS.helpRatio)}`,
    ]),
    ['kubectl version --client (kubectl alone)', `${kubectlAlone.medianMs} ms`, '', ''],
  ];
  if (values['startup-only']) {
    printTable(`${version}, ${process.version}, median of ${runs} runs (startup only)`, startupRows);
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }

  // The archive exactly as released (release.sh --archives-only).
  execFileSync(
    'bash',
    ['scripts/binary/release.sh', '--archives-only', path.join(work, 'rel'), 'linux-amd64'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pkgVersion = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const archive = path.join(work, 'rel', `kubectl-pvmove_v${pkgVersion}_linux_amd64.tar.gz`);
  const binaryMB = statSync(binary).size / 1e6;
  const archiveMB = statSync(archive).size / 1e6;

  const migration = values['no-cluster'] || !process.env.KUBECONFIG ? undefined : migrate(env);

  const result = {
    time: new Date().toISOString(),
    version,
    node: process.version,
    startup: {
      nodeE0: node,
      helpDirect: { ...direct, ratio: ratio(direct) },
      versionDirect: { ...versionDirect, ratio: ratio(versionDirect) },
      helpViaKubectl: { ...viaKubectl, ratio: ratio(viaKubectl) },
      kubectlVersionClient: kubectlAlone,
    },
    size: { binaryMB: +binaryMB.toFixed(1), archiveMB: +archiveMB.toFixed(1) },
    migration,
    targets: TARGETS,
  };
  mkdirSync(path.join(root, '.bench'), { recursive: true });
  writeFileSync(path.join(root, '.bench/binary.json'), `${JSON.stringify(result, null, 2)}\n`);

  const rows = [
    ...startupRows,
    ['binary size', `${result.size.binaryMB} MB`, '', ''],
    [
      'archive (.tar.gz)',
      `${result.size.archiveMB} MB`,
      '',
      `< ${TARGETS.archiveMB} MB ${ok(archiveMB < TARGETS.archiveMB)}`,
    ],
  ];
  if (migration) {
    rows.push([
      `peak RSS, migration of ${migration.dataMB} MB`,
      `${migration.peakRssMB} MB`,
      `${migration.wallS} s`,
      `< ${TARGETS.peakRssMB} MB ${ok(migration.peakRssMB < TARGETS.peakRssMB)}`,
    ]);
  } else rows.push(['peak RSS, migration', 'skipped (no KUBECONFIG or --no-cluster)', '', '']);
  printTable(`${version}, ${process.version}, median of ${runs} runs`, rows);
  process.stdout.write('wrote .bench/binary.json\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}

function printTable(title, rows) {
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(`${title}\n`);
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
}

// One real migration on the test bed, measured by /usr/bin/time -v: a claim of class standard
// with `dataMB` of data, moved to class fast, then cleaned up; the namespace is deleted.
function migrate(env) {
  const dataMB = 64;
  const kenv = { ...env, KUBECONFIG: process.env.KUBECONFIG };
  const ns = `dev-bin-bench-${Date.now().toString(36)}`;
  const kubectl = (args, input) =>
    execFileSync('kubectl', args, { env: kenv, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
  const manifests = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data', namespace: ns },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'standard',
          resources: { requests: { storage: '1Gi' } },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'seed', namespace: ns },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'sh',
              image: process.env.PVMOVE_TEST_IMAGE ?? 'docker.io/library/debian:12-slim',
              imagePullPolicy: 'IfNotPresent',
              command: [
                'bash',
                '-ec',
                `head -c ${dataMB}M /dev/urandom > /data/blob; mkdir -p /data/d; echo hi > /data/d/f`,
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        },
      },
    ],
  };
  kubectl(['create', 'namespace', ns]);
  try {
    kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', ns, '--timeout=60s']);
    kubectl(['apply', '-f', '-'], JSON.stringify(manifests));
    kubectl(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/seed', '-n', ns, '--timeout=180s']);
    kubectl(['delete', 'pod', 'seed', '-n', ns, '--wait=true']);
    const t0 = Date.now();
    const r = spawnSync(
      '/usr/bin/time',
      ['-v', 'kubectl', 'pvmove', 'data', '--to-class', 'fast', '-n', ns, '-o', 'json'],
      { env: kenv, encoding: 'utf8' },
    );
    const wallS = +((Date.now() - t0) / 1000).toFixed(1);
    if (r.status !== 0)
      fail(`migration failed (exit ${r.status}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    // kubectl execs the plugin in place of itself (same pid), so this peak is kubectl-pvmove's (or
    // kubectl's own before the exec, were it larger). Copy pods run in the cluster, not here.
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    const cleanup = spawnSync('kubectl', ['pvmove', 'cleanup', 'data', '-n', ns, '--yes', '-o', 'json'], {
      env: kenv,
      encoding: 'utf8',
    });
    if (cleanup.status !== 0) process.stderr.write(`bench: cleanup failed: ${cleanup.stderr}\n`);
    return { dataMB, peakRssMB: +(kb / 1024).toFixed(1), wallS, namespace: ns };
  } finally {
    spawnSync('kubectl', ['delete', 'namespace', ns, '--wait=true', '--timeout=180s'], {
      env: kenv,
      stdio: 'ignore',
    });
  }
}

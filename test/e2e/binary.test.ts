// The released artefact, used the way a krew user does: the linux-amd64 archive unpacked into a
// store directory, its binary symlinked onto PATH as kubectl-pvmove, run as `kubectl pvmove` from
// a clean environment (env -i: only PATH, HOME, KUBECONFIG), up to one real migration.
// Builds dist/kubectl-pvmove first when it is missing or older than the sources.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
} from '../helpers/cluster.js';
import { explain, runCli } from '../helpers/cli.js';
import { manifestViaPod } from '../helpers/volumes.js';
import { createClaim, runPod, shellPod, waitForClaimBound } from '../helpers/workloads.js';

const root = path.resolve(import.meta.dirname, '../..');
const binary = path.join(root, 'dist/kubectl-pvmove');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Newest modification time of what goes into the binary. */
function sourcesMtime(): number {
  const files: string[] = ['package.json', 'package-lock.json'].map((f) => path.join(root, f));
  for (const dir of ['src', 'scripts/binary']) {
    for (const f of readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })) {
      files.push(path.join(root, dir, f));
    }
  }
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

describe('kubectl pvmove: the built binary installed like krew does', function () {
  let c: Cluster;
  let work: string;
  let bin: string;
  let ns: string | undefined;
  const kubectl = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, {
      command: ['kubectl', 'pvmove'],
      cleanEnv: true,
      env: {
        PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
        HOME: path.join(work, 'home'),
        KUBECONFIG: process.env.KUBECONFIG ?? '',
        ...env,
      },
    });

  before(async function () {
    this.timeout(600_000);
    expect(process.env.KUBECONFIG, 'KUBECONFIG of the test bed').to.be.a('string');
    c = connect();
    if (!existsSync(binary) || statSync(binary).mtimeMs < sourcesMtime()) {
      // The pinned Node (the SEA blob must come from the base binary's Node version).
      execFileSync(path.join(root, 'node_modules/.bin/node'), ['scripts/binary/build.mjs'], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    }
    work = mkdtempSync(path.join(tmpdir(), 'pvmove-krew-'));
    mkdirSync(path.join(work, 'home'));
    // The release archive of this build (scripts/binary/release.sh), then krew's install: unpack
    // into the store, link the binary into bin/ under the name kubectl looks for.
    execFileSync(
      'bash',
      ['scripts/binary/release.sh', '--archives-only', path.join(work, 'release'), 'linux-amd64'],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const archive = path.join(work, 'release', `kubectl-pvmove_v${version}_linux_amd64.tar.gz`);
    const sum = createHash('sha256').update(readFileSync(archive)).digest('hex');
    expect(readFileSync(`${archive}.sha256`, 'utf8').trim()).to.equal(sum);
    const store = path.join(work, 'store/pvmove', sum);
    mkdirSync(store, { recursive: true });
    execFileSync('tar', ['-xzf', archive, '-C', store]);
    expect(readdirSync(store).sort()).to.deep.equal(['LICENSE', 'README.md', 'kubectl-pvmove']);
    bin = path.join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(path.join(store, 'kubectl-pvmove'), path.join(bin, 'kubectl-pvmove'));
  });

  after(async function () {
    this.timeout(300_000);
    if (ns) {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('prints its version and commit, and nothing on stderr', async () => {
    const r = await kubectl(['--version']);
    expect(r.code, explain(r)).to.equal(0);
    expect(r.stdout.trim()).to.match(
      new RegExp(`^${version.replace(/\./g, '\\.')} \\(commit [0-9a-f]{7,}(-dirty)?\\)$`),
    );
    expect(r.stderr, 'no warnings (optional modules, SEA)').to.equal('');
  });

  it('leaves out the test-only kill hook (the crash matrix runs the source)', () => {
    const shipped = readFileSync(path.join(bin, 'kubectl-pvmove'));
    // The bundle is stored as it is in the binary: another variable of the CLI is found...
    expect(shipped.includes('PVMOVE_DEBUG_REQUESTS')).to.equal(true);
    // ...but not the hook's, nor its self-kill.
    expect(shipped.includes('PVMOVE_TEST_KILL_AFTER')).to.equal(false);
    expect(shipped.includes('process.pid,"SIGKILL"')).to.equal(false);
  });

  it('prints help with examples for every command', async () => {
    for (const args of [['--help'], ['cleanup', '--help'], ['completion', '--help']]) {
      const r = await kubectl(args);
      expect(r.code, explain(r)).to.equal(0);
      expect(r.stdout, args.join(' ')).to.contain('Examples:');
      expect(r.stderr).to.equal('');
    }
    const main = await kubectl(['--help']);
    expect(main.stdout).to.contain('kubectl pvmove cleanup').and.contain('--to-class');
  });

  it('prints the same --help, -h, --version and command help as its real CLI', async () => {
    // The binary's entry prints these from texts rendered at build time (scripts/binary/entry.cjs);
    // this preload makes it run the real CLI instead (as the build's own check does).
    const preload = path.join(work, 'real-cli.cjs');
    writeFileSync(preload, 'globalThis.__PVMOVE_REAL_CLI__ = true;\n');
    const help = await kubectl(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}kubectl pvmove ([a-z][\w-]*)/gm)].map((m) => m[1]!);
    expect(commands).to.include.members(['cleanup', 'completion']);
    const cases = [
      ['--help'],
      ['-h'],
      ['--version'],
      ...commands.flatMap((c) => [
        [c, '--help'],
        [c, '-h'],
      ]),
    ];
    for (const args of cases) {
      const fast = await kubectl(args);
      const real = await kubectl(args, { NODE_OPTIONS: `--require ${preload}` });
      expect(real.code, explain(real)).to.equal(0);
      expect({ code: fast.code, stdout: fast.stdout, stderr: fast.stderr }, args.join(' ')).to.deep.equal({
        code: real.code,
        stdout: real.stdout,
        stderr: real.stderr,
      });
    }
    // A non-matching command line still reaches the real CLI (usage error, exit 2).
    const bad = await kubectl(['--help', 'extra', 'words']);
    expect(bad.code, explain(bad)).to.equal(0);
    const unknown = await kubectl(['--no-such-flag']);
    expect(unknown.code, explain(unknown)).to.equal(2);
    expect(unknown.stderr).to.contain('Unknown argument');
  });

  it('completes commands and StorageClasses from the cluster (kubectl_complete-pvmove protocol)', async () => {
    const r = await kubectl(['__complete', '--to-class', '']);
    expect(r.code, explain(r)).to.equal(0);
    expect(r.stdout.split('\n')).to.include.members(['fast', 'standard', ':4']);
    const script = await kubectl(['completion', 'bash']);
    expect(script.stdout).to.contain('complete -o default -F _kubectl_pvmove kubectl-pvmove');
  });

  it('moves a claim to class fast, keeping its data', async function () {
    this.timeout(600_000);
    ns = await createNamespace(c, 'e2e-bin');
    await createClaim(c, ns, 'data', { storageClassName: 'standard', size: '1Gi', labels: { app: 'bin' } });
    await runPod(
      c,
      ns,
      shellPod(
        'seed',
        'data',
        'head -c 2000000 /dev/urandom > /data/blob; mkdir -p /data/d; echo hi > /data/d/f',
      ),
    );
    await c.core.deleteNamespacedPod({ name: 'seed', namespace: ns, gracePeriodSeconds: 0 });
    const before = await waitForClaimBound(c, ns, 'data');
    const dataBefore = await manifestViaPod(c, ns, 'data');

    const r = await kubectl(['data', '--to-class', 'fast', '-n', ns, '-o', 'json']);
    expect(r.code, explain(r)).to.equal(0);
    expect(r.events.find((e) => e.type === 'result')?.status, explain(r)).to.equal('done');

    const after = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    expect(after.status?.phase).to.equal('Bound');
    expect(after.spec?.storageClassName).to.equal('fast');
    expect(after.spec?.volumeName).to.not.equal(before.spec?.volumeName);
    const pv = await c.core.readPersistentVolume({ name: after.spec!.volumeName! });
    expect(pv.spec?.storageClassName).to.equal('fast');
    expect(after.metadata?.labels).to.include({ app: 'bin' });
    expect(await manifestViaPod(c, ns, 'data')).to.equal(dataBefore);
  });
});

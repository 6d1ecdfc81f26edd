// Runs the bundled CLI (build/binary/kubectl-pvmove.cjs) many times in one process and records
// what each run prints: the texts that the binary's entry (entry.cjs) prints for --help & co.
// Each run evaluates the whole bundle afresh (new module state), with its own process.argv and
// process.stdout.columns (undefined: not a terminal); stdout and stderr are captured, and
// process.exit ends the run. build.mjs then checks the texts against the built binary itself.
//
//   node scripts/binary/render.cjs <bundle.cjs> <jobs.json> <results.json>
// jobs.json: [{ "args": ["--help"], "columns": 120 | null }, ...]
// results.json: [{ "stdout": "...", "stderr": "...", "code": 0 }, ...] in the same order.
/* global Buffer, setTimeout, clearTimeout */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const [bundle, jobsFile, resultsFile] = process.argv.slice(2);
const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
// What yargs' locale lookup sees in the binary when no locale files exist next to it: English.
for (const v of ['LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE']) delete process.env[v];
const filename = path.resolve(bundle);
if (fs.existsSync(path.resolve(filename, '../../../locales'))) {
  throw new Error(`${path.resolve(filename, '../../../locales')} exists: yargs would translate`);
}
const run = vm.compileFunction(
  fs.readFileSync(bundle, 'utf8'),
  ['exports', 'require', 'module', '__filename', '__dirname'],
  { filename },
);

const realExit = process.exit;
const stdoutWrite = process.stdout.write;
const stderrWrite = process.stderr.write;

function capture(sink) {
  return (chunk, encoding, cb) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (done) process.nextTick(done);
    return true;
  };
}

function render({ args, columns }) {
  return new Promise((resolve, reject) => {
    const stdout = [];
    const stderr = [];
    const listeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: did not exit within 20 s`)), 20_000);
    Object.defineProperty(process.stdout, 'columns', {
      value: columns ?? undefined,
      configurable: true,
      writable: true,
    });
    process.stdout.write = capture(stdout);
    process.stderr.write = capture(stderr);
    process.argv = [process.execPath, filename, ...args];
    process.exitCode = undefined;
    process.exit = (code) => {
      clearTimeout(timer);
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      for (const sig of ['SIGINT', 'SIGTERM']) {
        for (const l of process.listeners(sig)) if (!listeners[sig].includes(l)) process.off(sig, l);
      }
      const exitCode = code ?? process.exitCode ?? 0;
      process.exitCode = undefined;
      resolve({ stdout: stdout.join(''), stderr: stderr.join(''), code: exitCode });
    };
    const mod = { exports: {}, filename, id: '.', loaded: false, children: [], paths: [] };
    try {
      run.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
    } catch (err) {
      process.exit = realExit;
      reject(err);
    }
  });
}

(async () => {
  const results = [];
  for (const job of jobs) results.push(await render(job));
  process.exit = realExit;
  fs.writeFileSync(resultsFile, JSON.stringify(results));
  process.exit(0);
})().catch((err) => {
  process.exit = realExit;
  process.stderr.write = stderrWrite;
  process.stderr.write(`render: ${err.stack ?? err}\n`);
  process.exit(1);
});

// The single binary's SEA main script: a small entry in front of the real CLI. The real CLI (the
// esbuild bundle of src/main.ts, ~2.8 MB) is an SEA asset, compiled only when it is needed: V8
// compiling it is most of the cost of a start.
//
// `--help`, `-h`, `<command> --help|-h` and `--version` print text that the build rendered with the
// real CLI (scripts/binary/build.mjs: precomputeOutputs), for the terminal widths listed in
// PRECOMPUTED, and checked byte for byte against this binary's real CLI. Anything else, or any
// condition under which the real CLI could print something else, runs the real CLI.
//
// Not for Node to load directly: build.mjs replaces the PRECOMPUTED placeholder.
/* global __filename, __dirname, console, TextDecoder */
'use strict';

/**
 * outputs: `${width}\0${argv joined by \0}` -> asset name of the exact stdout; width is 'pipe' (stdout
 * has no columns: not a terminal) or the terminal's columns. maxColumns: wider terminals print
 * what this width prints (the build checked that), or null.
 * @type {{ outputs: Record<string, string>, maxColumns: number | null }}
 */
const PRECOMPUTED = /* PRECOMPUTED */ { outputs: {}, maxColumns: null };

const sea = require('node:sea');

function precomputed() {
  const args = process.argv.slice(2);
  // The build's check runs the real CLI in this binary by preloading a script that sets this.
  if (args.length === 0 || args.length > 2 || globalThis.__PVMOVE_REAL_CLI__) return undefined;
  const columns = process.stdout.columns;
  const width =
    columns === undefined
      ? 'pipe'
      : PRECOMPUTED.maxColumns !== null && columns > PRECOMPUTED.maxColumns
        ? PRECOMPUTED.maxColumns
        : columns;
  const asset = PRECOMPUTED.outputs[`${width}\0${args.join('\0')}`];
  if (asset === undefined) return undefined;
  // yargs translates its own words when a locale file exists in <binary>/../../../locales (it
  // never does in a release: y18n falls back to English); then only the real CLI knows the text.
  const path = require('node:path');
  if (require('node:fs').existsSync(path.resolve(__filename, '../../../locales'))) return undefined;
  return sea.getAsset(asset, 'utf8');
}

const text = precomputed();
if (text !== undefined) {
  // As the real CLI does: yargs prints with console.log, and main.ts exits once stdout drained.
  console.log(text.endsWith('\n') ? text.slice(0, -1) : text);
  process.exitCode = 0;
  process.stdout.write('', () => process.exit(0));
} else {
  // The real CLI, as if it were this main script: same require (built-in modules only, everything
  // else is bundled), module, __filename (the binary) and line numbers in stack traces.
  // getRawAsset: the blob's own bytes, no copy (getAsset copies the 2.8 MB: +3 MB peak RSS).
  const vm = require('node:vm');
  const run = vm.compileFunction(
    new TextDecoder().decode(sea.getRawAsset('kubectl-pvmove.cjs')),
    ['exports', 'require', 'module', '__filename', '__dirname'],
    { filename: __filename, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER },
  );
  run.call(module.exports, module.exports, require, module, __filename, __dirname);
}

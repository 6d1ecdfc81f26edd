// esbuild options for the single binary: the whole CLI as one CommonJS file, which Node's Single
// Executable Application runs as its main script (SEA runs CommonJS only).

// Optional peers that ws/debug/node-fetch try to require() inside try/catch. Unresolved, the
// SEA's require prints a warning on every run; stubbed to throw, the libraries fall back quietly.
const OPTIONAL = ['bufferutil', 'utf-8-validate', 'supports-color', 'encoding'];

const stubOptional = {
  name: 'stub-optional',
  setup(build) {
    const filter = new RegExp(`^(${OPTIONAL.join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'stub-optional' }));
    build.onLoad({ filter: /.*/, namespace: 'stub-optional' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled`)});`,
      loader: 'js',
    }));
  },
};

// The crash matrix's kill hook (src/cli/test-hooks.ts) is for tests run from source only: the
// release bundle gets a module whose hook is never set, so neither the environment variable's name
// nor the self-kill ships. The build fails if the module is not found (renamed, no longer used),
// rather than shipping the hook unnoticed.
const TEST_HOOKS = /(^|\/)test-hooks\.js$/;
const withoutTestHooks = {
  name: 'without-test-hooks',
  setup(build) {
    let replaced = false;
    build.onResolve({ filter: TEST_HOOKS }, (args) => {
      replaced = true;
      return { path: args.path, namespace: 'without-test-hooks' };
    });
    build.onLoad({ filter: /.*/, namespace: 'without-test-hooks' }, () => ({
      contents: 'export function testKillHook() { return undefined; }',
      loader: 'js',
    }));
    build.onEnd((result) =>
      replaced || result.errors.length > 0
        ? undefined
        : {
            errors: [
              {
                text: 'src/cli/test-hooks.ts is no longer imported: check the test hooks are not in the bundle',
              },
            ],
          },
    );
  },
};

/** @returns {import('esbuild').BuildOptions} */
export function esbuildOptions({ root, outfile, version, commit }) {
  return {
    absWorkingDir: root,
    entryPoints: ['src/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    // yargs and yargs-parser call createRequire(import.meta.url); in a CJS bundle import.meta is
    // `{}` and startup crashes without a build warning. The banner defines the URL from __filename.
    banner: { js: 'var __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: {
      'import.meta.url': '__import_meta_url',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
      __PVMOVE_VERSION__: JSON.stringify(version),
      __PVMOVE_COMMIT__: JSON.stringify(commit),
    },
    plugins: [stubOptional, withoutTestHooks],
  };
}

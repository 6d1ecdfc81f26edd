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
    plugins: [stubOptional],
  };
}

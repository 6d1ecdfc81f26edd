// The layers as docs/architecture.md draws them: the core depends on ports only; src/kube (the API
// server) and src/engines (how data is copied) implement them; only the CLI wires them together.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

/** Every module a source file imports, as a path below src/ (packages as they are written). */
function imports(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => {
    const spec = m[1]!;
    return spec.startsWith('.')
      ? path.relative(root, path.resolve(path.dirname(path.join(root, file)), spec))
      : spec;
  });
}

function offending(dir: string, forbidden: (spec: string) => boolean): string[] {
  return sources(dir).flatMap((f) =>
    imports(f)
      .filter(forbidden)
      .map((spec) => `${f} imports ${spec}`),
  );
}

describe('architecture: who may import whom', () => {
  it('the core imports neither src/kube, src/engines, src/cli nor the Kubernetes client', () => {
    expect(
      offending(
        'core',
        (s) =>
          /^(kube|engines|cli)\//.test(s) || s.startsWith('@kubernetes/') || s === 'yargs' || s === 'listr2',
      ),
    ).to.deep.equal([]);
  });

  it('copy engines build pods and parse logs: no API client, no CLI, no other engine', () => {
    expect(
      offending('engines', (s) => /^(kube|cli)\//.test(s) || s.startsWith('@kubernetes/')),
    ).to.deep.equal([]);
    for (const engine of readdirSync(path.join(root, 'engines'))) {
      const others = offending(
        `engines/${engine}`,
        (s) =>
          s.startsWith('engines/') && !s.startsWith(`engines/${engine}/`) && !s.startsWith('engines/shared/'),
      );
      expect(others, engine).to.deep.equal([]);
    }
  });

  it('src/kube talks to the API server and imports neither the CLI nor an engine', () => {
    expect(offending('kube', (s) => /^(cli|engines)\//.test(s))).to.deep.equal([]);
  });
});

// The krew manifest, checked against krew's own rules (its validate.go) so the index accepts it:
// plugin.yaml at the repo root (committed) and dist/pvmove.yaml (what is submitted to the index,
// named after metadata.name), both rendered by scripts/binary/release.sh. When the release
// archives exist, every sha256 and every archive's content are checked too.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const releaseDir = path.join(root, 'dist/release');
const pkgVersion = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string })
  .version;

interface Platform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: Array<{ from?: string; to?: string }>;
}
interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    version?: string;
    homepage?: string;
    shortDescription?: string;
    description?: string;
    platforms?: Platform[];
  };
}

const manifests = [
  // Our product keeps the manifest as plugin.yaml; krew's rule (name == file name) applies to the
  // copy submitted to the index.
  { file: 'plugin.yaml', expectedName: 'pvmove' },
  { file: 'dist/pvmove.yaml', expectedName: 'pvmove', optional: true },
];

for (const { file, expectedName, optional } of manifests) {
  describe(`krew manifest ${file}`, function () {
    let m: Manifest;
    const full = path.join(root, file);

    before(function () {
      if (optional && !existsSync(full)) this.skip(); // only after `npm run release`
      m = parse(readFileSync(full, 'utf8')) as Manifest;
    });

    it('is a krew v1alpha2 Plugin named after its file', () => {
      expect(m.apiVersion).to.equal('krew.googlecontainertools.github.com/v1alpha2');
      expect(m.kind).to.equal('Plugin');
      expect(m.metadata?.name).to.match(/^[\w-]+$/);
      expect(m.metadata?.name).to.equal(expectedName);
      if (file !== 'plugin.yaml') expect(path.basename(file, '.yaml')).to.equal(m.metadata?.name);
    });

    if (file === 'plugin.yaml') {
      it('names the build it was rendered from (version and commit)', () => {
        expect(readFileSync(full, 'utf8')).to.match(
          new RegExp(
            `^# \\(${pkgVersion.replace(/\./g, '\\.')} \\(commit [0-9a-f]{12}\\)\\); do not edit`,
            'm',
          ),
        );
      });
    }

    it('has a semver version with a leading v, equal to package.json', () => {
      expect(m.spec?.version).to.match(/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
      expect(m.spec?.version).to.equal(`v${pkgVersion}`);
    });

    it('has a one-line shortDescription, a homepage and a description with usage and caveats', () => {
      expect(m.spec?.shortDescription).to.be.a('string').and.not.match(/\n/);
      expect(m.spec?.shortDescription?.trim()).to.not.equal('');
      expect(m.spec?.homepage).to.match(/^https:\/\//);
      expect(m.spec?.description).to.contain('Usage:').and.contain('Caveats:');
    });

    it('lists the five release platforms, with the bin name krew expects on each', () => {
      const platforms = m.spec?.platforms ?? [];
      expect(
        platforms.map((p) => `${p.selector?.matchLabels?.os}-${p.selector?.matchLabels?.arch}`),
      ).to.deep.equal(['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64']);
      for (const p of platforms) {
        expect(p.bin).to.equal(
          p.selector?.matchLabels?.os === 'windows' ? 'kubectl-pvmove.exe' : 'kubectl-pvmove',
        );
      }
    });

    it('has platforms with uri, lowercase sha256, bin, and os/arch-only selectors that do not overlap', () => {
      const platforms = m.spec?.platforms ?? [];
      expect(platforms.length, 'at least one platform').to.be.above(0);
      const seen = new Set<string>();
      for (const p of platforms) {
        expect(p.uri).to.match(/^https:\/\/\S+\.(tar\.gz|zip)$/);
        expect(p.sha256).to.match(/^[a-f0-9]{64}$/);
        expect(p.bin).to.be.a('string').and.not.equal('');
        expect(p.selector?.matchExpressions, 'selectors use matchLabels only').to.equal(undefined);
        const labels = p.selector?.matchLabels ?? {};
        expect(Object.keys(labels)).to.have.members(['os', 'arch']);
        const key = `${labels.os}/${labels.arch}`;
        expect(seen.has(key), `overlapping selector ${key}`).to.equal(false);
        seen.add(key);
        if (labels.os === 'windows') expect(p.bin).to.match(/\.exe$/);
        for (const f of p.files ?? []) {
          expect(f.from).to.be.a('string').and.not.equal('');
          expect(f.to).to.be.a('string').and.not.equal('');
        }
      }
    });

    it('matches the release archives in dist/release (sha256, LICENSE, bin, regular files only)', function () {
      this.timeout(120_000); // hashes ~100 MB per platform
      const platforms = m.spec?.platforms ?? [];
      const archives = platforms.map((p) => path.join(releaseDir, path.basename(p.uri ?? '')));
      if (!archives.some((a) => existsSync(a))) this.skip(); // no release built here
      platforms.forEach((p, i) => {
        const archive = archives[i]!;
        expect(existsSync(archive), `${archive} exists`).to.equal(true);
        const sum = createHash('sha256').update(readFileSync(archive)).digest('hex');
        expect(sum, `sha256 of ${path.basename(archive)}; re-run npm run release`).to.equal(p.sha256);
        const entries = listArchive(archive);
        expect(entries.map((e) => e.name)).to.include.members(['LICENSE', p.bin!]);
        for (const e of entries)
          expect(e.type, `${e.name} is a regular file or directory`).to.be.oneOf(['-', 'd']);
      });
    });
  });
}

function listArchive(archive: string): Array<{ name: string; type: string }> {
  if (archive.endsWith('.zip')) {
    // zipinfo: "-rwxr-xr-x  3.0 unx 96545792 bx defN 26-Nov-30 14:19 kubectl-pvmove.exe"
    return execFileSync('unzip', ['-Z', archive], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^[-dl?]/.test(l) && /\s\d\d:\d\d\s/.test(l))
      .map((l) => ({ type: l[0]!, name: l.replace(/^.*\s\d\d:\d\d\s/, '') }));
  }
  return execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8', maxBuffer: 1 << 20 })
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ type: l[0]!, name: l.replace(/^.*\s\d\d:\d\d\s/, '').replace(/^\.\//, '') }));
}

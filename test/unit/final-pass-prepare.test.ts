import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_COPY } from '../../src/core/defaults.js';
import { tarEngine } from '../../src/engines/tar/index.js';
import { PRECOPY_DIR } from '../../src/engines/tar/script.js';

// The waiting final-pass pod's script, run here as the pod runs it (/src, /dst, /tmp and the go
// annotation's file moved into a scratch directory): told to prepare, it reads ahead and says so,
// still copying nothing; told to go, it makes the final pass (level 1 against the warm pass's
// state) and verifies.
describe('the waiting final-pass pod: prepare, then go', function () {
  this.timeout(60_000);
  let root: string;

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-prepare-'));
    execFileSync('bash', [
      '-c',
      `set -e; cd ${root}; mkdir -p src/d dst tmp go; cd src
       for i in 1 2 3 4 5; do echo "file $i" > d/f$i; done; echo keep > kept
       # the warm pass: its time and walk, then its copy, kept on the target as the pod keeps them
       mkdir -p ../dst/${PRECOPY_DIR}
       date +%s.%N > ../dst/${PRECOPY_DIR}/since
       find . -xdev -printf '%C@ %y %s %i %p\\0' | LC_ALL=C sort -z > ../dst/${PRECOPY_DIR}/list
       tar --create --file=- . | tar --extract --file=- -C ../dst
       sleep 0.1; echo changed >> d/f2; echo new > d/new`,
    ]);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads ahead on "prepare" (the two files changed since the warm pass), copies only on "go"', async () => {
    const pod = tarEngine.buildPod({
      name: 'copy',
      namespace: 'ns',
      labels: {},
      sourceClaim: 'a',
      targetClaim: 'b',
      copy: { ...DEFAULT_COPY },
      verify: 'count',
      awaitGo: true,
    });
    const { containers } = pod.spec as unknown as { containers: { command: string[] }[] };
    const script = containers[0]!.command[2]!.replace(
      /(?<![\w.])\/(src|dst|tmp|pvmove-go)\b/g,
      (_m, dir: string) => `${root}/${dir === 'pvmove-go' ? 'go' : dir}`,
    );
    const child = spawn('bash', ['-c', `exec 2>&1\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const until = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).to.match(re);
    };
    const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(out, 'nothing before an annotation').to.equal('');
      writeFileSync(`${root}/go/go`, 'prepare');
      await until(/^PVMOVE prepared$/m);
      expect(out).to.match(/^PVMOVE preparing$/m);
      expect(out).to.match(/^PVMOVE prepare changed_files=2$/m, out);
      expect(out, 'no copy before go').to.not.match(/PVMOVE (go|pass|copy)/);
      expect(() => readFileSync(`${root}/dst/d/new`)).to.throw();
      writeFileSync(`${root}/go/go`, 'go');
      expect(await done, out).to.equal(0);
      expect(out).to.match(/^PVMOVE go$/m);
      expect(out).to.match(/^PVMOVE pass final level=1$/m);
      expect(out).to.match(/^PVMOVE verify ok /m);
      expect(readFileSync(`${root}/dst/d/new`, 'utf8')).to.equal('new\n');
      expect(readFileSync(`${root}/dst/d/f2`, 'utf8')).to.equal('file 2\nchanged\n');
      expect(out.trimEnd(), "only the script's lines (no job-control noise)").to.not.match(
        /^(?!(tar: )?PVMOVE )/m,
      );
    } finally {
      child.kill();
    }
  });
});

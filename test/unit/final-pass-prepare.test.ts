import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_COPY } from '../../src/core/defaults.js';
import { tarEngine } from '../../src/engines/tar/index.js';
import { PRECOPY_DIR } from '../../src/engines/tar/script.js';

// The waiting final-pass pod's script, run here as the pod runs it (/src, /dst, /tmp and the go
// annotation's file moved into a scratch directory): told to prepare, it makes one more warm pass
// and says so; told to go, it makes the final pass (level 1 against the state that pass left) and
// verifies.
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

  /** The waiting pod's script, its output, and a way to wait for a line. */
  function startPod() {
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
    const state = { child, out: '' };
    child.stdout.on('data', (b: Buffer) => (state.out += b.toString()));
    const until = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(state.out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(state.out).to.match(re);
    };
    const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { pod: state, until, done };
  }

  it('on "prepare" makes one more warm pass (its lines kept out of the log); on "go" the final pass copies what changed since', async () => {
    const { pod, until, done } = startPod();
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(pod.out, 'nothing before an annotation').to.equal('');
      writeFileSync(`${root}/go/go`, 'prepare');
      await until(/^PVMOVE prepared$/m);
      expect(pod.out).to.match(/^PVMOVE preparing$/m);
      const copied = Number(/^PVMOVE prepare copied_entries=(\d+)$/m.exec(pod.out)?.[1]);
      expect(copied, pod.out).to.be.at.least(2);
      expect(pod.out, "the warm pass's lines are not the final pass's").to.not.match(
        /PVMOVE (go|pass|copy|warm)/,
      );
      expect(readFileSync(`${root}/dst/d/new`, 'utf8'), 'copied before the stop').to.equal('new\n');
      // Written between the prepare and the stop: the final pass's to copy.
      execFileSync('bash', ['-c', `cd ${root}/src && echo late > d/late && echo again >> d/f3 && rm d/f4`]);
      writeFileSync(`${root}/go/go`, 'go');
      expect(await done, pod.out).to.equal(0);
      expect(pod.out).to.match(/^PVMOVE go$/m);
      expect(pod.out).to.match(/^PVMOVE pass final level=1$/m);
      expect(pod.out).to.match(/^PVMOVE verify ok /m);
      expect(readFileSync(`${root}/dst/d/late`, 'utf8')).to.equal('late\n');
      expect(readFileSync(`${root}/dst/d/f3`, 'utf8')).to.equal('file 3\nagain\n');
      expect(readFileSync(`${root}/dst/d/f2`, 'utf8')).to.equal('file 2\nchanged\n');
      expect(() => readFileSync(`${root}/dst/d/f4`), 'deleted after the prepare').to.throw();
      expect(pod.out.trimEnd(), "only the script's lines (no job-control noise)").to.not.match(
        /^(?!(tar: )?PVMOVE )/m,
      );
    } finally {
      pod.child.kill();
    }
  });

  it("without a warm pass's state (a move of an older version) reads ahead instead, copying nothing before go", async () => {
    rmSync(`${root}/dst/${PRECOPY_DIR}`, { recursive: true });
    const { pod, until, done } = startPod();
    try {
      writeFileSync(`${root}/go/go`, 'prepare');
      await until(/^PVMOVE prepared$/m);
      expect(pod.out).to.match(/^PVMOVE prepare changed_files=0$/m);
      expect(() => readFileSync(`${root}/dst/d/new`), 'no copy before go').to.throw();
      writeFileSync(`${root}/go/go`, 'go');
      expect(await done, pod.out).to.equal(0);
      expect(pod.out).to.match(/^PVMOVE pass final level=0$/m);
      expect(readFileSync(`${root}/dst/d/new`, 'utf8')).to.equal('new\n');
    } finally {
      pod.child.kill();
    }
  });
});

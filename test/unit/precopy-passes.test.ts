import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PRECOPY_DIR, SINCE_MARGIN_S } from '../../src/engines/tar/script.js';
import { canRunLocally, manifest, runCopyScript } from './local-copy.js';

// Warm passes, then the final pass, of the copy script run here as the pod runs it: after every
// kind of change between the passes the target must hold exactly the source (the manifest: owners,
// modes, nanosecond times of files and directories, xattrs, ACLs, links, contents), and a pass after
// a warm one must copy only what changed.
const TREE = `
mkdir -p keep/deep/er gone-dir/sub moved-dir/inner to-file to-link/sub 'odd [x]*'
printf 'was a dir\\n' > to-link/sub/f
for i in $(seq 1 40); do printf 'file %s\\n' "$i" > keep/deep/er/f$i; done
printf 'same size A\\n' > keep/rewritten; touch -d '2001-02-03 04:05:06.123456789' keep/rewritten
printf 'gone\\n' > gone-dir/sub/x; printf 'gone\\n' > gone-file
printf 'inner\\n' > moved-dir/inner/i; printf 'moved\\n' > moved-file
printf 'to-dir\\n' > to-dir; printf 'child\\n' > to-file/child
printf 'mode\\n' > chmodded; printf 'owner\\n' > chowned; printf 'attr\\n' > xattred
printf 'link\\n' > linked; ln linked linked-old; ln -s keep symlink
printf 'nl\\n' > 'new
line'; printf 'bs\\n' > 'back\\slash'; printf 'dash\\n' > ./-dash; printf 'odd\\n' > 'odd [x]*/s p a c e'
touch -d '2002-03-04 05:06:07.5' keep keep/deep moved-dir
`;

// Every change the final pass must follow; none of them changes the size of a file it rewrites.
const CHANGES = `
printf 'same size B\\n' > keep/rewritten; touch -d '2001-02-03 04:05:06.123456789' keep/rewritten
rm -r gone-dir gone-file
mv moved-dir moved-dir-renamed; mv moved-file keep/moved-file
rm to-dir; mkdir to-dir; printf 'now a dir\\n' > to-dir/f
rm -r to-file; printf 'now a file\\n' > to-file
rm -r to-link; mkdir -p real/sub; printf 'through the link\\n' > real/sub/f; ln -s real to-link
chmod 0600 chmodded; chown 4321:8765 chowned; setfattr -n user.later -v 1 xattred
setfacl -m u:1234:r keep/deep/er/f7
rm linked-old; ln linked linked-new; ln -sfn moved-dir-renamed symlink
printf 'NL\\n' > 'new
line'; rm 'back\\slash'; printf 'new\\n' > 'back\\slash2'
mkdir -p fresh/a/b; printf 'fresh\\n' > fresh/a/b/c; printf 'empty next\\n' > fresh/e; : > fresh/e
chmod 0750 .
`;

describe('copy script run locally: warm passes, then a final pass that copies only what changed', function () {
  this.timeout(120_000);
  let root: string;

  before(function () {
    if (!canRunLocally()) this.skip();
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pvmove-precopy-'));
    execFileSync('bash', ['-c', `mkdir -p ${root}/src ${root}/dst && cd ${root}/src && ${TREE}`]);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** One pass, in a scratch directory of its own, as a new copy pod. */
  const pass = (name: 'warm' | 'final'): string[] => {
    execFileSync('bash', ['-c', `rm -rf ${root}/tmp && mkdir -p ${root}/tmp`]);
    const log = runCopyScript(root, 'checksum', { PVMOVE_PASS: name });
    return log.split('\n').filter((l) => l.startsWith('PVMOVE ') && !l.includes('progress'));
  };
  const inSource = (script: string) => execFileSync('bash', ['-c', `cd ${root}/src && ${script}`]);
  /** The change times stay apart from the earlier walk's (the records differ by them). */
  const later = () => execFileSync('sleep', ['0.05']);

  it('after every kind of change, the target holds exactly the source; only the changes are copied', () => {
    // Entries changed within SINCE_MARGIN_S before a walk are copied again by the next pass.
    execFileSync('sleep', [String(SINCE_MARGIN_S + 0.1)]);
    expect(pass('warm')).to.include('PVMOVE pass warm level=0');
    expect(existsSync(`${root}/dst/${PRECOPY_DIR}/list`)).to.equal(true);
    later();
    inSource(CHANGES);
    const final = pass('final');
    expect(final).to.include('PVMOVE pass final level=1');
    // Neither keep/deep/er nor its 40 files are copied again (f7's ACL is): a handful of the 70 entries.
    const changes = final.find((l) => l.startsWith('PVMOVE changes ')) ?? '';
    const [, copied, removed] = /copy=(\d+) remove=(\d+)/.exec(changes) ?? [];
    expect(Number(copied), changes).to.be.within(20, 32);
    // gone-dir (3 entries), gone-file, moved-dir (3), moved-file, linked-old, back\slash, to-file/child,
    // and the directories replaced by a file and by a symlink: to-file, to-link
    expect(Number(removed), changes).to.equal(13);
    expect(final.at(-1)).to.match(/^PVMOVE verify ok mode=checksum /);
    expect(existsSync(`${root}/dst/${PRECOPY_DIR}`)).to.equal(false);
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });

  it('a second warm pass builds on the first; the final pass on the second', () => {
    pass('warm');
    later();
    inSource(CHANGES);
    expect(pass('warm')).to.include('PVMOVE pass warm level=1');
    later();
    inSource(`rm -r fresh/a; printf 'third\\n' > keep/deep/er/f1; mv keep kept`);
    expect(pass('final')).to.include('PVMOVE pass final level=1');
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });

  it("a file system whose clock runs behind this pod's: the changes are found by their records", () => {
    pass('warm');
    // As if the earlier walk had started an hour after the changes' stamps: the time finds nothing.
    const since = `${Math.floor(Date.now() / 1000) + 3600}.000000000`;
    execFileSync('bash', ['-c', `echo ${since} > ${root}/dst/${PRECOPY_DIR}/since`]);
    later();
    inSource(CHANGES);
    pass('final');
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });

  it("changes within the clock granularity (records equal to the earlier walk's) are found by their time", () => {
    pass('warm');
    later();
    inSource(CHANGES);
    // As if the earlier walk had read every record after these changes (a second change in the
    // same tick as the first leaves the record as the walk saw it): only the time finds them. Its
    // sorted paths go with the old list (the pass then takes them from the list).
    rmSync(`${root}/dst/${PRECOPY_DIR}/paths`);
    execFileSync('bash', [
      '-c',
      `cd ${root}/src && find . -xdev -printf '%C@ %y %s %i %p\\0' | LC_ALL=C sort -z > ${root}/dst/${PRECOPY_DIR}/list`,
    ]);
    pass('final');
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });

  it('an entry the target has and the source never had (left by an interrupted pass) is removed', () => {
    execFileSync('sleep', [String(SINCE_MARGIN_S + 0.1)]);
    pass('warm');
    execFileSync('bash', ['-c', `mkdir -p ${root}/dst/stray/dir && echo x > ${root}/dst/stray/dir/f`]);
    pass('final');
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });

  it("without a warm pass's state (a final pass that failed half way), the final pass copies everything", () => {
    pass('warm');
    rmSync(`${root}/dst/${PRECOPY_DIR}`, { recursive: true });
    inSource(CHANGES);
    const final = pass('final');
    expect(final).to.include('PVMOVE pass final level=0');
    expect(manifest(`${root}/dst`)).to.equal(manifest(`${root}/src`));
  });
});

import { expect } from 'chai';
import { endsTheCopy, logWake } from '../../src/core/log-wake.js';
import { tarEngine } from '../../src/engines/tar/index.js';

/** A cluster port whose followed log is written by the test. */
function followed() {
  let write: ((line: string) => void) | undefined;
  let stopped = false;
  return {
    port: {
      followPodLog: (_ns: string, _name: string, onLine: (line: string) => void) => {
        write = onLine;
        return () => {
          stopped = true;
        };
      },
    },
    say: (line: string) => write?.(line),
    stopped: () => stopped,
  };
}

const worth = endsTheCopy(tarEngine);
const never = new AbortController().signal;

async function timed(p: Promise<void>): Promise<number> {
  const start = Date.now();
  await p;
  return Date.now() - start;
}

describe("the copy step's pause, ended by the copy pod's log (the verdict seen at once)", () => {
  it('the verdict, an error or the end of copying are worth a look; progress lines are not', () => {
    expect(worth('PVMOVE verify ok mode=count files=3 bytes=10 walk_ms=1')).to.equal(true);
    expect(worth('PVMOVE error verify-failed source has 3 entries')).to.equal(true);
    expect(worth('PVMOVE copy done walk_ms=1 copy_ms=2')).to.equal(true);
    expect(worth('PVMOVE warm done walk_ms=1')).to.equal(true);
    expect(worth('tar: PVMOVE progress checkpoint=12')).to.equal(false);
    expect(worth('PVMOVE total_bytes=10 files=3 used_bytes=4096 archive_records=1')).to.equal(false);
  });

  it('a verdict written during the pause ends it', async () => {
    const f = followed();
    const wake = logWake(f.port, 'ns', 'pod', worth);
    setTimeout(() => f.say('PVMOVE verify ok mode=count files=1 bytes=1'), 50);
    expect(await timed(wake.pause(5000, never))).to.be.below(1000);
    wake.stop();
    expect(f.stopped()).to.equal(true);
  });

  it('progress lines leave the pause as long as it was', async () => {
    const f = followed();
    const wake = logWake(f.port, 'ns', 'pod', worth);
    setTimeout(() => f.say('tar: PVMOVE progress checkpoint=1'), 20);
    expect(await timed(wake.pause(300, never))).to.be.at.least(280);
    wake.stop();
  });

  it('a verdict written between two pauses ends the next one at once, and only that one', async () => {
    const f = followed();
    const wake = logWake(f.port, 'ns', 'pod', worth);
    f.say('PVMOVE error tar-failed tar reported errors');
    expect(await timed(wake.pause(5000, never))).to.be.below(100);
    expect(await timed(wake.pause(200, never))).to.be.at.least(180);
    wake.stop();
  });

  it('without a follow (or one that throws), a pause is a plain pause', async () => {
    const none = logWake({}, 'ns', 'pod', worth);
    expect(await timed(none.pause(200, never))).to.be.at.least(180);
    none.stop();
    const refused = logWake(
      {
        followPodLog: () => {
          throw new Error('forbidden');
        },
      },
      'ns',
      'pod',
      worth,
    );
    expect(await timed(refused.pause(200, never))).to.be.at.least(180);
  });

  it("the caller's abort ends a pause", async () => {
    const f = followed();
    const wake = logWake(f.port, 'ns', 'pod', worth);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    expect(await timed(wake.pause(5000, abort.signal))).to.be.below(1000);
    wake.stop();
  });
});

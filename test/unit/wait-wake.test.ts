import { expect } from 'chai';
import { waitFor, type Waker } from '../../src/kube/wait.js';
import { watchRequest } from '../../src/kube/watch-waker.js';

/** A waker the test pokes by hand; records whether the wait stopped it. */
function handWaker(): { waker: Waker; poke: () => void; stopped: () => boolean } {
  let poke: () => void = () => undefined;
  let stopped = false;
  return {
    waker: (p) => {
      poke = p;
      return () => {
        stopped = true;
      };
    },
    poke: () => poke(),
    stopped: () => stopped,
  };
}

describe('waits woken by a watch (the waits the application is down for)', () => {
  it('a change ends the pause: the probe looks at once instead of at its next poll', async () => {
    const w = handWaker();
    let ready = false;
    let looks = 0;
    const started = Date.now();
    setTimeout(() => {
      ready = true;
      w.poke();
    }, 100);
    await waitFor(
      'the thing',
      10_000,
      async () => {
        looks++;
        return ready ? true : undefined;
      },
      { intervalMs: 2000 },
      w.waker,
    );
    const took = Date.now() - started;
    expect(took, 'woken ~15 ms after the change, not at the 2 s poll').to.be.below(600);
    expect(looks).to.equal(2);
    expect(w.stopped(), 'the watch is stopped when the wait ends').to.equal(true);
  });

  it('without a change, the polls alone still see the truth (a stalled watch costs nothing)', async () => {
    const w = handWaker();
    let looks = 0;
    await waitFor(
      'the thing',
      10_000,
      async () => (++looks >= 3 ? true : undefined),
      { intervalMs: 20 },
      w.waker,
    );
    expect(looks).to.equal(3);
    expect(w.stopped()).to.equal(true);
  });

  it('a stream of changes makes a bounded number of extra looks', async () => {
    const w = handWaker();
    let looks = 0;
    const storm = setInterval(() => w.poke(), 5);
    try {
      await expectTimeout(
        waitFor('the thing', 3_000, async () => void looks++, { intervalMs: 5_000 }, w.waker),
      );
    } finally {
      clearInterval(storm);
    }
    // 40 woken looks at most, plus the first look, the polls (1 s apart at most) once the 40 are
    // spent, and the last one at the deadline.
    expect(looks).to.be.within(30, 45);
  });

  it('watches each target by its list path, one object by a name field selector', () => {
    expect(watchRequest({ kind: 'Pod', namespace: 'ns 1' })).to.deep.equal({
      path: '/api/v1/namespaces/ns%201/pods',
      query: {},
    });
    expect(watchRequest({ kind: 'StatefulSet', namespace: 'db', name: 'pg' })).to.deep.equal({
      path: '/apis/apps/v1/namespaces/db/statefulsets',
      query: { fieldSelector: 'metadata.name=pg' },
    });
    expect(watchRequest({ kind: 'PersistentVolume', name: 'pv-1' }).path).to.equal(
      '/api/v1/persistentvolumes',
    );
  });
});

async function expectTimeout(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(String(err)).to.match(/timed out|Timed out|timeout/i);
    return;
  }
  expect.fail('the wait should have timed out');
}

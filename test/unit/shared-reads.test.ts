import { expect } from 'chai';
import { sharedReads } from '../../src/core/shared-reads.js';
import { FakeCluster } from './fake-cluster.js';

const CACHED = { cached: true };

describe('shared reads (the claims of a batch)', () => {
  it('lists the pods once for every claim that looks within the time to live', async () => {
    const c = new FakeCluster();
    c.seed();
    let lists = 0;
    const list = c.listPods.bind(c);
    c.listPods = async (ns: string, opts?: { cached?: boolean }) => {
      lists++;
      return list(ns, opts);
    };
    let t = 0;
    const shared = sharedReads(c, 1000, () => t);
    await Promise.all([
      shared.listPods('shop', CACHED),
      shared.listPods('shop', CACHED),
      shared.listPods('shop', CACHED),
    ]);
    expect(lists).to.equal(1);
    t = 999;
    await shared.listPods('shop', CACHED);
    expect(lists).to.equal(1);
    t = 1000;
    await shared.listPods('shop', CACHED);
    expect(lists, 'older than the time to live: read again').to.equal(2);
  });

  it('forgets what it read once this process changes pods or owners, not for a journal write', async () => {
    const c = new FakeCluster();
    c.seed();
    let lists = 0;
    const list = c.listPods.bind(c);
    c.listPods = async (ns: string, opts?: { cached?: boolean }) => {
      lists++;
      return list(ns, opts);
    };
    const shared = sharedReads(c, 60_000, () => 0);
    await shared.listPods('shop', CACHED);
    await shared.deletePod('shop', 'nothing-here');
    await shared.listPods('shop', CACHED);
    expect(lists).to.equal(2);
    await shared.deleteJournal('shop', 'pvmove-none');
    await shared.listPods('shop', CACHED);
    expect(lists).to.equal(2);
    expect(await shared.getPvc('shop', 'data')).to.not.equal(undefined);
  });

  it('never shares a consistent pod list: a step reads it right before it deletes a claim', async () => {
    const c = new FakeCluster();
    c.seed();
    const asked: (boolean | undefined)[] = [];
    const list = c.listPods.bind(c);
    c.listPods = async (ns: string, opts?: { cached?: boolean }) => {
      asked.push(opts?.cached);
      return list(ns, opts);
    };
    const shared = sharedReads(c, 60_000, () => 0);
    await shared.listPods('shop', CACHED);
    await shared.listPods('shop');
    await shared.listPods('shop');
    await shared.listPods('shop', CACHED);
    expect(asked).to.deep.equal([true, undefined, undefined]);
  });
});

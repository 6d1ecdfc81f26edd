import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { CONTROLLER_AWK, READAHEAD } from '../../src/engines/tar/readahead.js';

// The controller is the awk program the copy pod runs (Debian's mawk there and here), driven with
// synthetic rates: every 100 ms the copy advances by the rate of the depth the controller chose.
interface Step {
  t: number;
  depth: number;
  chunk: number;
  phase: string;
  trail: string;
}

function control(state: string, t: number, p: number, a: number, extra: Record<string, string> = {}): string {
  const vars = Object.entries({ s: state, t: String(t), p: String(p), a: String(a), cap: '0', ...extra });
  return execFileSync('awk', [...vars.flatMap(([k, v]) => ['-v', `${k}=${v}`]), CONTROLLER_AWK], {
    encoding: 'utf8',
  }).trim();
}

const parse = (state: string, t: number): Step => {
  const f = state.split(' ');
  return { t, depth: Number(f[0]), chunk: Number(f[1]) / 1048576, phase: f[3] ?? '', trail: f[15] ?? '' };
};

/** Runs the controller for `seconds`; rate(depth, chunkMiB, t) in MB/s. The readahead is `lead` bytes ahead. */
function simulate(
  rate: (depth: number, chunk: number, tMs: number) => number,
  seconds: number,
  lead = 0,
): { steps: Step[]; bytes: number } {
  let state = '';
  let p = 0;
  const steps: Step[] = [];
  for (let t = 0; t <= seconds * 1000; t += 100) {
    state = control(state, t, Math.round(p), Math.round(p + lead));
    const step = parse(state, t);
    steps.push(step);
    p += rate(step.depth, step.chunk, t) * 1e6 * 0.1;
  }
  return { steps, bytes: p };
}

const last = (r: { steps: Step[] }) => r.steps[r.steps.length - 1]!;
/** The depth the controller spent most of the last `seconds` at. */
const settled = (r: { steps: Step[] }, seconds = 3): number => {
  const tail = r.steps.slice(-seconds * 10);
  const counts = new Map<number, number>();
  for (const s of tail) counts.set(s.depth, (counts.get(s.depth) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0];
};

describe('readahead controller (pure, driven with synthetic rates)', function () {
  this.timeout(60_000);

  it('starts at the start depth and chunk, with an empty trail', () => {
    const s = parse(control('', 0, 0, 0), 0);
    expect(s).to.include({
      depth: READAHEAD.startDepth,
      chunk: READAHEAD.startChunkMiB,
      phase: 'up',
      trail: '-',
    });
  });

  it('keeps a depth for a whole epoch, and starts an epoch only once the copy passed the mark', () => {
    let st = control('', 0, 0, 0);
    st = control(st, 100, 10_000_000, 0);
    expect(parse(st, 100).depth).to.equal(READAHEAD.startDepth);
    // The epoch ends: the rate is the first reference, the next depth up is tried.
    st = control(st, READAHEAD.epochMs + 10, 50_000_000, 80_000_000);
    const up = parse(st, 0);
    expect(up.depth).to.equal(READAHEAD.depths[READAHEAD.depths.indexOf(READAHEAD.startDepth) + 1]);
    expect(up.trail).to.equal(`${READAHEAD.startDepth}:98`);
    // Until the copy reaches where the readahead stood (80 MB), no epoch runs: nothing is measured.
    st = control(st, 5000, 79_000_000, 90_000_000);
    st = control(st, 9000, 79_500_000, 90_000_000);
    expect(parse(st, 0).trail).to.equal(`${READAHEAD.startDepth}:98`);
    expect(st.split(' ')[8]).to.equal('-1');
    st = control(st, 9100, 80_000_000, 90_000_000);
    expect(st.split(' ')[8]).to.equal('9100');
  });

  it('climbs while the rate improves (a slow network disk: rate grows with the readers)', () => {
    const r = simulate((d) => 20 * (d + 1), 12);
    expect(settled(r)).to.equal(64);
    expect(last(r).trail).to.match(/64:/);
  });

  it('stops where the rate stops improving', () => {
    const r = simulate((d) => 100 * Math.min(d + 1, 9), 15);
    expect(settled(r)).to.equal(8);
  });

  it('goes down to 0 (tar alone) when the readers only cost (a fast disk, CPU bound)', () => {
    const r = simulate((d) => 300 / (1 + d / 8), 15);
    expect(settled(r)).to.equal(0);
    // Never slower than tar alone by more than the noise, over the whole copy, probes included.
    expect(r.bytes / 15 / 1e6).to.be.above(300 * (1 - READAHEAD.noise));
  });

  it('spends little of a short copy probing when the readers only cost', () => {
    // 8 s of a CPU-bound copy (the local disk's small files): the climb at the start and the
    // probes later are all loss; together they must cost less than 6% of tar alone.
    const r = simulate((d) => 300 / (1 + d / 8), 8);
    expect(r.bytes / (300 * 1e6 * 8.1)).to.be.above(0.94);
  });

  it('prefers fewer readers when the depth makes no difference', () => {
    const r = simulate(() => 200, 12);
    expect(settled(r)).to.equal(0);
  });

  it('follows a change: probes up again when readers start to pay', () => {
    // Fast disk for 8 s (readers cost), then a slow one (each reader adds).
    const r = simulate((d, _c, t) => (t < 8000 ? 300 / (1 + d / 8) : 10 * (d + 1)), 40);
    expect(r.steps.find((s) => s.t === 7900)?.depth).to.equal(0);
    expect(settled(r)).to.be.at.least(16);
  });

  it('chooses a larger chunk when large chunks read faster, and keeps the start chunk otherwise', () => {
    const big = simulate((d, c) => 50 * Math.min(d + 1, 9) * (c >= 16 ? 1.5 : 1), 15);
    expect(settled(big)).to.equal(8);
    expect(last(big).chunk).to.be.at.least(16);
    const flat = simulate((d) => 50 * Math.min(d + 1, 9), 15);
    expect(last(flat).chunk).to.equal(READAHEAD.startChunkMiB);
  });

  it('pins the depth when asked (measurements)', () => {
    const r = simulate(() => 100, 3);
    const pinned = control('', 0, 0, 0, { fixed: '16' });
    expect(parse(pinned, 0).depth).to.equal(16);
    expect(r.steps.length).to.be.above(0);
  });

  it('keeps only the last 12 epochs in the trail, and restarts an epoch on reset', () => {
    const r = simulate(() => 100, 20);
    expect(last(r).trail.split(',')).to.have.length(12);
    const st = control(last(r).trail ? control('', 0, 0, 0) : '', 100, 0, 0, { reset: '1' });
    expect(st.split(' ')[8]).to.equal('100');
  });
});

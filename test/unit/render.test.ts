import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { wantsJson } from '../../src/cli/app.js';
import { jsonLine } from '../../src/cli/render/json.js';
import { plainLine } from '../../src/cli/render/plain.js';
import { StepFailedError } from '../../src/core/errors.js';
import { errorStatus } from '../../src/cli/render/status.js';
import { treeRenderer } from '../../src/cli/render/tree.js';
import type { Io, Renderer } from '../../src/cli/render/types.js';

const at = new Date('2026-01-02T03:04:05.000Z');

describe('renderers', () => {
  it('writes one JSON object per event with a timestamp and the step contract fields', () => {
    const line = jsonLine(
      { type: 'step', step: 'copy', title: 'Copy', status: 'done', durationMs: 1234 },
      at,
    );
    expect(line).to.not.include('\n');
    expect(JSON.parse(line)).to.deep.equal({
      time: '2026-01-02T03:04:05.000Z',
      type: 'step',
      step: 'copy',
      title: 'Copy',
      status: 'done',
      durationMs: 1234,
    });
  });

  it('writes plain timestamped lines', () => {
    expect(
      plainLine(
        { type: 'step', step: 'copy', title: 'Copy', status: 'failed', message: 'boom', durationMs: 1500 },
        at,
      ),
    ).to.equal('2026-01-02T03:04:05.000Z failed  copy - Copy (1.5s): boom');
    expect(plainLine({ type: 'progress', step: 'copy', message: '1.0 MiB of 2.0 MiB (50%)' }, at)).to.equal(
      '2026-01-02T03:04:05.000Z progress copy: 1.0 MiB of 2.0 MiB (50%)',
    );
  });

  it('maps errors to failed / refused / interrupted', () => {
    expect(errorStatus(new StepFailedError('copy', 'x', 'cmd'))).to.equal('failed');
    expect(errorStatus(new Error('unexpected'))).to.equal('failed');
  });

  it('detects -o json in every spelling', () => {
    expect(wantsJson(['data', '-o', 'json'])).to.equal(true);
    expect(wantsJson(['data', '--output=json'])).to.equal(true);
    expect(wantsJson(['data', '-ojson'])).to.equal(true);
    expect(wantsJson(['data', '-o', 'plain'])).to.equal(false);
  });
});

describe('renderers in a batch (events name their claim)', () => {
  it('plain lines start with the claim; lines of the batch as a whole do not', () => {
    expect(
      plainLine(
        { type: 'step', step: 'copy', title: 'Copy', status: 'done', claim: 'data-db-0', durationMs: 1000 },
        at,
      ),
    ).to.equal('2026-01-02T03:04:05.000Z [data-db-0] done    copy - Copy (1.0s)');
    expect(
      plainLine({ type: 'progress', step: 'copy', message: '1.0 MiB of 2.0 MiB (50%)', claim: 'b' }, at),
    ).to.equal('2026-01-02T03:04:05.000Z [b] progress copy: 1.0 MiB of 2.0 MiB (50%)');
    expect(plainLine({ type: 'warning', message: 'slow', claim: 'b' }, at)).to.equal(
      '2026-01-02T03:04:05.000Z [b] warning slow',
    );
    expect(plainLine({ type: 'result', status: 'done', message: 'moved 2 claims' }, at)).to.equal(
      '2026-01-02T03:04:05.000Z done    moved 2 claims',
    );
  });

  it('JSON events keep their claim', () => {
    expect(JSON.parse(jsonLine({ type: 'progress', step: 'copy', message: 'x', claim: 'b' }, at))).to.include(
      {
        claim: 'b',
        step: 'copy',
      },
    );
  });

  /** The tree as listr2's line renderer draws it without a terminal (what it writes to process.stdout/stderr). */
  async function drawTree(drive: (r: Renderer) => Promise<void>): Promise<string> {
    const written: string[] = [];
    const streams = [process.stdout, process.stderr] as const;
    const originals = streams.map((s) => s.write);
    for (const s of streams)
      s.write = ((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      }) as typeof s.write;
    try {
      const io: Io = {
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        stdin: new PassThrough(),
        env: {},
        signal: new AbortController().signal,
      };
      await drive(treeRenderer(io));
    } finally {
      streams.forEach((s, i) => (s.write = originals[i]!));
    }
    return written.join('');
  }

  const steps = [
    { id: 'copy', title: 'Copy the data' },
    { id: 'swap', title: 'Swap the claim' },
  ];
  const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('the tree shows one subtree per claim, each step and progress line found by claim and step', async () => {
    const text = await drawTree(async (r) => {
      r.begin(steps, ['a', 'b']);
      r.emit({ type: 'progress', step: 'copy', message: '1.0 MiB of 2.0 MiB (50%) [b]', claim: 'b' });
      await tick();
      r.emit({ type: 'step', step: 'copy', title: 'Copy the data', status: 'done', claim: 'a' });
      r.emit({ type: 'step', step: 'copy', title: 'Copy the data', status: 'done', claim: 'b' });
      await tick();
      r.emit({ type: 'step', step: 'swap', title: 'Swap the claim', status: 'done', claim: 'b' });
      r.emit({
        type: 'step',
        step: 'swap',
        title: 'Swap the claim',
        status: 'failed',
        message: 'boom',
        claim: 'a',
      });
      await r.end(Object.assign(new Error('claim a: boom'), { claim: 'a' }));
    });
    expect(text).to.include('❯ a\n').and.include('❯ b\n');
    expect(text).to.include('› 1.0 MiB of 2.0 MiB (50%) [b]');
    expect(text).to.include('✔ b\n');
    expect(text).to.include('✖ Swap the claim [FAILED: boom]');
    expect(text).to.not.include('✔ a\n');
    expect(text.match(/✔ Copy the data/g)).to.have.length(2);
  });

  it('the tree draws the batches of -A one after the other, a claim name in two namespaces apart', async () => {
    const text = await drawTree(async (r) => {
      r.begin(steps, ['data']);
      for (const step of steps)
        r.emit({ type: 'step', step: step.id, title: step.title, status: 'done', claim: 'data' });
      await tick();
      r.begin(steps, ['data']);
      r.emit({ type: 'step', step: 'copy', title: 'Copy the data', status: 'done', claim: 'data' });
      await tick();
      await r.end(Object.assign(new Error('boom'), { claim: 'data' }));
    });
    expect(text.match(/✔ Copy the data/g)).to.have.length(2);
    expect(text.match(/✔ Swap the claim/g)).to.have.length(1);
    expect(text).to.include('✖ Swap the claim [FAILED: boom]');
  });

  it('the tree without claims is the single move: events without a claim find their step', async () => {
    const text = await drawTree(async (r) => {
      r.begin(steps);
      r.emit({ type: 'progress', step: 'copy', message: '3 files' });
      await tick();
      r.emit({ type: 'step', step: 'copy', title: 'Copy the data', status: 'done' });
      await tick();
      await r.end(new Error('stopped'));
    });
    expect(text).to.include('› 3 files').and.include('✔ Copy the data');
    expect(text).to.include('✖ Swap the claim [FAILED: stopped]');
    expect(text).to.not.match(/❯ a\n/);
  });
});

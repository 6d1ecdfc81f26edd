import { expect } from 'chai';
import { downtimeMs, downtimeText } from '../../src/core/downtime.js';
import { statusOf, statusText } from '../../src/core/status.js';
import { journal } from './fixtures.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 6, 0, 0) + s * 1000).toISOString();

describe('downtime: scale-down start to scale-up end, from the journal', () => {
  it('is measured from the records of the two steps', () => {
    const j = journal({
      steps: {
        'scale-down': { status: 'done', startedAt: at(10), finishedAt: at(12) },
        'scale-up': { status: 'done', startedAt: at(15), finishedAt: at(17.5) },
      },
    });
    expect(downtimeMs(j)).to.equal(7500);
    expect(downtimeText(downtimeMs(j))).to.equal('downtime 7.5 s');
  });

  it('starts when the owners were told to stop, not while the final pass read ahead and the app ran', () => {
    const j = journal({
      steps: {
        'scale-down': { status: 'done', startedAt: at(10), stoppingAt: at(13), finishedAt: at(14) },
        'scale-up': { status: 'done', startedAt: at(15), finishedAt: at(17.5) },
      },
    });
    expect(downtimeMs(j)).to.equal(4500);
  });

  it('is absent when nothing was stopped (scale-down found done) or the owners are not back yet', () => {
    const found = journal({
      steps: {
        'scale-down': { status: 'done', finishedAt: at(10), message: 'found done' },
        'scale-up': { status: 'done', finishedAt: at(12), message: 'found done' },
      },
    });
    expect(downtimeMs(found)).to.equal(undefined);
    expect(downtimeText(undefined)).to.equal('no downtime (nothing was stopped)');
    const running = journal({
      steps: { 'scale-down': { status: 'done', startedAt: at(1), finishedAt: at(2) } },
    });
    expect(downtimeMs(running)).to.equal(undefined);
  });

  it('status shows the warm passes and the downtime, and skips the warm step of a move without --precopy', () => {
    const base = journal();
    const j = journal({
      phase: 'finished',
      request: { ...base.request, precopy: { passes: 2 } },
      warm: { passes: 2, finishedAt: at(9), ms: 41_000 },
      steps: {
        'scale-down': { status: 'done', startedAt: at(10), finishedAt: at(12) },
        'scale-up': { status: 'done', startedAt: at(15), finishedAt: at(17) },
      },
    });
    const text = statusText(statusOf(j));
    expect(text).to.contain('Warm copy:  2 passes while running, 41.0 s');
    expect(text).to.contain('Downtime:   7.0 s (scale-down to ready)');
    const cold = journal({
      steps: {
        preflight: { status: 'done' },
        'record-journal': { status: 'done' },
        'retain-source-pv': { status: 'done' },
      },
    });
    expect(statusOf(cold).step).to.equal('scale-down');
  });
});

import { expect } from 'chai';
import { wantsJson } from '../../src/cli/app.js';
import { jsonLine } from '../../src/cli/render/json.js';
import { plainLine } from '../../src/cli/render/plain.js';
import { StepFailedError } from '../../src/core/errors.js';
import { errorStatus } from '../../src/cli/render/status.js';

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

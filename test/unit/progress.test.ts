import { expect } from 'chai';
import { tarEngine } from '../../src/engines/tar/index.js';
import { copyFraction, emptyCopyLog, progressFigures, readCopyLog } from '../../src/engines/tar/log.js';
import { nextPollInterval } from '../../src/core/steps/copy.js';

const header =
  'PVMOVE total_bytes=1000000 files=10 used_bytes=1100000 archive_records=100 checkpoint_records=5 target_room=9';

describe('copy log progress', () => {
  it('reads the measurement line and checkpoints into bytes done', () => {
    let s = readCopyLog(emptyCopyLog(), `${header}\nPVMOVE copy started\nPVMOVE progress checkpoint=4\n`);
    expect(s.totalBytes).to.equal(1_000_000);
    expect(s.files).to.equal(10);
    expect(copyFraction(s)).to.equal(0.2);
    s = readCopyLog(s, 'PVMOVE progress checkpoint=10\n');
    const f = progressFigures(s, []);
    expect(f).to.include({ bytesDone: 500_000, bytesTotal: 1_000_000, percent: 50 });
  });

  it('never goes backwards when log windows overlap, and caps below 100% until tar is done', () => {
    let s = readCopyLog(emptyCopyLog(), `${header}\nPVMOVE progress checkpoint=30\n`);
    s = readCopyLog(s, 'PVMOVE progress checkpoint=12\n');
    expect(s.checkpoint).to.equal(30);
    expect(copyFraction(s)).to.equal(0.99);
    s = readCopyLog(s, 'PVMOVE copy done\n');
    expect(copyFraction(s)).to.equal(1);
  });

  it('computes rate and ETA from samples', () => {
    const s = readCopyLog(emptyCopyLog(), `${header}\nPVMOVE progress checkpoint=10\n`);
    const f = progressFigures(s, [
      { atMs: 0, bytesDone: 0 },
      { atMs: 10_000, bytesDone: 500_000 },
    ]);
    expect(f?.rateBytesPerSecond).to.equal(50_000);
    expect(f?.etaSeconds).to.equal(10);
  });

  it('keeps the verdict, the error and the last tar messages', () => {
    const s = readCopyLog(
      emptyCopyLog(),
      [
        'tar: ./secret: Cannot open: Permission denied',
        'tar: Exiting with failure status due to previous errors',
        'PVMOVE error tar-failed tar reported errors while copying (see the tar lines above)',
      ].join('\n'),
    );
    expect(s.error).to.match(/^tar-failed/);
    expect(s.tarMessages[0]).to.equal('tar: ./secret: Cannot open: Permission denied');
    expect(readCopyLog(emptyCopyLog(), 'PVMOVE verify ok mode=count files=3 bytes=9').verifyOk).to.equal(
      'verify ok mode=count files=3 bytes=9',
    );
  });

  it('reads the checkpoints tar echoes on stderr ("tar: PVMOVE ...") and the timed "copy done"', () => {
    let s = readCopyLog(emptyCopyLog(), `${header}\ntar: PVMOVE progress checkpoint=10\n`);
    expect(copyFraction(s)).to.equal(0.5);
    expect(s.tarMessages).to.deep.equal([]);
    s = readCopyLog(s, 'PVMOVE copy done copy_ms=1234\n');
    expect(copyFraction(s)).to.equal(1);
  });

  it('reports nothing before the measurement line', () => {
    expect(progressFigures(readCopyLog(emptyCopyLog(), 'PVMOVE progress checkpoint=3'), [])).to.equal(
      undefined,
    );
  });
});

describe('copy step polling', () => {
  it('backs off to 2s, but looks again within half the ETA and quickly once the copy is done', () => {
    const s = readCopyLog(emptyCopyLog(), `${header}\nPVMOVE progress checkpoint=10\n`);
    expect(nextPollInterval(tarEngine, 200, s, [])).to.equal(300);
    expect(nextPollInterval(tarEngine, 1800, s, [])).to.equal(2000);
    // 500,000 bytes left at 50,000/s: ETA 10s, so the 2s cap stands.
    const steady = [
      { atMs: 0, bytesDone: 0 },
      { atMs: 10_000, bytesDone: 500_000 },
    ];
    expect(nextPollInterval(tarEngine, 2000, s, steady)).to.equal(2000);
    // At 400,000/s the ETA is about 1s: look again in half of it.
    const fast = [
      { atMs: 0, bytesDone: 0 },
      { atMs: 1_250, bytesDone: 500_000 },
    ];
    expect(nextPollInterval(tarEngine, 2000, s, fast)).to.equal(500);
    expect(
      nextPollInterval(tarEngine, 2000, readCopyLog(s, 'PVMOVE copy done copy_ms=1\n'), steady),
    ).to.equal(200);
  });

  it('looks again at once when the pod has just measured the data (the copy begins), not 2s later', () => {
    const unmeasured = readCopyLog(emptyCopyLog(), 'PVMOVE walking\n');
    const measured = readCopyLog(unmeasured, `${header}\n`);
    expect(nextPollInterval(tarEngine, 2000, unmeasured, [], unmeasured)).to.equal(2000);
    expect(nextPollInterval(tarEngine, 2000, measured, [], unmeasured)).to.equal(200);
    expect(nextPollInterval(tarEngine, 200, measured, [], measured)).to.equal(300);
  });
});

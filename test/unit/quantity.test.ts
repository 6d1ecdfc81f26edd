import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import {
  compareQuantities,
  formatBytes,
  parseQuantityMilli,
  quantityToBytes,
} from '../../src/core/quantity.js';

describe('quantities', () => {
  it('orders 1Gi < 1500Mi < 2Gi', () => {
    expect(compareQuantities('1Gi', '2Gi')).to.equal(-1);
    expect(compareQuantities('2Gi', '1Gi')).to.equal(1);
    expect(compareQuantities('1500Mi', '1Gi')).to.equal(1);
    expect(compareQuantities('1500Mi', '2Gi')).to.equal(-1);
  });

  it('treats equal amounts in different units as equal', () => {
    expect(compareQuantities('1Gi', '1024Mi')).to.equal(0);
    expect(compareQuantities('1Gi', '1073741824')).to.equal(0);
    expect(compareQuantities('1G', '1000M')).to.equal(0);
    expect(compareQuantities('1e3', '1k')).to.equal(0);
  });

  it('distinguishes binary from decimal suffixes', () => {
    expect(compareQuantities('1G', '1Gi')).to.equal(-1);
    expect(quantityToBytes('1Gi')).to.equal(1073741824n);
    expect(quantityToBytes('1G')).to.equal(1000000000n);
  });

  it('handles fractions and milli units exactly', () => {
    expect(quantityToBytes('1.5Gi')).to.equal(1610612736n);
    expect(parseQuantityMilli('100m')).to.equal(100n);
    expect(parseQuantityMilli('0.5')).to.equal(500n);
  });

  it('rejects what is not a quantity', () => {
    for (const bad of ['', 'abc', '1GB', '1 Gi', 'Gi', '1.2.3Gi']) {
      expect(parseQuantityMilli(bad), bad).to.equal(undefined);
    }
    expect(() => compareQuantities('x', '1Gi')).to.throw(/invalid quantity/);
  });

  it('formats bytes for progress lines', () => {
    expect(formatBytes(512)).to.equal('512 B');
    expect(formatBytes(1536)).to.equal('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).to.equal('3.0 GiB');
  });
});

describe('durations', () => {
  it('parses units, combinations and bare seconds', () => {
    expect(parseDuration('90s')).to.equal(90_000);
    expect(parseDuration('5m')).to.equal(300_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('45')).to.equal(45_000);
    expect(parseDuration('250ms')).to.equal(250);
  });

  it('rejects garbage', () => {
    expect(parseDuration('soon')).to.equal(undefined);
    expect(parseDuration('5x')).to.equal(undefined);
    expect(parseDuration('5m junk')).to.equal(undefined);
  });

  it('formats a default in the largest unit that says it exactly, as the help shows it', () => {
    expect(formatDuration(24 * 3_600_000)).to.equal('24h');
    expect(formatDuration(600_000)).to.equal('10m');
    expect(formatDuration(90_000)).to.equal('90s');
    expect(formatDuration(250)).to.equal('250ms');
    for (const ms of [250, 90_000, 600_000, 5_400_000])
      expect(parseDuration(formatDuration(ms))).to.equal(ms);
  });
});

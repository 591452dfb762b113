import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  criTimeToEpochMs,
  formatCriLogLine,
  formatRfc3339Nano,
  formatRfc3339NanoFixed,
  parseCriLogLine,
  parseCriLogRecord,
} from './cri-format.js';

const RUNS = Number(process.env.NODELET_FUZZ_RUNS ?? 100);
const ms = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe('formatRfc3339Nano', () => {
  it('trims trailing zeros of the fraction as Go does', () => {
    assert.equal(formatRfc3339Nano(ms('2026-11-25T15:04:05.123Z') + 456_789n), '2026-11-25T15:04:05.123456789Z');
    assert.equal(formatRfc3339Nano(ms('2026-11-25T15:04:05.120Z')), '2026-11-25T15:04:05.12Z');
    assert.equal(formatRfc3339Nano(ms('2026-11-25T15:04:05.000Z') + 1n), '2026-11-25T15:04:05.000000001Z');
  });

  it('drops the fraction entirely when it is zero', () => {
    assert.equal(formatRfc3339Nano(ms('2026-01-01T00:00:00Z')), '2026-01-01T00:00:00Z');
  });

  it('changes the cached date part when the second changes', () => {
    assert.equal(formatRfc3339Nano(ms('2026-01-01T00:00:59.5Z')), '2026-01-01T00:00:59.5Z');
    assert.equal(formatRfc3339Nano(ms('2026-01-01T00:01:00.5Z')), '2026-01-01T00:01:00.5Z');
  });
});

describe('formatRfc3339NanoFixed', () => {
  it('pads the fraction to nine digits and keeps the zone', () => {
    assert.equal(formatRfc3339NanoFixed('2026-01-01T00:00:00.12Z'), '2026-01-01T00:00:00.120000000Z');
    assert.equal(formatRfc3339NanoFixed('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00.000000000Z');
    assert.equal(formatRfc3339NanoFixed('2026-01-01T01:00:00.5+01:00'), '2026-01-01T01:00:00.500000000+01:00');
    assert.equal(formatRfc3339NanoFixed('2026-01-01T01:00:00-07:30'), '2026-01-01T01:00:00.000000000-07:30');
  });
});

describe('criTimeToEpochMs', () => {
  it('reads UTC and offset timestamps', () => {
    assert.equal(criTimeToEpochMs('2026-01-01T00:00:00.1239Z'), Date.parse('2026-01-01T00:00:00.123Z'));
    assert.equal(criTimeToEpochMs('2026-01-01T01:00:00+01:00'), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(criTimeToEpochMs('2025-12-31T17:00:00-07:00'), Date.parse('2026-01-01T00:00:00Z'));
  });

  it('rejects what Go would not parse', () => {
    for (const bad of [
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00',
      '2026-01-01 00:00:00Z',
      '2026-01-01T00:00:00.Z',
      '2026-01-01T00:00:00.1234567890Z',
    ]) {
      assert.equal(criTimeToEpochMs(bad), undefined, bad);
    }
  });
});

describe('parseCriLogLine', () => {
  it('parses full and partial records', () => {
    assert.deepEqual(parseCriLogLine('2026-01-01T00:00:00.5Z stdout F hello world\n'), {
      time: '2026-01-01T00:00:00.5Z',
      stream: 'stdout',
      partial: false,
      text: 'hello world',
    });
    assert.deepEqual(parseCriLogLine('2026-01-01T00:00:00Z stderr P abc'), {
      time: '2026-01-01T00:00:00Z',
      stream: 'stderr',
      partial: true,
      text: 'abc',
    });
  });

  it('keeps an empty text and a carriage return', () => {
    assert.equal(parseCriLogLine('2026-01-01T00:00:00Z stdout F \n')?.text, '');
    assert.equal(parseCriLogLine('2026-01-01T00:00:00Z stdout F a\r\n')?.text, 'a\r');
  });

  it('reads only the first of several tags, as the kubelet does', () => {
    assert.equal(parseCriLogLine('2026-01-01T00:00:00Z stdout P:x y')?.partial, true);
    assert.equal(parseCriLogLine('2026-01-01T00:00:00Z stdout F:P y')?.partial, false);
    assert.equal(parseCriLogLine('2026-01-01T00:00:00Z stdout X y')?.partial, false);
  });

  it('rejects malformed lines', () => {
    for (const bad of [
      '',
      'hello',
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00Z stdout',
      '2026-01-01T00:00:00Z stdout F',
      '2026-01-01T00:00:00Z stdin F x',
      'yesterday stdout F x',
    ]) {
      assert.equal(parseCriLogLine(bad), undefined, bad);
    }
  });

  it('round-trips any record through formatCriLogLine (property)', () => {
    const timeArb = fc
      .bigInt({ min: 0n, max: 253_402_300_799_999_999_999n }) // up to year 9999
      .map((ns) => formatRfc3339Nano(ns));
    const recordArb = fc.record({
      time: timeArb,
      stream: fc.constantFrom('stdout' as const, 'stderr' as const),
      partial: fc.boolean(),
      text: fc.string({ unit: 'binary' }).map((s) => s.replace(/\n/g, '')),
    });
    fc.assert(
      fc.property(recordArb, (rec) => {
        const line = formatCriLogLine(rec);
        assert.deepEqual(parseCriLogLine(line), { ...rec });
        const bytes = Buffer.from(line.slice(0, -1));
        const parsed = parseCriLogRecord(bytes);
        assert.ok(parsed);
        assert.equal(parsed.text.toString('utf8'), rec.text);
        assert.equal(parsed.partial, rec.partial);
        assert.equal(parsed.stream, rec.stream);
      }),
      { numRuns: RUNS },
    );
  });
});

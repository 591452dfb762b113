import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NodeletError } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  const table: [string, number][] = [
    ['0', 0],
    ['-0', 0],
    ['0s', 0],
    ['20s', 20_000],
    ['+20s', 20_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h0m0s', 3_600_000],
    ['500ms', 500],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['1.s', 1_000],
    ['0.1s', 100],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['1h2m3s4ms', 3_723_004],
    ['3m0.5s', 180_500],
  ];
  for (const [input, ms] of table) {
    it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => assert.equal(parseDuration(input), ms));
  }

  const bad: [string, RegExp][] = [
    ['', /^invalid duration ""$/],
    ['-5s', /^invalid duration "-5s": must not be negative$/],
    ['20', /^invalid duration "20": missing unit/],
    ['5x', /^invalid duration "5x": unknown unit "x"/],
    ['5 s', /unknown unit " s"/],
    ['s', /^invalid duration "s"$/],
    ['.s', /^invalid duration ".s"$/],
    ['1s-2s', /unknown unit "s-"/],
    ['abc', /^invalid duration "abc"$/],
    ['9999999999h', /overflows/],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseDuration(input),
        (err: unknown) => err instanceof NodeletError && err.code === 'InvalidConfig' && message.test(err.message),
      );
    });
  }
});

describe('formatDuration', () => {
  const table: [number, string][] = [
    [0, '0s'],
    [20_000, '20s'],
    [60_000, '1m0s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [500, '500ms'],
    [1_500, '1.5s'],
    [1.5, '1.5ms'],
    [0.0015, '1.5µs'],
    [0.000001, '1ns'],
    [300_000, '5m0s'],
    [-1_500, '-1.5s'],
  ];
  for (const [ms, text] of table) {
    it(`writes ${ms} ms as ${text}, as Go does`, () => assert.equal(formatDuration(ms), text));
  }

  it('round-trips every whole number of milliseconds through parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_000_000_000_000 }), (ms) => parseDuration(formatDuration(ms)) === ms),
      { numRuns: 2_000 },
    );
  });

  it('round-trips sub-millisecond durations to the nanosecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (ns) => {
        const back = parseDuration(formatDuration(ns / 1e6));
        return Math.round(back * 1e6) === ns;
      }),
    );
  });

  it('reads any Go-style composition of units as the sum of its parts', () => {
    const part = fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, [unit]]) => `${n}${unit}`).join('');
        const sum = parts.reduce((acc, [n, [, ms]]) => acc + n * (ms as number), 0);
        return parseDuration(text) === sum;
      }),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatQuantity, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  const table: [string, number][] = [
    ['1000', 1000],
    ['0', 0],
    ['100Ki', 102_400],
    ['10Mi', 10_485_760],
    ['1Gi', 1_073_741_824],
    ['1.5Mi', 1_572_864],
    ['1k', 1000],
    ['1M', 1_000_000],
    ['1G', 1_000_000_000],
    ['0.3k', 300],
    ['1e3', 1000],
    ['1E6', 1_000_000],
    ['1500m', 2], // 1.5 bytes, rounded up as Quantity.Value() does
    ['+5Ki', 5120],
  ];
  for (const [input, bytes] of table) {
    it(`reads ${input} as ${bytes} bytes`, () => assert.equal(parseQuantity(input), bytes));
  }

  for (const input of ['', 'Mi', '10MB', '10 Mi', '1.2.3', 'ten', '10mi', '-1Mi', '1Ei0']) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.throws(() => parseQuantity(input), /invalid quantity/));
  }

  it('says why a negative quantity is refused', () => {
    assert.throws(() => parseQuantity('-1Mi'), { message: 'invalid quantity "-1Mi": must not be negative' });
  });

  it('round-trips through formatQuantity', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => parseQuantity(formatQuantity(n)) === n));
  });

  it('formats sizes the way people write them', () => {
    assert.equal(formatQuantity(10 * 1024 * 1024), '10Mi');
    assert.equal(formatQuantity(1536), '1536');
    assert.equal(formatQuantity(2048), '2Ki');
    assert.equal(formatQuantity(1000), '1000');
  });
});

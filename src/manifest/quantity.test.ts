import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { addQuantities, compareQuantities, formatQuantity, isIntegerQuantity, parseQuantity } from './quantity.js';

// [text, numerator/denominator as the exact value]
const valid: [string | number, bigint, bigint][] = [
  ['0', 0n, 1n],
  ['1', 1n, 1n],
  ['100m', 100n, 1000n],
  ['0.1', 1n, 10n],
  ['.5', 5n, 10n],
  ['1.', 1n, 1n],
  ['+2', 2n, 1n],
  ['-2', -2n, 1n],
  ['1k', 1000n, 1n],
  ['1M', 1_000_000n, 1n],
  ['1E', 10n ** 18n, 1n],
  ['1Ki', 1024n, 1n],
  ['1Gi', 1024n ** 3n, 1n],
  ['1.5Gi', 15n * 1024n ** 3n, 10n],
  ['1e3', 1000n, 1n],
  ['1E3', 1000n, 1n],
  ['1e+3', 1000n, 1n],
  ['5e-3', 5n, 1000n],
  ['10n', 10n, 10n ** 9n],
  ['3u', 3n, 10n ** 6n],
  [2, 2n, 1n],
  [0.25, 25n, 100n],
  [1e21, 10n ** 21n, 1n],
];

const invalid: (string | number)[] = ['', ' 1', '1 ', 'a', '1x', '1e', '1Kb', '1ki', '--1', '1.2.3', '.', '+', 'Gi', '1e3.5', '1e99999', Number.NaN, Infinity, 'x'.repeat(300)];

describe('parseQuantity', () => {
  for (const [text, num, den] of valid) {
    it(`parses ${JSON.stringify(text)}`, () => {
      const q = parseQuantity(text);
      assert.ok(q, `${String(text)} should parse`);
      // Compare as exact fractions.
      assert.equal(q.num * den, num * q.den);
    });
  }
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(String(text)).slice(0, 30)}`, () => {
      assert.equal(parseQuantity(text), undefined);
    });
  }
});

describe('compareQuantities', () => {
  const cmp = (a: string, b: string) => compareQuantities(parseQuantity(a)!, parseQuantity(b)!);
  it('compares across units exactly', () => {
    assert.equal(cmp('100m', '0.1'), 0);
    assert.equal(cmp('1Gi', '1024Mi'), 0);
    assert.equal(cmp('1G', '1Gi'), -1);
    assert.equal(cmp('1001m', '1'), 1);
    assert.equal(cmp('1e3', '1k'), 0);
    assert.equal(cmp('-1', '0'), -1);
  });
  it('knows whole numbers', () => {
    assert.equal(isIntegerQuantity(parseQuantity('2')!), true);
    assert.equal(isIntegerQuantity(parseQuantity('2000m')!), true);
    assert.equal(isIntegerQuantity(parseQuantity('500m')!), false);
  });
});

describe('formatQuantity', () => {
  // [as written, as apimachinery's Quantity.String prints it]
  const cases: [string | number, string][] = [
    ['1Mi', '1Mi'],
    ['1024Ki', '1Mi'],
    ['2048Mi', '2Gi'],
    ['1536Ki', '1536Ki'],
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['1023Ki', '1023Ki'],
    ['1000M', '1G'],
    ['1.5G', '1500M'],
    ['500Mi', '500Mi'],
    ['100m', '100m'],
    ['0.1', '100m'],
    ['1e3', '1e3'],
    ['1000e0', '1e3'],
    ['12e2', '1200'],
    [1048576, '1048576'],
    [2000000, '2M'],
    ['0', '0'],
    ['0Gi', '0'],
    ['-1Gi', '-1Gi'],
  ];
  for (const [text, printed] of cases) {
    it(`${JSON.stringify(text)} prints as ${printed}`, () => {
      assert.equal(formatQuantity(parseQuantity(text)!), printed);
    });
  }
});

test('addQuantities: exact sums printed in the first non-zero operand\'s format, as Quantity.Add', () => {
  const sum = (...xs: string[]) => xs.map((x) => parseQuantity(x)!).reduce(addQuantities);
  assert.equal(formatQuantity(sum('1Gi', '512Mi')), '1536Mi');
  assert.equal(sum('1Gi', '512Mi').text, '1536Mi');
  assert.equal(formatQuantity(sum('1G', '1Gi')), '2073741824');
  assert.equal(formatQuantity(sum('0', '2Ki')), '2Ki');
  assert.equal(formatQuantity(sum('100m', '0.15')), '250m');
  assert.equal(compareQuantities(sum('1Mi', '1Mi'), parseQuantity('2Mi')!), 0);
  assert.equal(compareQuantities(parseQuantity(sum('1.5', '1Mi').text)!, sum('1.5', '1Mi')), 0);
});

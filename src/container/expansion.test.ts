import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expand } from './expansion.js';

const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
const look = (n: string) => vars[n];

test('expansion follows the Kubernetes rules', () => {
  const cases: [string, string][] = [
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(UNDEFINED)', '$(UNDEFINED)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$alpha'],
    ['$$', '$'],
    ['$A', '$A'],
    ['$', '$'],
    ['$(A', '$(A'],
    ['$()', '$()'],
    ['$(EMPTY)x', 'x'],
    ['no vars', 'no vars'],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, look), want, input);
});

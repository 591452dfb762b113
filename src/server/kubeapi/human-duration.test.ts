import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeTime } from '../../util/kube-time.js';
import { humanDuration, timestampSince } from './human-duration.js';

test('ages follow apimachinery HumanDuration', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [200 * s, '3m20s'],
    [25 * 60 * s, '25m'],
    [3 * 3600 * s, '3h'],
    [(5 * 3600 + 3 * 60) * s, '5h3m'],
    [30 * 3600 * s, '30h'],
    [(2 * 24 + 4) * 3600 * s, '2d4h'],
    [10 * 24 * 3600 * s, '10d'],
    [(3 * 365 + 10) * 24 * 3600 * s, '3y10d'],
    [9 * 365 * 24 * 3600 * s, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('a missing timestamp is <unknown>, and API times have whole seconds', () => {
  assert.equal(timestampSince(undefined, 0), '<unknown>');
  assert.equal(timestampSince('2024-01-01T00:00:00Z', Date.parse('2024-01-01T00:00:30Z')), '30s');
  assert.equal(kubeTime(Date.parse('2024-01-01T00:00:00.999Z')), '2024-01-01T00:00:00Z');
});

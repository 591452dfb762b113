import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from '../api/types.js';
import { containerResources, qosClass } from './linux-resources.js';

const GiB = 2 ** 30;
const pod = (containers: Container[], extra: Partial<Pod['spec']> = {}): Pod => ({ metadata: { name: 'p', uid: 'u' }, spec: { containers, ...extra } }) as Pod;

test('a container without requests or limits is BestEffort: minimum shares, no quota, OOM score 1000', () => {
  const c = { name: 'a' };
  assert.equal(qosClass(pod([c])), 'BestEffort');
  assert.deepEqual(containerResources(pod([c]), c, 8 * GiB), { cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0, oomScoreAdj: 1000 });
});

test('limits only are Guaranteed: requests default to limits, 500m is 512 shares and a 50 ms quota', () => {
  const c = { name: 'a', resources: { limits: { cpu: '500m', memory: '64Mi' } } };
  assert.equal(qosClass(pod([c])), 'Guaranteed');
  assert.deepEqual(containerResources(pod([c]), c, 8 * GiB), { cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 64 * 2 ** 20, oomScoreAdj: -997 });
});

// A YAML number (cpu: 0.1) reaches us as a number, whatever kubernetes-types says.
test('a tiny CPU limit gets the 1 ms minimum quota, and fractions of a CPU are exact (0.1 = 100m)', () => {
  const c = { name: 'a', resources: { requests: { cpu: 0.1 as unknown as string }, limits: { cpu: '5m' } } };
  const r = containerResources(pod([c]), c, 8 * GiB);
  assert.equal(r.cpuShares, 102);
  assert.equal(r.cpuQuota, 1000);
});

test('Burstable OOM score falls as the memory request grows, within 2..999', () => {
  const small = { name: 'a', resources: { requests: { memory: '1Gi' } } };
  assert.equal(qosClass(pod([small])), 'Burstable');
  assert.equal(containerResources(pod([small]), small, 8 * GiB).oomScoreAdj, 875);
  const huge = { name: 'a', resources: { requests: { memory: '16Gi' } } };
  assert.equal(containerResources(pod([huge]), huge, 8 * GiB).oomScoreAdj, 2);
  const none = { name: 'b' };
  assert.equal(containerResources(pod([small, none]), none, 8 * GiB).oomScoreAdj, 999);
});

test('a system-node-critical pod is never an OOM victim before the guaranteed ones', () => {
  const c = { name: 'a' };
  assert.equal(containerResources(pod([c], { priorityClassName: 'system-node-critical' }), c, GiB).oomScoreAdj, -997);
});

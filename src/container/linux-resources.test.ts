import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from '../api/types.js';
import { containerConfig, sandboxConfig, type NodeFacts } from './container-config.js';
import { containerResources, podCgroupResources, qosClass } from './linux-resources.js';

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

// The OOM score's cases, from the kubelet's own tests, are in oom-score.test.ts.
test('a Burstable container gets its OOM score in its resources', () => {
  const small = { name: 'a', resources: { requests: { memory: '1Gi' } } };
  assert.equal(qosClass(pod([small])), 'Burstable');
  assert.equal(containerResources(pod([small]), small, 8 * GiB).oomScoreAdj, 875);
});

// pkg/kubelet/cm/helpers_linux_test.go TestResourceConfigForPod, the cases that matter to us.
test('a pod cgroup sums its containers: Guaranteed pods get shares, quota and memory limit', () => {
  const a = { name: 'a', resources: { limits: { cpu: '500m', memory: '64Mi' } } };
  const b = { name: 'b', resources: { limits: { cpu: '250m', memory: '32Mi' } } };
  assert.deepEqual(podCgroupResources(pod([a, b])), { cpuShares: 768, cpuQuota: 75_000, cpuPeriod: 100_000, memoryLimitBytes: 96 * 2 ** 20 });
});

test('a Burstable pod gets a quota or memory limit only when every container declares that limit', () => {
  const limited = { name: 'a', resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: '1', memory: '64Mi' } } };
  const cpuOnly = { name: 'b', resources: { requests: { cpu: '100m' }, limits: { cpu: '1' } } };
  assert.deepEqual(podCgroupResources(pod([limited, cpuOnly])), { cpuShares: 204, cpuQuota: 200_000, cpuPeriod: 100_000, memoryLimitBytes: 0 });
  const none = { name: 'c' };
  assert.deepEqual(podCgroupResources(pod([limited, none])), { cpuShares: 102, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0 });
});

test('a BestEffort pod gets the minimum shares and nothing else', () => {
  assert.deepEqual(podCgroupResources(pod([{ name: 'a' }])), { cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0 });
});

test('an init container that needs more than the regular containers sets the pod total; sidecars add up', () => {
  const main = { name: 'm', resources: { limits: { cpu: '100m', memory: '10Mi' } } };
  const bigInit = { name: 'i', resources: { limits: { cpu: '1', memory: '100Mi' } } };
  assert.deepEqual(podCgroupResources(pod([main], { initContainers: [bigInit] })), { cpuShares: 1024, cpuQuota: 100_000, cpuPeriod: 100_000, memoryLimitBytes: 100 * 2 ** 20 });
  // A sidecar runs beside everything after it: 200m + the 1-CPU init container while it runs, and
  // 200m + 100m afterwards.
  const sidecar = { name: 's', restartPolicy: 'Always', resources: { limits: { cpu: '200m', memory: '20Mi' } } };
  assert.deepEqual(podCgroupResources(pod([main], { initContainers: [sidecar, bigInit] })), {
    cpuShares: 1228,
    cpuQuota: 120_000,
    cpuPeriod: 100_000,
    memoryLimitBytes: 120 * 2 ** 20,
  });
});

test('pod overhead is added to the request and to limits that are set', () => {
  const a = { name: 'a', resources: { requests: { cpu: '100m' }, limits: { memory: '64Mi' } } };
  assert.deepEqual(podCgroupResources(pod([a], { overhead: { cpu: '50m', memory: '16Mi' } })), {
    cpuShares: 153,
    cpuQuota: 0,
    cpuPeriod: 100_000,
    memoryLimitBytes: 80 * 2 ** 20,
  });
});

test('sub-millicore amounts add up exactly before rounding, as Quantity sums do', () => {
  // 1.5m + 1.5m = 3m (3 shares); rounding each container up first would give 4m.
  const a = { name: 'a', resources: { requests: { cpu: '1500u' } } };
  assert.equal(podCgroupResources(pod([a, { ...a, name: 'b' }])).cpuShares, 3);
});

test('without CFS quota enforcement (cpuCFSQuota: false) a CPU limit sets no quota, on the container nor on the pod; shares and memory stay', () => {
  const c = { name: 'a', resources: { limits: { cpu: '500m', memory: '64Mi' } } };
  const r = containerResources(pod([c]), c, 8 * GiB, false);
  assert.deepEqual([r.cpuShares, r.cpuQuota, r.memoryLimitBytes], [512, 0, 64 * 2 ** 20]);
  assert.deepEqual(podCgroupResources(pod([c]), false), { cpuShares: 512, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 64 * 2 ** 20 });
});

test('the sandbox config carries the pod cgroup’s limits and the container config its own; cpuCFSQuota: false reaches both', () => {
  const c = { name: 'a', command: ['x'], resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '32Mi' } } };
  const p = pod([c]);
  const node: NodeFacts = { nodeName: 'n', hostIP: '', podIP: '', memoryCapacityBytes: 8 * GiB, hostDns: { servers: [], searches: [], options: [] } };
  assert.deepEqual(sandboxConfig(p, '/logs', 0, node).linux?.resources, { cpuShares: 256, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 32 * 2 ** 20 });
  assert.equal(containerConfig(p, c, 0, node).resources?.cpuQuota, 50_000);
  const noQuota = { ...node, cpuCFSQuota: false };
  assert.equal(sandboxConfig(p, '/logs', 0, noQuota).linux?.resources?.cpuQuota, 0);
  assert.equal(containerConfig(p, c, 0, noQuota).resources?.cpuQuota, 0);
});

// A container's oom_score_adj (pkg/kubelet/qos/policy.go GetContainerOOMScoreAdjust): the kubelet's
// own table (policy_test.go TestGetContainerOOMScoreAdjust), then the rules of the function that table
// does not reach: critical pods by source, sidecars, the exact integer arithmetic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Container, Pod } from '../api/types.js';
import { containerOomScoreAdj, isCriticalPod, isNodeCriticalPod, qosClass } from './linux-resources.js';

const GiB = 2 ** 30;
const STANDARD_MEMORY = 8_000_000_000;
const SYSTEM_CRITICAL = 2_000_000_000;

type Spec = NonNullable<Pod['spec']>;
const pod = (containers: Container[], spec: Partial<Spec> = {}, annotations?: Record<string, string>): Pod =>
  ({ metadata: { name: 'p', uid: 'u', ...(annotations ? { annotations } : {}) }, spec: { containers, ...spec } }) as Pod;
const one = (resources: Container['resources'], spec: Partial<Spec> = {}) => pod([{ name: 'c', ...(resources ? { resources } : {}) }], spec);
const adjOf = (p: Pod, capacity: number, name = p.spec!.containers[0]!.name) => {
  const c = [...(p.spec!.initContainers ?? []), ...p.spec!.containers].find((x) => x.name === name)!;
  return containerOomScoreAdj(p, c, capacity);
};

describe('the kubelet’s table (policy_test.go)', () => {
  // The kubelet's test pods are not defaulted; pods reaching nodelet are (a request defaults to its
  // limit, as the API server and the kubelet's file decoding do). One case differs for that reason.
  const cases: { name: string; pod: Pod; capacity: number; want: number }[] = [
    { name: 'cpuLimit', pod: one({ limits: { cpu: '10' } }), capacity: 4_000_000_000, want: 999 },
    {
      // The kubelet's table says 999 for the undefaulted pod (no memory request at all). Defaulted, the
      // 10G limit is also the request: more than the node's 8G, so the floor of Burstable, 3.
      name: 'memoryLimitCPURequest (defaulted)',
      pod: one({ requests: { cpu: '0' }, limits: { memory: '10G' } }),
      capacity: 8_000_000_000,
      want: 3,
    },
    { name: 'zeroMemoryLimit', pod: one({ limits: { memory: '0' } }), capacity: 7_230_457_451, want: 1000 },
    { name: 'noRequestLimit', pod: one({}), capacity: 4_000_000_000, want: 1000 },
    {
      name: 'equalRequestLimitCPUMemory',
      pod: one({ requests: { memory: '10G', cpu: '5m' }, limits: { cpu: '5m', memory: '10G' } }),
      capacity: 123_456_789,
      want: -997,
    },
    {
      name: 'cpuUnlimitedMemoryLimitedWithRequests',
      pod: one({ requests: { memory: String(STANDARD_MEMORY / 2), cpu: '5m' }, limits: { memory: '10G' } }),
      capacity: STANDARD_MEMORY,
      want: 500, // the kubelet's table accepts 495..505
    },
    { name: 'requestNoLimit', pod: one({ requests: { memory: String(STANDARD_MEMORY - 1), cpu: '5m' } }), capacity: STANDARD_MEMORY, want: 3 },
    {
      name: 'clusterCritical',
      pod: one({}, { priorityClassName: 'system-cluster-critical', priority: SYSTEM_CRITICAL }),
      capacity: 4_000_000_000,
      want: 1000,
    },
    {
      name: 'nodeCritical',
      pod: one({}, { priorityClassName: 'system-node-critical', priority: SYSTEM_CRITICAL + 1000 }),
      capacity: 4_000_000_000,
      want: -997,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.want}`, () => assert.equal(adjOf(c.pod, c.capacity), c.want));
  }
});

describe('critical pods', () => {
  const nodeCritical = { priorityClassName: 'system-node-critical' };
  test('a static pod is critical by its source, so system-node-critical alone makes it -997, whatever its QoS', () => {
    for (const source of ['file', 'http']) {
      const p = pod([{ name: 'c' }], nodeCritical, { 'kubernetes.io/config.source': source });
      assert.equal(isCriticalPod(p), true);
      assert.equal(adjOf(p, 8 * GiB), -997);
    }
  });

  test('a static pod of another class keeps its QoS score: critical is not node-critical', () => {
    const p = pod([{ name: 'c' }], { priorityClassName: 'system-cluster-critical' }, { 'kubernetes.io/config.source': 'file' });
    assert.deepEqual([isCriticalPod(p), isNodeCriticalPod(p), adjOf(p, 8 * GiB)], [true, false, 1000]);
  });

  test('an API pod needs the critical priority too: the class name without a resolved priority is not enough', () => {
    const api = { 'kubernetes.io/config.source': 'api' };
    assert.equal(adjOf(pod([{ name: 'c' }], nodeCritical, api), 8 * GiB), 1000);
    assert.equal(adjOf(pod([{ name: 'c' }], { ...nodeCritical, priority: SYSTEM_CRITICAL + 1000 }, api), 8 * GiB), -997);
    assert.equal(isCriticalPod(pod([{ name: 'c' }], { priority: SYSTEM_CRITICAL - 1 }, api)), false);
  });

  test('a mirror pod is critical', () => {
    const p = pod([{ name: 'c' }], nodeCritical, { 'kubernetes.io/config.source': 'api', 'kubernetes.io/config.mirror': 'abc' });
    assert.equal(adjOf(p, 8 * GiB), -997);
  });
});

describe('Burstable', () => {
  test('1000 − 1000 × request / capacity, truncated as Go’s integer division: 1Gi of 8Gi is 875, 1Gi of 3Gi 667', () => {
    const c = { requests: { memory: '1Gi' } };
    assert.equal(adjOf(one(c), 8 * GiB), 875);
    assert.equal(adjOf(one(c), 3 * GiB), 667); // 1000 − 333.33… → 1000 − 333
  });

  test('never 1000, which is BestEffort’s: no memory request gives 999', () => {
    assert.equal(adjOf(one({ requests: { cpu: '100m' } }), 8 * GiB), 999);
  });

  test('never below 3, which keeps it above Guaranteed’s -997 + 1000', () => {
    assert.equal(adjOf(one({ requests: { memory: '16Gi' } }), 8 * GiB), 3);
    assert.equal(adjOf(one({ requests: { memory: '7.99Gi' } }), 8 * GiB), 3); // 1000 − 998 = 2 → 3
  });

  test('huge amounts stay exact, as Go’s int64: just under half of a 1000 PiB node is 501, not 500', () => {
    const capacity = 1000 * 2 ** 50;
    assert.equal(adjOf(one({ requests: { memory: String(500n * 2n ** 50n - 1n) } }), capacity), 501);
    assert.equal(adjOf(one({ requests: { memory: String(500n * 2n ** 50n) } }), capacity), 500);
  });

  test('a request is rounded up to whole bytes, as Quantity.Value()', () => {
    // 0.5 byte → 1 byte, 1000 × 1 / 1000 = 1 → 999.
    assert.equal(adjOf(one({ requests: { memory: '500m' } }), 1000), 999);
    assert.equal(adjOf(one({ requests: { memory: '1500m' } }), 1000), 998);
  });

  test('each container is scored on its own request', () => {
    const p = pod([
      { name: 'big', resources: { requests: { memory: '4Gi' } } },
      { name: 'none' },
    ]);
    assert.deepEqual([adjOf(p, 8 * GiB, 'big'), adjOf(p, 8 * GiB, 'none')], [500, 999]);
  });
});

describe('sidecars (restartable init containers)', () => {
  const regular: Container[] = [
    { name: 'a', resources: { requests: { memory: '1Gi' } } },
    { name: 'b', resources: { requests: { memory: '2Gi' } } },
  ];
  test('a sidecar asking for less than every regular container scores as the smallest of them, no higher', () => {
    const p = pod(regular, { initContainers: [{ name: 's', restartPolicy: 'Always', resources: { requests: { memory: '256Mi' } } }] });
    assert.equal(adjOf(p, 8 * GiB, 'a'), 875);
    assert.equal(adjOf(p, 8 * GiB, 's'), 875); // 969 on its own request
  });

  test('a sidecar asking for more keeps its own, lower score', () => {
    const p = pod(regular, { initContainers: [{ name: 's', restartPolicy: 'Always', resources: { requests: { memory: '4Gi' } } }] });
    assert.equal(adjOf(p, 8 * GiB, 's'), 500);
  });

  test('a sidecar without a request, beside regular containers without one, is 999 like them', () => {
    const p = pod([{ name: 'a', resources: { requests: { cpu: '1' } } }], { initContainers: [{ name: 's', restartPolicy: 'Always' }] });
    assert.deepEqual([adjOf(p, 8 * GiB, 'a'), adjOf(p, 8 * GiB, 's')], [999, 999]);
  });

  test('a plain init container is scored on its own request only', () => {
    const p = pod(regular, { initContainers: [{ name: 'i', resources: { requests: { memory: '256Mi' } } }] });
    assert.equal(adjOf(p, 8 * GiB, 'i'), 969);
  });
});

describe('the QoS class the score follows', () => {
  test('zero requests and limits count as unset: BestEffort', () => {
    assert.equal(qosClass(one({ requests: { cpu: '0' }, limits: { memory: '0' } })), 'BestEffort');
  });

  test('equal amounts in other spellings are equal: 1 CPU = 1000m, 1Gi = 1073741824', () => {
    assert.equal(qosClass(one({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1073741824' } })), 'Guaranteed');
  });

  test('one Guaranteed and one BestEffort container make a Burstable pod', () => {
    const g = { name: 'g', resources: { limits: { cpu: '1', memory: '1Gi' } } };
    assert.equal(qosClass(pod([g, { name: 'b' }])), 'Burstable');
    assert.equal(adjOf(pod([g, { name: 'b' }]), 8 * GiB, 'g'), 875);
  });

  test('a pod’s recorded status.qosClass wins, as GetPodQOS reads it first (the API server sets it once)', () => {
    const p = { ...one({ limits: { cpu: '1', memory: '1Gi' } }), status: { qosClass: 'Burstable' } } as Pod;
    assert.equal(qosClass(p), 'Burstable');
    assert.equal(adjOf(p, 8 * GiB), 875);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { containerSecurity, sandboxLinux } from './security-context.js';

test('the container securityContext overrides the pod one; /proc stays masked unless privileged', () => {
  const pod = {
    metadata: { name: 'p' },
    spec: {
      securityContext: { runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [5] },
      containers: [{ name: 'a', securityContext: { runAsUser: 2000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } } }],
    },
  } as Pod;
  const s = containerSecurity(pod, pod.spec!.containers[0]!);
  assert.equal(s.runAsUser, 2000);
  assert.equal(s.runAsGroup, 1000);
  assert.deepEqual(s.supplementalGroups, [5]);
  assert.equal(s.readonlyRootfs, true);
  assert.equal(s.noNewPrivs, true);
  assert.deepEqual(s.capabilities, { add: ['NET_ADMIN'], drop: ['ALL'] });
  assert.ok(s.maskedPaths.includes('/proc/kcore'));
  const priv = containerSecurity(pod, { name: 'b', securityContext: { privileged: true } });
  assert.deepEqual([priv.maskedPaths, priv.readonlyPaths], [[], []]);
});

test('sandbox namespaces: host network/PID/IPC map to the node, shareProcessNamespace to one pod PID namespace', () => {
  const pod = { metadata: { name: 'p' }, spec: { hostNetwork: true, shareProcessNamespace: true, containers: [{ name: 'a', securityContext: { privileged: true } }] } } as Pod;
  const l = sandboxLinux(pod);
  assert.deepEqual(l.namespaces, { network: 'node', pid: 'pod', ipc: 'pod' });
  assert.equal(l.privileged, true);
  assert.deepEqual(sandboxLinux({ metadata: {}, spec: { containers: [] } } as Pod).namespaces, { network: 'pod', pid: 'container', ipc: 'pod' });
});

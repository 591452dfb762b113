import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from '../api/types.js';
import { containerEphemeralStorageLimits, containerEphemeralStorageMessage, podEphemeralStorageLimit, podEphemeralStorageMessage } from './local-storage.js';

const c = (name: string, limit?: string, restartPolicy?: string): Container =>
  ({ name, ...(limit ? { resources: { limits: { 'ephemeral-storage': limit } } } : {}), ...(restartPolicy ? { restartPolicy } : {}) }) as Container;
const pod = (containers: Container[], initContainers: Container[] = []): Pod => ({ metadata: { name: 'p' }, spec: { containers, initContainers } }) as Pod;

test('the pod limit adds its containers\' limits as PodLimits does, printed in the first one\'s format', () => {
  assert.equal(podEphemeralStorageLimit(pod([c('a'), c('b')])), undefined);
  assert.deepEqual(podEphemeralStorageLimit(pod([c('a', '1Gi'), c('b'), c('c', '512Mi')])), { limitBytes: 1.5 * 2 ** 30, limit: '1536Mi' });
  assert.deepEqual(podEphemeralStorageLimit(pod([c('a', '1G'), c('b', '500M')])), { limitBytes: 1.5e9, limit: '1500M' });
  // Only containers without one: a limit-less container adds nothing, so the total is the others'.
  assert.deepEqual(podEphemeralStorageLimit(pod([c('a'), c('b', '1Mi')])), { limitBytes: 2 ** 20, limit: '1Mi' });
});

test('init containers: the largest of an init container with the sidecars before it, else the regular and sidecar total', () => {
  // A big init container alone decides.
  assert.equal(podEphemeralStorageLimit(pod([c('a', '1Mi')], [c('init', '10Mi')]))!.limit, '10Mi');
  // Sidecars run beside the regular containers, and beside the init containers after them.
  assert.equal(podEphemeralStorageLimit(pod([c('a', '1Mi')], [c('side', '2Mi', 'Always'), c('init', '2Mi')]))!.limit, '4Mi');
  assert.equal(podEphemeralStorageLimit(pod([c('a', '1Mi')], [c('init', '2Mi'), c('side', '2Mi', 'Always')]))!.limit, '3Mi');
  // An init container before a sidecar is not added to it.
  assert.equal(podEphemeralStorageLimit(pod([c('a', '1Mi')], [c('init', '10Mi'), c('side', '1Mi', 'Always')]))!.limit, '10Mi');
  assert.equal(podEphemeralStorageLimit(pod([], [c('init', '3Mi')]))!.limit, '3Mi');
});

test('container limits: regular containers with a non-zero limit; the kubelet\'s messages', () => {
  const limits = containerEphemeralStorageLimits(pod([c('a', '1Mi'), c('b'), c('z', '0')], [c('init', '5Mi')]));
  assert.deepEqual(limits, [{ container: 'a', limitBytes: 2 ** 20, limit: '1Mi' }]);
  assert.equal(containerEphemeralStorageMessage(limits[0]!), 'Container a exceeded its local ephemeral storage limit "1Mi". ');
  assert.equal(podEphemeralStorageMessage({ limitBytes: 1, limit: '1536Mi' }), 'Pod ephemeral local storage usage exceeds the total limit of containers 1536Mi. ');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { ApiError, type KubeClient, type WatchEvent } from './kube-client.js';
import { Reflector, type KubeObject } from './reflector.js';

/**
 * A scripted API server for the reflector: each list answers the current items at resourceVersion
 * `rv`; each watch plays the next script step (events, then end or an error). The real semantics
 * are exercised end to end in test/e2e/cluster.test.ts against the API-server test double.
 */
function scripted(steps: ((emit: (e: WatchEvent<KubeObject>) => void) => Promise<void>)[]) {
  const calls: string[] = [];
  let items: KubeObject[] = [{ metadata: { name: 'a', namespace: 'd', resourceVersion: '5' } }];
  const client: KubeClient = {
    server: 'test',
    async request<T>(method: string, path: string): Promise<T> {
      calls.push(`${method} ${path}`);
      return { metadata: { resourceVersion: '5' }, items } as T;
    },
    async watch<T>(path: string, query: Record<string, unknown> | undefined, onEvent: (e: WatchEvent<T>) => void): Promise<void> {
      calls.push(`WATCH ${path} rv=${query?.resourceVersion}`);
      const step = steps.shift();
      if (!step) return new Promise(() => undefined); // stays open
      await step((e) => onEvent(e as WatchEvent<T>));
    },
  };
  return { client, calls, setItems: (x: KubeObject[]) => (items = x) };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

test('lists, then watches from the list resourceVersion; a watch that ends resumes from the last one seen', async () => {
  const clock = new FakeClock();
  const { client, calls } = scripted([
    async (emit) => emit({ type: 'ADDED', object: { metadata: { name: 'b', namespace: 'd', resourceVersion: '7' } } }),
  ]);
  const syncs: string[][] = [];
  const r = new Reflector({ client, path: '/api/v1/pods', clock, logger: silentLogger(), onSync: (items) => syncs.push(items.map((i) => i.metadata!.name!)) });
  r.start();
  await settle();
  assert.deepEqual(calls, ['GET /api/v1/pods', 'WATCH /api/v1/pods rv=5', 'WATCH /api/v1/pods rv=7']);
  assert.deepEqual(syncs, [['a'], ['a', 'b']]);
  r.stop();
});

test('a 410 Gone on the watch lists again at once; other errors back off from 1 s', async () => {
  const clock = new FakeClock();
  const { client, calls } = scripted([
    async (emit) => emit({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old resource version' } as KubeObject }),
    async () => {
      throw new ApiError(0, 'Unreachable', 'connect ECONNREFUSED');
    },
  ]);
  const r = new Reflector({ client, path: '/api/v1/pods', clock, logger: silentLogger(), onSync: () => undefined });
  r.start();
  await settle();
  assert.deepEqual(calls, ['GET /api/v1/pods', 'WATCH /api/v1/pods rv=5', 'GET /api/v1/pods', 'WATCH /api/v1/pods rv=5']);
  clock.advance(999);
  await settle();
  assert.equal(calls.length, 4);
  clock.advance(1);
  await settle();
  assert.equal(calls.at(-1), 'WATCH /api/v1/pods rv=5');
  r.stop();
});

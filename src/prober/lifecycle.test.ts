import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';
import type { Container, Pod } from '../api/types.js';
import { createEventRecorder } from '../events/recorder.js';
import type { Runtime } from '../runtime/types.js';
import { FakeClock } from '../util/clock.js';
import { runLifecycleHandler, type LifecycleContext } from './lifecycle.js';
import { freePort, selfSignedCert, settle, startHttpServer, startProcessContainer, type TestServer } from './testing.js';

const container: Container = { name: 'main' };
const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [container] } } as Pod;
const where = 'for Container "main" in Pod "web_default(u1)"';

let ctr: { runtime: Runtime; containerId: string; dir: string; close(): Promise<void> };
let server: TestServer;
let seen: { url: string; headers: IncomingHttpHeaders }[] = [];

before(async () => {
  ctr = await startProcessContainer();
  server = await startHttpServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    if (req.url === '/slow') return;
    res.writeHead(req.url === '/fail' ? 500 : 200).end('bye');
  });
});
after(async () => {
  await server.close();
  await ctr.close();
});

const ctx = (over: Partial<LifecycleContext> = {}): LifecycleContext => ({
  pod, container, containerId: ctr.containerId, runtime: ctr.runtime, podIP: '127.0.0.1', timeoutMs: 5000, ...over,
});
const run = (h: LifecycleHandler, over: Partial<LifecycleContext> = {}) => runLifecycleHandler(h, ctx(over));

test('an exec hook runs in the container', async () => {
  const marker = path.join(ctr.dir, 'post-start');
  assert.deepEqual(await run({ exec: { command: ['sh', '-c', 'touch post-start'] } }), { ok: true, message: '' });
  assert.ok(existsSync(marker));
});

test('a failing exec hook reports the kubelet message with the exit code and output', async () => {
  const r = await run({ exec: { command: ['sh', '-c', 'echo oops >&2; exit 3'] } });
  assert.deepEqual(r, {
    ok: false,
    message: `Exec lifecycle hook ([sh -c echo oops >&2; exit 3]) ${where} failed - error: command 'sh -c echo oops >&2; exit 3' exited with 3: oops\n, message: "oops\\n"`,
  });
});

test('an exec hook is bounded by timeoutMs', async () => {
  const started = Date.now();
  const r = await run({ exec: { command: ['sleep', '10'] } }, { timeoutMs: 300 });
  assert.ok(Date.now() - started < 1500);
  assert.equal(r.ok, false);
  assert.match(r.message, /failed - error: context deadline exceeded/);
});

test('an httpGet hook succeeds on any response, as the kubelet (the status is not checked)', async () => {
  seen = [];
  assert.deepEqual(await run({ httpGet: { port: server.port, path: '/stop' } }), { ok: true, message: '' });
  assert.deepEqual(await run({ httpGet: { port: server.port, path: '/fail' } }), { ok: true, message: '' });
  assert.equal(seen[0]!.headers['user-agent'], 'kube-lifecycle/1.30');
});

test('an httpGet hook fails when the request fails', async () => {
  const port = await freePort();
  const r = await run({ httpGet: { port, path: '/stop' } });
  assert.deepEqual(r, {
    ok: false,
    message: `HTTP lifecycle hook (/stop) ${where} failed - error: Get "http://127.0.0.1:${port}/stop": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
  const slow = await run({ httpGet: { port: server.port, path: '/slow' } }, { timeoutMs: 200 });
  assert.equal(slow.ok, false);
  assert.match(slow.message, /context deadline exceeded/);
});

test('an HTTPS hook answered in plain HTTP is retried over HTTP, with a warning event', async () => {
  const events = createEventRecorder(new FakeClock());
  seen = [];
  const r = await run({ httpGet: { port: server.port, path: '/stop', scheme: 'HTTPS', httpHeaders: [{ name: 'Authorization', value: 'secret' }] } }, { events });
  assert.deepEqual(r, { ok: true, message: '' });
  assert.equal(seen.at(-1)!.headers.authorization, undefined, 'Authorization is not sent over the fallback');
  const ev = events.list('u1')[0]!;
  assert.equal(ev.reason, 'LifecycleHTTPFallback');
  assert.equal(ev.message, `request to HTTPS lifecycle hook 127.0.0.1:${server.port} got HTTP response, retry with HTTP succeeded`);
});

test('an HTTPS hook does not check the certificate', async (t) => {
  const tls = selfSignedCert();
  if (!tls) return t.skip('openssl is not available to make a certificate');
  const secure = await startHttpServer((_req, res) => res.end('ok'), tls);
  try {
    assert.deepEqual(await run({ httpGet: { port: secure.port, path: '/', scheme: 'HTTPS' } }), { ok: true, message: '' });
  } finally {
    await secure.close();
  }
});

test('a sleep hook waits on the clock', async () => {
  const clock = new FakeClock();
  let done: { ok: boolean; message: string } | undefined;
  void run({ sleep: { seconds: 5 } }, { clock, timeoutMs: 30_000 }).then((r) => (done = r));
  clock.advance(4999);
  await settle();
  assert.equal(done, undefined);
  clock.advance(1);
  await settle();
  assert.deepEqual(done, { ok: true, message: '' });
});

test('a sleep hook longer than its budget, or aborted, fails as the kubelet says', async () => {
  const clock = new FakeClock();
  let cut: { ok: boolean; message: string } | undefined;
  void run({ sleep: { seconds: 60 } }, { clock, timeoutMs: 2000 }).then((r) => (cut = r));
  clock.advance(2000);
  await settle();
  assert.deepEqual(cut, { ok: false, message: `Sleep lifecycle hook (60) ${where} failed - error: container terminated before sleep hook finished` });

  const ac = new AbortController();
  const aborted = run({ sleep: { seconds: 60 } }, { clock, signal: ac.signal });
  ac.abort();
  assert.equal((await aborted).ok, false);
});

test('tcpSocket and empty handlers are not supported and fail', async () => {
  const r = await run({ tcpSocket: { port: server.port } });
  assert.equal(r.ok, false);
  assert.match(r.message, /^Cannot run handler: invalid handler: /);
  assert.equal((await run({})).ok, false);
});

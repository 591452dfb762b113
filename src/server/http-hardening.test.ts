// The HTTP servers under hostile clients: slowloris, oversized requests, traversal attempts, floods of
// connections and of streams, failing routes. The real servers run in-process (startServers) on a
// temp root dir and a free port; every wait is for a condition, with a generous deadline.

import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { nodeWithLog, rawRequest, snapshot, startTestServers, waitFor } from './testing.js';

type T = { after: (fn: () => void | Promise<void>) => void };

const STACK = /\n\s+at .+:\d+:\d+/;

function get(target: string, headers: Record<string, string> = {}, method = 'GET'): string {
  const h = Object.entries({ host: '127.0.0.1', connection: 'close', ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `${method} ${target} HTTP/1.1\r\n${h}\r\n`;
}

/** A raw connection kept open, with everything it received so far. */
interface Open {
  sock: Socket;
  data: string;
  closed: boolean;
}

function open(port: number, first?: string): Promise<Open> {
  return new Promise((resolve, reject) => {
    const o: Open = { sock: connect(port, '127.0.0.1'), data: '', closed: false };
    o.sock.on('data', (d) => (o.data += d.toString('utf8')));
    o.sock.on('close', () => (o.closed = true));
    o.sock.on('error', () => undefined);
    o.sock.once('connect', () => {
      if (first !== undefined) o.sock.write(first);
      resolve(o);
    });
    o.sock.once('error', reject);
  });
}

function closeAll(t: T, socks: Open[]): void {
  t.after(() => {
    for (const o of socks) o.sock.destroy();
  });
}

test('200 slow clients do not keep /healthz from answering on a fresh connection', async (t) => {
  const { view } = await nodeWithLog(t);
  const { port } = await startTestServers(t, view);
  const slow: Open[] = [];
  closeAll(t, slow);
  const timers: NodeJS.Timeout[] = [];
  t.after(() => timers.forEach(clearInterval));
  for (let i = 0; i < 200; i++) {
    // Half say nothing at all; half trickle a header one byte at a time and never finish it.
    const o = await open(port, i % 2 === 0 ? undefined : 'GET /pods HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    slow.push(o);
    if (i % 2 === 1) timers.push(setInterval(() => o.sock.write('a'), 200));
  }
  const health = await rawRequest(port, get('/healthz'));
  assert.equal(health.status, 200);
  assert.equal(health.body, 'ok');
  const pods = await rawRequest(port, get('/pods'));
  assert.equal(pods.status, 200);
  assert.equal(JSON.parse(pods.body).kind, 'PodList');
});

test('slow, silent and idle clients are cut off; watches and followed logs outlive every timeout', async (t) => {
  const { view, logPath } = await nodeWithLog(t);
  const { port } = await startTestServers(t, view, {
    headersTimeoutMs: 1_000,
    requestTimeoutMs: 2_000,
    idleTimeoutMs: 1_000,
    keepAliveTimeoutMs: 500,
    timeoutCheckIntervalMs: 100,
  });
  const conns: Open[] = [];
  closeAll(t, conns);
  const timers: NodeJS.Timeout[] = [];
  t.after(() => timers.forEach(clearInterval));

  // The long-lived responses, opened first.
  const watch = await open(port, get('/api/v1/pods?watch=true'));
  const follow = await open(port, get('/containerLogs/default/a-n1/main?follow=true'));
  const apiFollow = await open(port, get('/api/v1/namespaces/default/pods/a-n1/log?follow=true'));
  conns.push(watch, follow, apiFollow);
  await waitFor('the watch to list a-n1', () => watch.data.includes('"ADDED"'));
  await waitFor('the followed logs to start', () => follow.data.includes('hello from main') && apiFollow.data.includes('hello from main'));

  // Then the hostile ones: silent; trickling a header (never idle, so only headersTimeout stops it);
  // trickling a body (only requestTimeout stops it); a keep-alive connection left idle after its request.
  const silent = await open(port);
  const trickler = await open(port, 'GET /pods HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  timers.push(setInterval(() => trickler.sock.write('a'), 100));
  const staller = await open(port, 'POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{');
  timers.push(setInterval(() => staller.sock.write(' '), 100));
  const keepAlive = await open(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  conns.push(silent, trickler, staller, keepAlive);
  await waitFor('the server to close the silent connection', () => silent.closed);
  await waitFor('the server to close the trickling connection', () => trickler.closed);
  await waitFor('the server to close the stalled body', () => staller.closed);
  await waitFor('the server to close the idle keep-alive connection', () => keepAlive.closed);
  assert.match(keepAlive.data, /^HTTP\/1\.1 200 /);
  assert.ok(!/^HTTP\/1\.1 200/.test(trickler.data), 'the trickler was never answered');
  // Its headers were complete and it was never idle: only requestTimeout could end it, with a 408.
  assert.match(staller.data, /^HTTP\/1\.1 408 /);

  // The streams were opened before the stalled body and have been silent since: they outlived both
  // the request timeout and the idle timeout, which would have ended them had either applied.
  assert.equal(watch.closed, false);
  assert.equal(follow.closed, false);
  assert.equal(apiFollow.closed, false);
  view.snapshots = [...view.snapshots, snapshot('b')];
  await waitFor('the watch to see b-n1', () => /"ADDED".*"b-n1"/.test(watch.data));
  await appendFile(logPath, '2024-05-01T11:00:01.000000000Z stdout F a later line\n');
  await waitFor('both followed logs to get the new line', () => follow.data.includes('a later line') && apiFollow.data.includes('a later line'));
});

test('an oversized header is a 431, an oversized body a 413 without the rest being read', async (t) => {
  const { view } = await nodeWithLog(t);
  const { port } = await startTestServers(t, view);

  const big = await rawRequest(port, get('/healthz', { 'x-big': 'a'.repeat(20 * 1024) }));
  assert.equal(big.status, 431);
  const longUrl = await rawRequest(port, get(`/pods/${'a'.repeat(20 * 1024)}`));
  assert.equal(longUrl.status, 431);

  // Declared too large: answered before any of it is sent.
  const declared = await rawRequest(port, get('/api/v1/namespaces/default/pods', { 'content-length': String(10 * 1024 * 1024), 'content-type': 'application/json' }, 'POST'));
  assert.equal(declared.status, 413);
  const s = JSON.parse(declared.body);
  assert.deepEqual([s.kind, s.reason, s.code], ['Status', 'RequestEntityTooLarge', 413]);
  const plain = await rawRequest(port, get('/pods', { 'content-length': String(10 * 1024 * 1024) }));
  assert.equal(plain.status, 413);
  assert.match(plain.body, /^Request entity too large/);

  // Expect: 100-continue with a body too large gets no invitation to send it.
  const expect = await rawRequest(port, get('/api/v1/namespaces/default/pods', { 'content-length': String(1024 * 1024), expect: '100-continue' }, 'POST'));
  assert.equal(expect.status, 413);

  // A small body is read (and, on a read, ignored); a create's body still names the pod in the 405.
  const small = await rawRequest(port, `${get('/healthz', { 'content-length': '5' })}hello`);
  assert.equal(small.status, 200);
  const body = JSON.stringify({ metadata: { name: 'new' } });
  const create = await rawRequest(port, `${get('/api/v1/namespaces/default/pods', { 'content-length': String(body.length), 'content-type': 'application/json' }, 'POST')}${body}`);
  assert.equal(create.status, 405);
  assert.match(JSON.parse(create.body).message, /to create pod "new"/);

  // A chunked body streamed without end is cut off: the client cannot push more than a little.
  const sock = connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  let answer = '';
  let gone = false;
  sock.on('data', (d) => (answer += d.toString('latin1')));
  sock.on('error', () => (gone = true));
  sock.on('close', () => (gone = true));
  sock.on('end', () => (gone = true));
  await new Promise((r) => sock.once('connect', r));
  sock.write('POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  const cap = 256 * 1024 * 1024;
  let written = 0;
  while (!gone && written < cap) {
    const more = sock.write(frame);
    written += frame.length;
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = () => {
          sock.off('drain', done);
          sock.off('close', done);
          resolve();
        };
        sock.once('drain', done);
        sock.once('close', done);
      });
    }
  }
  assert.ok(gone, `the server read ${written} bytes of a body it should have refused`);
  assert.ok(written < 64 * 1024 * 1024, `the client could push ${written} bytes`);
  // The 413 may be lost to the reset of a connection closed with unread bytes; when it arrived, it is right.
  if (answer) assert.match(answer, /^HTTP\/1\.1 413 /);
});

test('traversal attempts get 400 or 404 and never the contents of a file', async (t) => {
  const { view, marker, markerPath } = await nodeWithLog(t);
  const { port } = await startTestServers(t, view);
  const rel = path.relative('/', markerPath);
  const enc = (s: string) => s.split('/').join('%2f');
  const attempts = [
    '/containerLogs/..%2f..%2fetc/passwd',
    '/containerLogs/..%2f..%2f..%2f/x/y',
    `/containerLogs/${enc(`../../../../../../${rel}`)}/x/y`,
    `/containerLogs/default/a-n1/main/../../../../../../../${rel}`,
    `/containerLogs/default/a-n1/${enc(`../../../../../../${rel}`)}`,
    '/containerLogs/default/a-n1/..%5c..%5c..%5cetc%5cpasswd',
    '/containerLogs/default/a-n1/main%00',
    '/containerLogs/%2e%2e/%2e%2e/%2e%2e',
    '/containerLogs/default/a-n1/%252e%252e%252fmarker.txt',
    '/containerLogs/default/a-n1/main/extra',
    '/containerLogs/Default/a-n1/main',
    `//${rel}`,
    `/${rel}`,
    '/api/v1/namespaces/..%2F/pods/x/log',
    '/api/v1/namespaces/default/pods/..%2f..%2fetc/log',
    '/api/v1/namespaces/default/pods/%2e%2e/log',
    `/api/v1/namespaces/default/pods/a-n1/log?container=${encodeURIComponent(`../../../../${rel}`)}`,
    '/api/v1/namespaces/default/pods/a-n1/log?container=..',
    '/api/v1/namespaces/default/pods/..%252f..%252fetc/log',
    '/api/v1/namespaces/kube-system/../default/pods/a-n1/log',
    '/api/v1/namespaces/default/pods/a-n1/log/..',
    '/api/v1/namespaces/default/pods/a-n1\\..\\..\\etc/log',
  ];
  for (const target of attempts) {
    const r = await rawRequest(port, get(target));
    assert.ok(r.status === 400 || r.status === 404, `${target}: ${r.status} ${r.body}`);
    assert.ok(!r.body.includes(marker), `${target} returned the marker file`);
    assert.ok(!r.body.includes('hello from main'), `${target} returned the log`);
    assert.ok(!STACK.test(r.body), `${target}: a stack trace`);
    if (target.startsWith('/api/')) assert.equal(JSON.parse(r.body).kind, 'Status', target);
  }
  // The real log is served, so the checks above would have seen file contents.
  const ok = await rawRequest(port, get('/containerLogs/default/a-n1/main'));
  assert.equal(ok.status, 200);
  assert.match(ok.body, /hello from main/);
});

test('over the connection cap only loopback /healthz is answered, on a reserve of connections', async (t) => {
  const { view } = await nodeWithLog(t);
  // Long timeouts: the held connections must stay for the whole test on a busy machine.
  const { port } = await startTestServers(t, view, { maxConnections: 8, healthzReserve: 2, headersTimeoutMs: 300_000, requestTimeoutMs: 300_000, idleTimeoutMs: 300_000 });
  const held: Open[] = [];
  closeAll(t, held);
  for (let i = 0; i < 8; i++) held.push(await open(port));
  const pods = await rawRequest(port, get('/pods'));
  assert.equal(pods.status, 503);
  assert.equal(pods.headers['retry-after'], '1');
  const api = await rawRequest(port, get('/api/v1/pods'));
  assert.deepEqual([api.status, JSON.parse(api.body).reason], [503, 'ServiceUnavailable']);
  const health = await rawRequest(port, get('/healthz'));
  assert.equal(health.status, 200);
  // With the reserve held too, a new connection is closed unanswered.
  for (let i = 0; i < 2; i++) held.push(await open(port));
  const refused = await rawRequest(port, get('/healthz'));
  assert.equal(refused.status, 0);
  for (const o of held) o.sock.destroy();
  await waitFor('/pods to be answered again', async () => (await rawRequest(port, get('/pods'))).status === 200);
});

test('watches and followed logs beyond the cap get a 429, a Status on API paths', async (t) => {
  const { view } = await nodeWithLog(t);
  const { port, streams } = await startTestServers(t, view, { maxStreams: 2 });
  const conns: Open[] = [];
  closeAll(t, conns);
  const w1 = await open(port, get('/api/v1/pods?watch=true'));
  const w2 = await open(port, get('/api/v1/events?watch=true'));
  conns.push(w1, w2);
  await waitFor('two streams to be open', () => streams.open === 2);
  const third = await rawRequest(port, get('/api/v1/namespaces/default/pods?watch=1'));
  assert.equal(third.status, 429);
  assert.equal(third.headers['retry-after'], '1');
  const s = JSON.parse(third.body);
  assert.deepEqual([s.kind, s.reason, s.code, s.details.retryAfterSeconds], ['Status', 'TooManyRequests', 429, 1]);
  const apiLog = await rawRequest(port, get('/api/v1/namespaces/default/pods/a-n1/log?follow=true'));
  assert.deepEqual([apiLog.status, JSON.parse(apiLog.body).reason], [429, 'TooManyRequests']);
  const log = await rawRequest(port, get('/containerLogs/default/a-n1/main?follow=true'));
  assert.equal(log.status, 429);
  // What ends by itself is not a stream: a plain log read still works.
  const plain = await rawRequest(port, get('/containerLogs/default/a-n1/main'));
  assert.equal(plain.status, 200);
  w1.sock.destroy();
  await waitFor('a slot to be given back', () => streams.open === 1);
  const again = await open(port, get('/api/v1/pods?watch=true'));
  conns.push(again);
  await waitFor('the new watch to start', () => again.data.includes('"ADDED"'));
  assert.match(again.data, /^HTTP\/1\.1 200 /);
});

test('an unexpected failure is a 500 that tells nothing of it, a Status on API paths', async (t) => {
  const { view } = await nodeWithLog(t);
  const { port } = await startTestServers(t, view);
  view.pods = () => {
    throw new Error('cannot read /var/lib/secret/thing');
  };
  for (const target of ['/pods', '/api/v1/pods', '/api/v1/namespaces/default/pods/a-n1', '/containerLogs/default/a-n1/main']) {
    const r = await rawRequest(port, get(target));
    assert.equal(r.status, 500, target);
    assert.ok(!r.body.includes('secret') && !STACK.test(r.body), `${target}: ${r.body}`);
    if (target.startsWith('/api/')) assert.deepEqual([JSON.parse(r.body).reason, JSON.parse(r.body).code], ['InternalError', 500]);
  }
  const health = await rawRequest(port, get('/healthz'));
  assert.equal(health.status, 200);
});

test('names from the URL must be DNS labels and subdomains', async (t) => {
  const { view } = await nodeWithLog(t);
  const { port } = await startTestServers(t, view);
  for (const target of [
    '/containerLogs/Default/a-n1/main',
    '/containerLogs/default/A_N1/main',
    '/containerLogs/default/a-n1/main.x',
    `/containerLogs/${'a'.repeat(64)}/a-n1/main`,
    '/api/v1/namespaces/kube_system/pods',
    '/api/v1/namespaces/default/pods/a-n1/log?container=Main',
    '/api/v1/namespaces/default/events/%E2%9C%93',
  ]) {
    const r = await rawRequest(port, get(target));
    assert.equal(r.status, 400, `${target}: ${r.body}`);
    assert.match(r.body, /invalid (namespace|pod|event|container) name/);
  }
  const ok = await rawRequest(port, get('/api/v1/namespaces/default/pods/a-n1/log'));
  assert.equal(ok.status, 200);
});

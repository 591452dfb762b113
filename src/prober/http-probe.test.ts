import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { HTTPGetAction } from 'kubernetes-types/core/v1.js';
import type { Container } from '../api/types.js';
import { buildHttpGetRequest } from './http-get.js';
import { httpProbe } from './http-probe.js';
import { freePort, selfSignedCert, startHttpServer, type TestServer } from './testing.js';
import type { ProbeOutcome } from './types.js';

const container: Container = { name: 'web' };
let server: TestServer;
let seen: { url: string; headers: IncomingHttpHeaders }[] = [];

before(async () => {
  server = await startHttpServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    const url = new URL(req.url!, 'http://x');
    const code = Number(url.searchParams.get('code') ?? 200);
    switch (url.pathname) {
      case '/redirect':
        res.writeHead(302, { location: `/landing?code=${code}` }).end();
        return;
      case '/elsewhere':
        // Same server, another host name: the probe must not follow.
        res.writeHead(301, { location: `http://localhost:${server.port}/landing` }).end('moved');
        return;
      case '/loop':
        res.writeHead(307, { location: '/loop' }).end();
        return;
      case '/big':
        res.writeHead(200).end('x'.repeat(100_000));
        return;
      case '/slow':
        return; // never answers
      default:
        res.writeHead(code).end(`body of ${url.pathname}`);
    }
  });
});
after(() => server.close());

const probe = (action: Partial<HTTPGetAction>, timeoutMs = 1000, c: Container = container) =>
  httpProbe(buildHttpGetRequest({ port: server.port, ...action }, c, '127.0.0.1', 'probe'), timeoutMs);

test('2xx is success with the body as output; the kubelet User-Agent and Accept are sent', async () => {
  seen = [];
  assert.deepEqual(await probe({ path: '/healthz' }), { result: 'success', output: 'body of /healthz' });
  assert.equal(seen[0]!.headers['user-agent'], 'kube-probe/1.30');
  assert.equal(seen[0]!.headers.accept, '*/*');
  assert.equal(seen[0]!.headers.connection, 'close', 'no keep-alive');
});

test('>= 400 is failure with the status code and without the body', async () => {
  assert.deepEqual(await probe({ path: '/x?code=500' }), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  assert.deepEqual(await probe({ path: '/x?code=404' }), { result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
  assert.equal((await probe({ path: '/x?code=399' })).result, 'warning', 'a 3xx that is not a redirect is not followed');
});

test('a redirect on the same host is followed', async () => {
  seen = [];
  assert.deepEqual(await probe({ path: '/redirect?code=204' }), { result: 'success', output: '' });
  assert.deepEqual(seen.map((s) => s.url), ['/redirect?code=204', '/landing?code=204']);
  assert.equal((await probe({ path: '/redirect?code=503' })).result, 'failure');
});

test('a redirect to another host is not followed: success with a warning', async () => {
  seen = [];
  assert.deepEqual(await probe({ path: '/elsewhere' }), { result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
  assert.equal(seen.length, 1);
});

test('a redirect loop stops after 10 redirects', async () => {
  const r = await probe({ path: '/loop' });
  assert.equal(r.result, 'failure');
  assert.match((r as { output: string }).output, /^Get "http:\/\/127\.0\.0\.1:\d+\/loop": stopped after 10 redirects$/);
});

test('httpHeaders are sent; a User-Agent or Host of the user wins; an empty Accept removes it', async () => {
  seen = [];
  await probe({
    path: '/h',
    httpHeaders: [
      { name: 'X-Custom', value: 'a' },
      { name: 'X-Custom', value: 'b' },
      { name: 'User-Agent', value: 'mine' },
      { name: 'Host', value: 'example.test' },
      { name: 'Accept', value: '' },
    ],
  });
  const h = seen[0]!.headers;
  assert.equal(h['x-custom'], 'a, b');
  assert.equal(h['user-agent'], 'mine');
  assert.equal(h.host, 'example.test');
  assert.equal(h.accept, undefined);
});

test('host, named port and path are taken from the action and the container', async () => {
  seen = [];
  const c: Container = { name: 'web', ports: [{ name: 'http', containerPort: server.port }] };
  const r = await httpProbe(buildHttpGetRequest({ port: 'http', path: 'no-slash', host: '127.0.0.1' }, c, '10.9.9.9', 'probe'), 1000);
  assert.equal(r.result, 'success');
  assert.equal(seen[0]!.url, '/no-slash');
  assert.throws(() => buildHttpGetRequest({ port: 'nope' }, c, '127.0.0.1', 'probe'), /port nope not found/);
});

test('only the first 10 KiB of the body are kept', async () => {
  const r = await probe({ path: '/big' });
  assert.equal(r.result, 'success');
  assert.equal((r as { output: string }).output.length, 10 * 1024);
});

test('a server that does not answer fails at the timeout, in the kubelet words', async () => {
  const started = Date.now();
  const r = await probe({ path: '/slow' }, 200);
  assert.ok(Date.now() - started < 1500);
  assert.deepEqual(r, {
    result: 'failure',
    output: `Get "http://127.0.0.1:${server.port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
});

test('connection refused is a failure', async () => {
  const port = await freePort();
  const r = await httpProbe(buildHttpGetRequest({ port, path: '/' }, container, '127.0.0.1', 'probe'), 1000);
  assert.deepEqual(r, { result: 'failure', output: `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused` });
});

test('HTTPS with a self-signed certificate: no certificate check', async (t) => {
  const tls = selfSignedCert();
  if (!tls) return t.skip('openssl is not available to make a certificate');
  const secure = await startHttpServer((req, res) => res.writeHead(req.url === '/bad' ? 500 : 200).end('secure'), tls);
  try {
    const req = (path: string) => buildHttpGetRequest({ port: secure.port, path, scheme: 'HTTPS' }, container, '127.0.0.1', 'probe');
    assert.deepEqual(await httpProbe(req('/ok'), 2000), { result: 'success', output: 'secure' });
    assert.deepEqual(await httpProbe(req('/bad'), 2000), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  } finally {
    await secure.close();
  }
});

test('an abort ends the request at once', async () => {
  const ac = new AbortController();
  const pending = httpProbe(buildHttpGetRequest({ port: server.port, path: '/slow' }, container, '127.0.0.1', 'probe'), 10_000, ac.signal);
  ac.abort();
  const r = await pending;
  assert.equal(r.result, 'failure');
  assert.match((r as { output: string }).output, /context canceled$/);
});

/** A TCP server that answers every connection with exactly `bytes` (then closes, unless `hold`). */
async function rawServer(bytes: string, hold = false): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => (hold ? s.write(bytes, 'latin1') : s.end(bytes, 'latin1')));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), srv.close(() => r()))),
  };
}

const raw = async (bytes: string, hold = false, timeoutMs = 1000) => {
  const srv = await rawServer(bytes, hold);
  try {
    return await httpProbe(buildHttpGetRequest({ port: srv.port, path: '/' }, container, '127.0.0.1', 'probe'), timeoutMs);
  } finally {
    await srv.close();
  }
};

test('response bodies: chunked, close-delimited, and after an interim 100 Continue', async () => {
  assert.deepEqual(await raw('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n', true), {
    result: 'success',
    output: 'hello, world',
  });
  assert.deepEqual(await raw('HTTP/1.0 200 OK\r\n\r\nuntil close'), { result: 'success', output: 'until close' });
  assert.deepEqual(await raw('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n'), {
    result: 'failure',
    output: 'HTTP probe failed with statuscode: 503',
  });
  assert.deepEqual(await raw('HTTP/1.1 204 No Content\r\n\r\n', true), { result: 'success', output: '' });
});

test('a body of known length is complete without waiting for the close', async () => {
  assert.deepEqual(await raw('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', true), { result: 'success', output: 'ok' });
});

test('broken responses fail with a reason', async () => {
  const url = (r: ProbeOutcome) => ('output' in r ? r.output : r.error);
  assert.match(url(await raw('SSH-2.0-OpenSSH\r\n\r\n')), /: malformed HTTP response "SSH-2\.0-OpenSSH"$/);
  assert.match(url(await raw('')), /: EOF$/);
  assert.match(url(await raw('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort')), /: unexpected EOF$/);
  assert.match(url(await raw('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', true, 200)), /Client\.Timeout or context cancellation while reading body\)$/);
});

test('a header value with a newline is refused before anything is sent', async () => {
  const r = await probe({ path: '/', httpHeaders: [{ name: 'X-Bad', value: 'a\r\nInjected: 1' }] });
  assert.deepEqual(r, { result: 'failure', output: `Get "http://127.0.0.1:${server.port}/": net/http: invalid header field "X-Bad"` });
});

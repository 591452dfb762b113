import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { decodeHealthRequest, decodeHealthResponse, encodeHealthRequest, encodeHealthResponse } from './grpc-health.js';
import { grpcProbe } from './grpc-probe.js';
import { freePort, startGrpcHealthServer, waitFor, type TestServer } from './testing.js';

const statuses = new Map<string, number>([
  ['', 1],
  ['db', 2],
]);
let server: TestServer & { calls: () => number };

before(async () => {
  server = await startGrpcHealthServer(statuses);
});
after(() => server.close());

test('health messages round-trip through the hand encoding', () => {
  assert.deepEqual(decodeHealthRequest(encodeHealthRequest({ service: 'dé' })), { service: 'dé' });
  assert.deepEqual(encodeHealthRequest({ service: '' }), Buffer.alloc(0));
  for (const status of [0, 1, 2, 3, 300]) assert.deepEqual(decodeHealthResponse(encodeHealthResponse({ status })), { status });
  // Unknown fields are skipped.
  assert.deepEqual(decodeHealthResponse(Buffer.from([0x12, 0x01, 0x41, 0x08, 0x01])), { status: 1 });
});

test('SERVING is success', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', server.port, '', 2000), { result: 'success', output: 'service healthy' });
});

test('the service name is sent; NOT_SERVING is a failure', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', server.port, 'db', 2000), {
    result: 'failure',
    output: 'service unhealthy (responded with "NOT_SERVING")',
  });
});

test('an rpc error is a failure with the gRPC status', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', server.port, 'nope', 2000), {
    result: 'failure',
    output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
  });
});

test('a server without the health service is reported as such', async () => {
  const bare = await startGrpcHealthServer(new Map(), false);
  try {
    const r = await grpcProbe('127.0.0.1', bare.port, '', 2000);
    assert.equal(r.result, 'failure');
    assert.match((r as { output: string }).output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
  } finally {
    await bare.close();
  }
});

test('nothing listening: failure once the timeout has passed', async () => {
  const port = await freePort();
  const started = Date.now();
  const r = await grpcProbe('127.0.0.1', port, '', 300);
  assert.ok(Date.now() - started < 2000);
  assert.deepEqual(r, {
    result: 'failure',
    output: `timeout: failed to connect service "127.0.0.1:${port}" within 300ms: context deadline exceeded`,
  });
});

test('each probe uses its own connection and closes it', async () => {
  // A TCP relay in front of the server counts the probe connections still open.
  const open = new Set<net.Socket>();
  let total = 0;
  const relay = net.createServer((client) => {
    total++;
    open.add(client);
    const upstream = net.connect(server.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const drop = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop).on('error', drop);
    upstream.on('close', drop).on('error', drop);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const port = (relay.address() as net.AddressInfo).port;
  try {
    const before = server.calls();
    const results = await Promise.all(Array.from({ length: 20 }, () => grpcProbe('127.0.0.1', port, '', 2000)));
    assert.ok(results.every((r) => r.result === 'success'));
    assert.equal(server.calls() - before, 20);
    assert.equal(total, 20, 'one connection per probe');
    await waitFor(() => open.size === 0, 'every probe connection to close');
  } finally {
    await new Promise((r) => relay.close(r));
  }
});

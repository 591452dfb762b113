import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, startTcpServer, waitFor } from './testing.js';
import { tcpProbe } from './tcp-probe.js';

test('a port that accepts connections is healthy, and the connection is closed at once', async () => {
  const server = await startTcpServer();
  try {
    assert.deepEqual(await tcpProbe('127.0.0.1', server.port, 1000), { result: 'success', output: '' });
    await waitFor(() => server.accepted() === 1, 'the server to see the probe');
  } finally {
    await server.close();
  }
});

test('a closed port fails with the dial error', async () => {
  const port = await freePort();
  assert.deepEqual(await tcpProbe('127.0.0.1', port, 1000), {
    result: 'failure',
    output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
});

test('a connect that does not complete fails at the timeout', async () => {
  // 192.0.2.0/24 is TEST-NET-1: never routed, so the SYN goes unanswered (or the network says unreachable).
  const started = Date.now();
  const r = await tcpProbe('192.0.2.1', 9, 200);
  assert.equal(r.result, 'failure');
  assert.match((r as { output: string }).output, /^dial tcp 192\.0\.2\.1:9: /);
  assert.ok(Date.now() - started < 1500);
});

test('an abort ends the attempt', async () => {
  const ac = new AbortController();
  const pending = tcpProbe('192.0.2.1', 9, 10_000, ac.signal);
  ac.abort();
  assert.equal((await pending).result, 'failure');
});

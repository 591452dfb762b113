import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { test } from 'node:test';
import { marker, Nodelet, pgrep, waitFor } from './harness.js';

/** A tiny manifest server whose answer the test changes at will. */
async function manifestServer(): Promise<{ server: Server; url: string; set: (status: number, body: string) => void; seen: IncomingHttpHeaders[] }> {
  let status = 200;
  let body = '';
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}/pods`, set: (s, b) => ((status = s), (body = b)), seen };
}

const podList = (marks: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'PodList',
    items: Object.entries(marks).map(([name, m]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', command: ['sleep', m] }] },
    })),
  });

test('--manifest-url runs a PodList, survives errors and an outage, and applies changes', async (t) => {
  const srv = await manifestServer();
  t.after(() => new Promise<void>((r) => srv.server.close(() => r())));
  const n = new Nodelet();
  t.after(() => n.stop());
  const [a, b, c] = [n.track(marker()), n.track(marker()), n.track(marker())];
  srv.set(200, podList({ ua: a, ub: b }));
  n.start([`--manifest-url=${srv.url}`, '--http-check-frequency=1s', '--manifest-url-header=X-Token:s3cret'], { manifestPath: null });
  await waitFor('both pods from the URL', () => pgrep(`sleep ${a}`).length === 1 && pgrep(`sleep ${b}`).length === 1);
  const pod = (await n.pod('ua'))!;
  assert.equal(pod.metadata!.annotations!['kubernetes.io/config.source'], 'http');
  assert.equal(srv.seen[0]!['x-token'], 's3cret');

  // Errors keep the pods, and are logged once per distinct error, not at every poll.
  srv.set(500, 'boom');
  const polls = srv.seen.length;
  await waitFor('three more polls', () => srv.seen.length >= polls + 3);
  srv.set(200, '{"apiVersion": "v1", "kind": "PodList", "items": [');
  await waitFor('two more polls', () => srv.seen.length >= polls + 6);
  assert.equal(n.output.split('HTTP 500').length - 1, 1, n.output);
  assert.equal(pgrep(`sleep ${a}`).length + pgrep(`sleep ${b}`).length, 2);

  // The server going away keeps the pods too.
  await new Promise<void>((r) => srv.server.close(() => r()));
  await n.waitForOutput(/fetch failed|ECONNREFUSED/);
  assert.equal(pgrep(`sleep ${a}`).length + pgrep(`sleep ${b}`).length, 2);
  srv.set(200, podList({ ua: a, uc: c }));
  await new Promise<void>((r) => srv.server.listen(Number(new URL(srv.url).port), '127.0.0.1', r));
  await waitFor('the added pod', () => pgrep(`sleep ${c}`).length === 1);
  await waitFor('the removed pod gone', () => pgrep(`sleep ${b}`).length === 0);
  assert.equal(pgrep(`sleep ${a}`).length, 1, 'an unchanged pod survives a list change');

  // An empty 200 body means no pods from the URL.
  srv.set(200, '');
  await waitFor('all URL pods gone', async () => (await n.pods()).length === 0);
});

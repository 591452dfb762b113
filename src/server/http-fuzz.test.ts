// Fuzzing the HTTP servers (issue 11): random request targets (routes cut up and recombined with
// encoded traversal pieces, unicode, very long segments), random query parameters, methods, headers
// and bodies, sent as raw bytes to the real servers in-process. Every answer must be a valid HTTP
// status below 500 without a stack trace, and never the contents of a marker file placed beside the
// log directory; afterwards the server still answers and holds no stream slot.
//
// Both ports: the read-only one, and the authenticated one over TLS (requests mostly with the right
// token, some with a wrong one or none), where /run and /runningpods/ are served too.
//
// Runs: NODELET_HTTP_FUZZ_RUNS per port (default 500, for CI); the full run is 10,000 (npm run test:fuzz:http).
// NODELET_HTTP_FUZZ_SEED replays a reported failure.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ExecResult } from '../runtime/types.js';
import { nodeWithLog, rawRequest, snapshot, startTestServers, TEST_TOKEN, waitFor } from './testing.js';

const numRuns = Number(process.env.NODELET_HTTP_FUZZ_RUNS ?? 500);
// Chosen here rather than by fast-check, so that it is printed even when a run goes wrong outside a property.
const seed = process.env.NODELET_HTTP_FUZZ_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.NODELET_HTTP_FUZZ_SEED);

// A V8 stack frame, or a source location of ours: neither may reach a client.
const STACK = /\n\s+at .+:\d+:\d+|node:internal|\.[jt]s:\d+:\d+/;

const ROUTE_PIECES = [
  'api', 'apis', 'v1', 'namespaces', 'default', 'kube-system', 'pods', 'a-n1', 'log', 'events', 'watch',
  'containerLogs', 'main', 'healthz', 'ping', 'syncloop', 'runtime', 'metrics', 'configz', 'stats',
  'summary', 'version', 'openapi', 'v3', 'exec', 'attach', 'portforward', 'runningpods', 'run', 'uid-a',
];
const HOSTILE_PIECES = [
  '..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e', '%2f', '%2F', '..%2f..%2f', '%5c', '%5C', '\\', '..\\..',
  '%00', 'main%00', '%252e%252e%252f', '%c0%ae%c0%ae', '%c0%af', '%e2%80%ae', '..;', '~root', 'etc', 'passwd',
  'marker.txt', '%', '%zz', '%E2%9C', '%ff', 'A-N1', 'Default', '%20', '%0d%0a', '*', '?', '#', ';', '@', ':',
];

// The routes as they are, which the fuzz then bends.
const ROUTES = [
  '/healthz', '/healthz/ping', '/healthz/syncloop', '/pods', '/configz', '/metrics', '/stats/summary',
  '/containerLogs/default/a-n1/main', '/api', '/api/v1', '/apis', '/version', '/openapi/v3', '/openapi/v3/api/v1',
  '/api/v1/pods', '/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/pods/a-n1',
  '/api/v1/namespaces/default/pods/a-n1/log', '/api/v1/namespaces/kube-system/pods/b-n1', '/api/v1/events',
  '/api/v1/namespaces/default/events', '/api/v1/watch/pods', '/api/v1/watch/namespaces/default/pods',
  '/runningpods/', '/run/default/a-n1/main', '/run/default/a-n1/uid-a/main',
].map((r) => r.split('/').filter(Boolean));

function pathArb(dirPieces: string[]): fc.Arbitrary<string> {
  const segment: fc.Arbitrary<string> = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...ROUTE_PIECES) },
    { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_PIECES, ...dirPieces) },
    // Any unicode, percent-encoded as a client would, or sent as raw UTF-8 bytes.
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }).map((s) => s.replace(/[\r\n ]/g, '')) },
    // Very long segments: most within the header limit, some past it (a 431).
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '%2e', '.', '-'), minLength: 100, maxLength: 6000 }) },
  );
  // A real route with a few segments replaced, inserted or dropped: most requests get past the
  // first checks and reach the routes.
  const bent = fc
    .tuple(fc.constantFrom(...ROUTES), fc.array(fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'drop'), segment), { maxLength: 2 }))
    .map(([route, edits]) => {
      const segs = [...route];
      for (const [at, op, s] of edits) {
        const i = segs.length === 0 ? 0 : at % (segs.length + (op === 'insert' ? 1 : 0));
        if (op === 'replace' && segs.length > 0) segs[i] = s;
        else if (op === 'insert') segs.splice(i, 0, s);
        else segs.splice(i, 1);
      }
      return segs;
    });
  const random = fc.array(segment, { maxLength: 8 });
  return fc
    .tuple(fc.oneof({ weight: 3, arbitrary: bent }, { weight: 1, arbitrary: random }), fc.constantFrom('/', '/', '/', '/', '//'), fc.boolean())
    .map(([segs, sep, trailing]) => `/${segs.join(sep)}${trailing ? '/' : ''}`);
}

const queryArb: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('watch', 'follow', 'container', 'previous', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes', 'timestamps'),
        fc.constantFrom('labelSelector', 'fieldSelector', 'resourceVersion', 'timeoutSeconds', 'includeObject'),
        fc.string({ maxLength: 8 }).map(encodeURIComponent),
      ),
      fc.oneof(
        fc.constantFrom('true', '1', '0', '-1', 'main', 'Main', '..', '..%2f..%2fmarker.txt', '%2e%2e', 'Infinity', 'NaN', '99999999999999999999'),
        fc.constantFrom('app%3Dweb', 'app+in+(', 'status.phase%3DRunning', 'spec.nodeName!%3D', 'Object', 'None', '2024-05-01T11:00:00Z'),
        fc.string({ unit: 'grapheme', maxLength: 16 }).map(encodeURIComponent),
      ),
    ),
    { maxLength: 4 },
  )
  .map((kv) => (kv.length === 0 ? '' : `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`));

// Headers that decide the framing of the request are sent deliberately below, never at random.
const FRAMING = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive']);
const headerArb: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !FRAMING.has(n.toLowerCase())),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((v) => v.replace(/[\r\n]/g, '')),
  ) },
  { weight: 5, arbitrary: fc.tuple(
    fc.constant('accept'),
    fc.constantFrom(
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      'application/json;as=Table;v=v1beta1;g=meta.k8s.io',
      'application/vnd.kubernetes.protobuf',
      '*/*',
      'text/html',
      ';;;,,,=',
    ),
  ) },
  { weight: 1, arbitrary: fc.tuple(fc.constant('x-big'), fc.integer({ min: 1, max: 24 }).map((k) => 'b'.repeat(k * 1024))) },
);

const methodArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant('GET') },
  { weight: 2, arbitrary: fc.constant('HEAD') },
  { weight: 6, arbitrary: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'FOO') },
);

// Mostly none; when there is one, mostly small, sometimes past the body limit (a 413).
const bodyArb: fc.Arbitrary<{ bytes: string; chunked: boolean } | undefined> = fc.oneof(
  { weight: 7, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.record({
      bytes: fc.oneof(
        { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }).map((name) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name } })) },
        { weight: 4, arbitrary: fc.string({ maxLength: 256 }) },
        { weight: 1, arbitrary: fc.integer({ min: 60, max: 80 }).map((k) => 'x'.repeat(k * 1024)) },
      ),
      chunked: fc.boolean(),
    }),
  },
);

function requestBytes(method: string, target: string, headers: Array<[string, string]>, body: { bytes: string; chunked: boolean } | undefined): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  let payload = '';
  if (body) {
    const len = Buffer.byteLength(body.bytes);
    if (body.chunked) {
      lines.push('Transfer-Encoding: chunked');
      payload = len > 0 ? `${len.toString(16)}\r\n${body.bytes}\r\n0\r\n\r\n` : '0\r\n\r\n';
    } else {
      lines.push(`Content-Length: ${len}`);
      payload = body.bytes;
    }
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${payload}`, 'utf8');
}

/** A runtime for /run and /runningpods/: every command succeeds and says what it ran. */
const fakeRuntime = {
  execSync: async (_id: string, cmd: string[]): Promise<ExecResult> => ({ exitCode: 0, stdout: `ran ${cmd.join(' ').slice(0, 64)}\n`, stderr: '', timedOut: false }),
  listPodSandboxes: async () => [],
  listContainers: async () => [],
};

const authArb = fc.constantFrom<Array<[string, string]>>(
  [['Authorization', `Bearer ${TEST_TOKEN}`]],
  [['Authorization', `Bearer ${TEST_TOKEN}`]],
  [['Authorization', `Bearer ${TEST_TOKEN}`]],
  [['Authorization', 'Bearer wrong']],
  [['Authorization', `Basic ${Buffer.from('alice:x').toString('base64')}`]],
  [],
);

for (const secure of [false, true]) {
  const port = secure ? 'the authenticated port (TLS, tokens)' : 'the read-only port';
  test(`random requests to ${port} never crash the server, never get a 5xx or a stack, never read outside the log directory`, { timeout: 3_600_000 }, async (t) => {
    const { view, marker, markerPath } = await nodeWithLog(t);
    view.snapshots.push(snapshot('b', { namespace: 'kube-system' }));
    const servers = await startTestServers(t, view, {}, secure ? { runtime: fakeRuntime } : undefined);
    const { streams } = servers;
    const port = secure ? servers.securePort! : servers.port;
    const send = (bytes: string | Buffer, opts: { streamQuietMs?: number } = {}) => rawRequest(port, bytes, { ...opts, tls: secure });
    const auth = secure ? `Authorization: Bearer ${TEST_TOKEN}\r\n` : '';

    // Pieces of the way from the log file to the marker, so that traversal attempts can aim.
    const dirPieces = [...path.relative('/', markerPath).split(path.sep), '..%2f'.repeat(8) + path.relative('/', markerPath).split(path.sep).join('%2f')];

    t.diagnostic(`seed ${seed} (NODELET_HTTP_FUZZ_SEED replays it), ${numRuns} runs`);
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(methodArb, pathArb(dirPieces), queryArb, fc.array(headerArb, { maxLength: 4 }), bodyArb, authArb, async (method, p, q, headers, body, credentials) => {
        const r = await send(requestBytes(method, `${p}${q}`, [...(secure ? credentials : []), ...headers], body), { streamQuietMs: 500 });
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        const what = `${method} ${p}${q}`.slice(0, 300);
        assert.ok(r.status >= 100 && r.status <= 599, `${what}: no valid HTTP status (${JSON.stringify(r.body.slice(0, 200))})`);
        assert.ok(r.status < 500, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
        assert.ok(!STACK.test(r.body), `${what}: a stack trace or source location in ${r.body.slice(0, 300)}`);
        assert.ok(!r.body.includes(marker), `${what}: the marker file's contents`);
      }),
      { numRuns, seed, includeErrorInReport: true, endOnFailure: true },
    );
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => a[0] - b[0])))}`);

    // Still serving, and every stream the fuzz opened was given back.
    const health = await send(`GET /healthz HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
    assert.equal(health.status, 200);
    await waitFor('every stream slot to be given back', () => streams.open === 0);
    const log = await send(`GET /containerLogs/default/a-n1/main HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
    assert.match(log.body, /hello from main/, 'the log is readable, so a leak of file contents would have been seen');
  });
}

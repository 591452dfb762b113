// The authenticated port in-process: the real servers (startServers) with a real TLS listener, the
// self-signed certificate made in a temp root dir, tokens from a real file, client certificates
// made with openssl, and a fake runtime behind /run and /runningpods/.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { NodeletConfig } from '../config/types.js';
import { createNodeletMetrics } from '../metrics/kubelet-metrics.js';
import type { ContainerInfo, ExecResult, SandboxInfo } from '../runtime/types.js';
import type { ContainerView } from '../status/types.js';
import { silentLogger } from '../util/log.js';
import type { HttpLimits } from './http-limits.js';
import type { RunLimits } from './run-in-container.js';
import { prepareSecurePort, type SecurePort } from './secure-port.js';
import { startServers } from './servers.js';
import { FakeView, freePort, rawRequest, snapshot, waitFor } from './testing.js';
import { httpsRequest, type HttpsResult, makeCA, makeClientCert, noOpenssl } from './tls/testing.js';

type T = { after: (fn: () => void | Promise<void>) => void };

const TOKEN = 's3cr3t-token';
const BEARER = { authorization: `Bearer ${TOKEN}` };

/** A runtime whose execSync answers what the test says, recording every call. */
class FakeRuntime {
  calls: { id: string; cmd: string[]; timeout: number }[] = [];
  answer: (cmd: string[]) => ExecResult | Promise<ExecResult> = (cmd) => ({ exitCode: 0, stdout: `ran ${cmd.join(' ')}\n`, stderr: '', timedOut: false });
  sandboxes: SandboxInfo[] = [];
  containers: ContainerInfo[] = [];
  execSync = async (id: string, cmd: string[], timeout: number): Promise<ExecResult> => {
    this.calls.push({ id, cmd, timeout });
    return this.answer(cmd);
  };
  listPodSandboxes = async () => this.sandboxes;
  listContainers = async () => this.containers;
}

const info = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: 'c1', sandboxId: 's1', name: 'main', attempt: 0, state: 'running', image: 'busybox', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '/dev/null', ...over,
});

interface Secure {
  port: number;
  readOnlyPort: number;
  dir: string;
  runtime: FakeRuntime;
  secure: SecurePort;
  /** An HTTPS request to the authenticated port. */
  call(urlPath: string, opts?: Parameters<typeof httpsRequest>[2]): Promise<HttpsResult>;
}

/** Starts the servers with the authenticated port on a free port, a token file holding TOKEN, and `config` over that. */
async function startSecure(
  t: T,
  opts: { config?: Partial<NodeletConfig>; limits?: Partial<HttpLimits>; runLimits?: Partial<RunLimits>; setup?: (dir: string) => Partial<NodeletConfig> } = {},
): Promise<Secure> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-secure-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${TOKEN},alice,1001,"admins"\n`);
  const main: ContainerView = { name: 'main', init: false, restartCount: 0, current: info({}) };
  const view = new FakeView();
  view.snapshots = [snapshot('a', { containers: [main] })];
  const runtime = new FakeRuntime();
  for (let attempt = 0; ; attempt++) {
    const [port, readOnlyPort] = [await freePort(), await freePort()];
    view.config = {
      ...view.config,
      rootDir: path.join(dir, 'root'),
      address: '127.0.0.1',
      readOnlyPort,
      port,
      tlsCertFile: '',
      tlsPrivateKeyFile: '',
      tlsMinVersion: 'VersionTLS12',
      clientCAFile: '',
      anonymousAuth: false,
      tokenAuthFile: tokenFile,
      ...opts.setup?.(dir),
      ...opts.config,
    };
    const secure = (await prepareSecurePort(view.config, new Date()))!;
    try {
      const servers = await startServers(view, silentLogger(), {
        metrics: createNodeletMetrics({ processMetrics: false }),
        runtime,
        secure,
        limits: opts.limits,
        runLimits: opts.runLimits,
      });
      t.after(() => servers.close());
      assert.equal(servers.secureAddress, `127.0.0.1:${port}`);
      return { port, readOnlyPort, dir, runtime, secure, call: (p, o) => httpsRequest(port, p, o) };
    } catch (err) {
      // Another process took a port between the probe and the listen: take others.
      if (attempt >= 5) throw err;
    }
  }
}

function status(r: HttpsResult): number | string {
  return 'error' in r ? r.error : r.status;
}

function body(r: HttpsResult): string {
  assert.ok(!('error' in r), JSON.stringify(r));
  return r.body;
}

describe('the authenticated port: authentication', () => {
  it('answers 401 with an Unauthorized Status to no credentials and to a wrong token, on every path, and serves a known token', async (t) => {
    const s = await startSecure(t);
    for (const p of ['/pods', '/healthz', '/api/v1/pods', '/run/default/a-n1/main', '/nothing']) {
      const r = await s.call(p);
      assert.equal(status(r), 401, p);
      assert.equal((r as { headers: Record<string, unknown> }).headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(body(r)), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
    assert.equal(status(await s.call('/pods', { headers: { authorization: 'Bearer wrong' } })), 401);
    assert.equal(status(await s.call('/pods', { headers: { authorization: `Basic ${Buffer.from('alice:x').toString('base64')}` } })), 401);
    // A refused request's body is never read: the connection closes instead.
    const withBody = await s.call('/run/default/a-n1/main', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'cmd=id' });
    assert.equal(status(withBody), 401);
    assert.equal((withBody as { headers: Record<string, unknown> }).headers.connection, 'close');
    assert.equal(s.runtime.calls.length, 0);

    const ok = await s.call('/pods', { headers: BEARER });
    assert.equal(status(ok), 200);
    assert.deepEqual(JSON.parse(body(ok)).items.map((p: { metadata: { name: string } }) => p.metadata.name), ['a-n1']);
    assert.equal(body(await s.call('/healthz', { headers: BEARER })), 'ok');
    assert.equal(JSON.parse(body(await s.call('/api/v1/namespaces/default/pods/a-n1', { headers: BEARER }))).metadata.name, 'a-n1');
  });

  it('serves the self-signed certificate it made, which a client pinning it accepts for 127.0.0.1', async (t) => {
    const s = await startSecure(t);
    assert.equal(s.secure.cert.origin, 'generated');
    const r = await httpsRequest(s.port, '/healthz', { headers: BEARER, ca: s.secure.cert.cert });
    assert.equal(body(r), 'ok');
  });

  it('authenticates a client certificate signed by the client CA; one of another CA, or not for client auth, is a 401', async (t) => {
    const skip = noOpenssl();
    if (skip) return t.skip(skip);
    let ca!: ReturnType<typeof makeCA>;
    const s = await startSecure(t, {
      setup: (dir) => {
        ca = makeCA(dir, 'client-ca');
        return { clientCAFile: ca.certFile };
      },
    });
    const good = makeClientCert(s.dir, ca, 'bob', ['ops']);
    const other = makeClientCert(s.dir, makeCA(s.dir, 'other-ca'), 'mallory');
    const serverOnly = makeClientCert(s.dir, ca, 'eve', [], 'serverAuth');
    assert.equal(status(await s.call('/pods', good)), 200);
    assert.equal(status(await s.call('/pods', other)), 401);
    assert.equal(status(await s.call('/pods', serverOnly)), 401);
    // Credentials are tried in turn: a good token goes through beside an untrusted certificate.
    assert.equal(status(await s.call('/pods', { ...other, headers: BEARER })), 200);
    // Without a certificate or a token: the CA alone lets no one in.
    assert.equal(status(await s.call('/pods')), 401);
  });

  it('with anonymous auth serves requests without credentials, still refusing a wrong token', async (t) => {
    const s = await startSecure(t, { config: { anonymousAuth: true, tokenAuthFile: '' } });
    assert.equal(status(await s.call('/pods')), 200);
    const withTokens = await startSecure(t, { config: { anonymousAuth: true } });
    assert.equal(status(await withTokens.call('/pods')), 200);
    assert.equal(status(await withTokens.call('/pods', { headers: { authorization: 'Bearer wrong' } })), 401);
  });
});

describe('the authenticated port: /run', () => {
  it('runs cmd (query or form, split on spaces) in the container through execSync and answers its output', async (t) => {
    const s = await startSecure(t);
    const r = await s.call('/run/default/a-n1/main?cmd=printenv%20FOO', { method: 'POST', headers: BEARER });
    assert.equal(status(r), 200);
    assert.equal(body(r), 'ran printenv FOO\n');
    assert.deepEqual(s.runtime.calls, [{ id: 'c1', cmd: ['printenv', 'FOO'], timeout: 60 }]);
    const form = await s.call('/run/default/a-n1/uid-a/main?cmd=ignored', {
      method: 'POST',
      headers: { ...BEARER, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'cmd=cat+%2Fetc%2Fhostname&timeout=5s',
    });
    assert.equal(body(form), 'ran cat /etc/hostname\n');
    assert.deepEqual(s.runtime.calls[1], { id: 'c1', cmd: ['cat', '/etc/hostname'], timeout: 5 });
  });

  it('refuses what it cannot run, in the kubelet’s words where it has some', async (t) => {
    const s = await startSecure(t, { runLimits: { maxTimeoutSeconds: 600 } });
    const post = (p: string) => s.call(p, { method: 'POST', headers: BEARER });
    const cases: [string, number, RegExp][] = [
      ['/run/default/nope-n1/main?cmd=id', 404, /^pod does not exist$/],
      ['/run/default/a-n1/other-uid/main?cmd=id', 404, /^pod does not exist$/],
      ['/run/default/a-n1/side?cmd=id', 404, /^container not found \("side"\)$/],
      ['/run/default/a-n1/main', 400, /^cmd is required/],
      ['/run/default/a-n1/main?cmd=id&timeout=11m', 400, /between 1s and 600s/],
      ['/run/default/a-n1/main?cmd=id&timeout=soon', 400, /invalid timeout/],
      ['/run/Default/a-n1/main?cmd=id', 400, /invalid namespace name/],
      ['/run/default/a-n1?cmd=id', 404, /404 page not found/],
    ];
    for (const [p, code, re] of cases) {
      const r = await post(p);
      assert.equal(status(r), code, p);
      assert.match(body(r).trim(), re, p);
    }
    const get = await s.call('/run/default/a-n1/main?cmd=id', { headers: BEARER });
    assert.equal(status(get), 405);
    assert.equal(s.runtime.calls.length, 0);
  });

  it('answers a failed command with a 500 and its output, a timed-out one with a 500 saying so, and cuts huge output', async (t) => {
    const s = await startSecure(t);
    const post = (cmd: string) => s.call(`/run/default/a-n1/main?cmd=${encodeURIComponent(cmd)}&timeout=2`, { method: 'POST', headers: BEARER });
    s.runtime.answer = () => ({ exitCode: 2, stdout: 'partial\n', stderr: 'ls: /nope: No such file or directory\n', timedOut: false });
    let r = await post('ls /nope');
    assert.equal(status(r), 500);
    assert.equal(body(r), "command 'ls /nope' exited with 2: partial\nls: /nope: No such file or directory\n");
    s.runtime.answer = () => ({ exitCode: 137, stdout: 'tick\n', stderr: '', timedOut: true });
    r = await post('sleep 30');
    assert.equal(status(r), 500);
    assert.equal(body(r), 'command "sleep 30" timed out after 2s and was killed\ntick\n');
    s.runtime.answer = () => ({ exitCode: 0, stdout: 'é'.repeat(700 * 1024), stderr: 'x'.repeat(1024), timedOut: false });
    r = await post('yes');
    assert.equal(status(r), 200);
    const text = body(r);
    assert.match(text, /\n\[nodelet: output truncated: the first 1048576 of 1434624 bytes are shown\]\n$/);
    assert.ok(Buffer.byteLength(text) < 1024 * 1024 + 200);
    assert.ok(!text.includes('\uFFFD'), 'no character cut in half');
  });

  it('runs at most maxConcurrent commands at once, a 429 beyond, and a slot is free again once its command ends', async (t) => {
    const s = await startSecure(t, { runLimits: { maxConcurrent: 2 } });
    const release: (() => void)[] = [];
    s.runtime.answer = (cmd) => new Promise((resolve) => release.push(() => resolve({ exitCode: 0, stdout: `${cmd[1]}\n`, stderr: '', timedOut: false })));
    const post = (n: number) => s.call(`/run/default/a-n1/main?cmd=echo%20${n}`, { method: 'POST', headers: BEARER });
    const first = [post(1), post(2)];
    await waitFor('two commands running', () => s.runtime.calls.length === 2);
    const third = await post(3);
    assert.equal(status(third), 429);
    assert.equal((third as { headers: Record<string, unknown> }).headers['retry-after'], '1');
    release.splice(0).forEach((r) => r());
    assert.deepEqual((await Promise.all(first)).map(body), ['1\n', '2\n']);
    s.runtime.answer = (cmd) => ({ exitCode: 0, stdout: `${cmd[1]}\n`, stderr: '', timedOut: false });
    assert.equal(body(await post(4)), '4\n');
  });

  it('keeps a command’s connection past the idle timeout while the command runs', async (t) => {
    const idleTimeoutMs = 200;
    const s = await startSecure(t, { limits: { idleTimeoutMs } });
    s.runtime.answer = async () => {
      const since = Date.now();
      await waitFor('the connection to have been quiet for longer than the idle timeout', () => Date.now() - since > 3 * idleTimeoutMs);
      return { exitCode: 0, stdout: 'done\n', stderr: '', timedOut: false };
    };
    assert.equal(body(await s.call('/run/default/a-n1/main?cmd=slow', { method: 'POST', headers: BEARER })), 'done\n');
  });

  it('is not served on the read-only port, nor is /runningpods/', async (t) => {
    const s = await startSecure(t);
    const run = await rawRequest(s.readOnlyPort, 'POST /run/default/a-n1/main?cmd=id HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    assert.equal(run.status, 405);
    const pods = await rawRequest(s.readOnlyPort, 'GET /runningpods/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    assert.equal(pods.status, 404);
    assert.equal(s.runtime.calls.length, 0);
  });
});

describe('the authenticated port: /runningpods/', () => {
  it('lists the pods the runtime runs, with only names, UIDs and their running containers’ names and images', async (t) => {
    const s = await startSecure(t);
    const sandbox = (id: string, name: string, ready: boolean): SandboxInfo => ({ id, uid: `uid-${name}`, name, namespace: 'default', attempt: 0, ready, createdAt: 1, logDirectory: '/x', annotations: {} });
    s.runtime.sandboxes = [sandbox('s1', 'web-n1', true), sandbox('s2', 'gone-n1', false), sandbox('s3', 'idle-n1', true)];
    s.runtime.containers = [
      info({ id: 'c1', sandboxId: 's1', name: 'main', image: 'nginx' }),
      info({ id: 'c2', sandboxId: 's1', name: 'side', image: 'busybox', state: 'exited' }),
      info({ id: 'c3', sandboxId: 's2', name: 'old', image: 'busybox', state: 'exited' }),
    ];
    const r = await s.call('/runningpods/', { headers: BEARER });
    assert.equal(status(r), 200);
    assert.deepEqual(JSON.parse(body(r)), {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: {},
      items: [
        { metadata: { name: 'idle-n1', namespace: 'default', uid: 'uid-idle-n1', creationTimestamp: null }, spec: { containers: [] }, status: {} },
        {
          metadata: { name: 'web-n1', namespace: 'default', uid: 'uid-web-n1', creationTimestamp: null },
          spec: { containers: [{ name: 'main', image: 'nginx', resources: {} }] },
          status: {},
        },
      ],
    });
  });
});

describe('the authenticated port: the HTTP limits', () => {
  it('drops a connection whose TLS handshake does not come within the handshake timeout', async (t) => {
    const s = await startSecure(t, { limits: { handshakeTimeoutMs: 300 } });
    const sock = connect(s.port, '127.0.0.1');
    sock.on('error', () => undefined);
    let closed = false;
    sock.on('close', () => (closed = true));
    await waitFor('the silent connection closed by the server', () => closed, 30_000);
  });

  it('refuses oversized headers (431) and, once authenticated, an oversized body (413), as the other servers do', async (t) => {
    const s = await startSecure(t);
    assert.equal(status(await s.call('/pods', { headers: { ...BEARER, 'x-big': 'a'.repeat(20 * 1024) } })), 431);
    const big = await s.call('/run/default/a-n1/main', {
      method: 'POST',
      headers: { ...BEARER, 'content-type': 'application/x-www-form-urlencoded' },
      body: `cmd=${'a'.repeat(70 * 1024)}`,
    });
    assert.equal(status(big), 413);
    assert.equal(s.runtime.calls.length, 0);
  });

  it('keeps its healthz reserve for loopback beyond the connection cap, over TLS too', async (t) => {
    const s = await startSecure(t, { limits: { maxConnections: 2, healthzReserve: 1, handshakeTimeoutMs: 300_000, idleTimeoutMs: 300_000 } });
    const idle = [connect(s.port, '127.0.0.1'), connect(s.port, '127.0.0.1')];
    t.after(() => idle.forEach((c) => c.destroy()));
    for (const c of idle) c.on('error', () => undefined);
    // Once both idle connections are counted, a third one comes from the reserve: /healthz only.
    await waitFor('a connection from the reserve', async () => status(await s.call('/pods', { headers: BEARER })) === 503);
    const health = await s.call('/healthz', { headers: BEARER });
    assert.equal(body(health), 'ok');
    assert.equal((health as { headers: Record<string, unknown> }).headers.connection, 'close');
    // The reserve is authenticated like the rest.
    assert.equal(status(await s.call('/healthz')), 401);
  });
});

// Test seam for server/: a NodeView over hand-made pods, a snapshot builder, and the real servers
// started in-process with a raw HTTP client to talk to them.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { Pod, PodStatus } from '../api/types.js';
import type { NodeletConfig } from '../config/types.js';
import type { PodEvent } from '../events/recorder.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import { createNodeletMetrics } from '../metrics/kubelet-metrics.js';
import type { ContainerView } from '../status/types.js';
import { silentLogger } from '../util/log.js';
import { freePort } from '../prober/testing.js';
import type { CommandRunner } from './run-in-container.js';
import type { RunningPodsSource } from './running-pods.js';
import { prepareSecurePort } from './secure-port.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-limits.js';
import { createKubeApi } from './kubeapi/routes.js';
import type { NodeView } from './node-view.js';
import { type Servers, startServers } from './servers.js';
import { createStreamLimiter, type StreamLimiter } from './stream-limiter.js';

/** A NodeView whose pods, events and time the test sets directly. */
export class FakeView implements NodeView {
  snapshots: WorkerSnapshot[] = [];
  podEvents: PodEvent[] = [];
  time = Date.parse('2024-05-01T12:00:00Z');
  config = { nodeName: 'n1', staticPodPath: '/etc/kubernetes/manifests', address: '127.0.0.1', syncFrequencyMs: 60_000 } as NodeletConfig;
  kubeletConfiguration = () => ({});
  pods = () => this.snapshots;
  events = (uid?: string) => this.podEvents.filter((e) => uid === undefined || e.involvedObject.uid === uid);
  lastResyncAt = () => this.time;
  now = () => this.time;
}

/** A running single-container pod's snapshot, named `<name>-n1` in `namespace`. */
export function snapshot(
  name: string,
  opts: { namespace?: string; labels?: Record<string, string>; phase?: PodStatus['phase']; state?: WorkerSnapshot['state']; uid?: string; containers?: ContainerView[] } = {},
): WorkerSnapshot {
  const pod: Pod = {
    metadata: {
      name: `${name}-n1`,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-${name}`,
      labels: opts.labels,
      annotations: {
        'kubernetes.io/config.seen': '2024-05-01T11:00:00.123456789Z',
        'kubernetes.io/config.source': 'file',
        'nodelet.io/config.file': `/etc/kubernetes/manifests/${name}.yaml`,
      },
    },
    spec: { nodeName: 'n1', containers: [{ name: 'main', command: ['sleep', '1'] }] },
  };
  const phase = opts.phase ?? 'Running';
  const status: PodStatus = {
    phase,
    startTime: '2024-05-01T11:00:00Z',
    podIPs: [{ ip: '10.0.0.1' }],
    containerStatuses: [
      {
        name: 'main',
        ready: phase === 'Running',
        restartCount: 0,
        image: '',
        imageID: '',
        state: phase === 'Running' ? { running: { startedAt: '2024-05-01T11:00:00Z' } } : { terminated: { exitCode: 0, reason: 'Completed' } },
      },
    ],
  };
  return { pod, status, state: opts.state ?? 'syncing', containers: opts.containers ?? [] };
}

/** The same snapshot with another status phase (a new status object, as a worker would give). */
export function withPhase(s: WorkerSnapshot, phase: PodStatus['phase']): WorkerSnapshot {
  return { ...s, status: { ...s.status, phase } };
}

/** A served node for HTTP tests: the real servers of {@link startServers} on a temp root dir and a free port. */
export interface TestServers {
  /** `127.0.0.1` port of the read-only server. */
  port: number;
  /** `127.0.0.1` port of the authenticated (TLS) server, when asked for; it accepts {@link TEST_TOKEN}. */
  securePort?: number;
  /** The agent socket. */
  socketPath: string;
  /** The temp directory holding the root dir (removed after the test). */
  dir: string;
  /** The slots for watches and followed logs the servers share. */
  streams: StreamLimiter;
  servers: Servers;
}

/**
 * Starts the real servers over `view` (its config gets a temp `rootDir` and a free `readOnlyPort`),
 * closed and removed after the test `t`.
 */
export async function startTestServers(
  t: { after: (fn: () => void | Promise<void>) => void },
  view: FakeView,
  limits: Partial<HttpLimits> = {},
  secure?: { runtime: CommandRunner & RunningPodsSource },
): Promise<TestServers> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nodelet-http-'));
  let started: Servers | undefined;
  t.after(async () => {
    await started?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const streams = createStreamLimiter(limits.maxStreams ?? DEFAULT_HTTP_LIMITS.maxStreams);
  const kubeApi = createKubeApi(view, { watchPollMs: 20, streams });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const securePort = secure ? await freePort() : 0;
    const tokenFile = path.join(dir, 'tokens.csv');
    if (secure) await writeFile(tokenFile, `${TEST_TOKEN},alice,1001,"admins"\n`);
    view.config = {
      ...view.config,
      rootDir: path.join(dir, 'root'),
      address: '127.0.0.1',
      readOnlyPort: port,
      ...(secure ? { port: securePort, tlsCertFile: '', tlsPrivateKeyFile: '', tlsMinVersion: 'VersionTLS12', clientCAFile: '', anonymousAuth: false, tokenAuthFile: tokenFile } : {}),
    };
    try {
      const securePrepared = secure ? await prepareSecurePort(view.config, new Date()) : undefined;
      started = await startServers(view, silentLogger(), {
        metrics: createNodeletMetrics({ processMetrics: false }),
        kubeApi,
        limits,
        streams,
        ...(secure ? { runtime: secure.runtime, secure: securePrepared } : {}),
      });
      return { port, ...(secure ? { securePort } : {}), socketPath: started.socketPath, dir, streams, servers: started };
    } catch (err) {
      // Another process took the port between the probe and the listen: take another one.
      if (attempt >= 5) throw err;
    }
  }
}

/** The bearer token the authenticated server of {@link startTestServers} accepts. */
export const TEST_TOKEN = 'test-token-0123456789';

/** A TCP port free on 127.0.0.1 a moment ago (the prober tests' helper). */
export { freePort };

/** What {@link rawRequest} saw. */
export interface RawResponse {
  /** The status code, or 0 when the server closed without answering. */
  status: number;
  headers: Record<string, string>;
  /** The body as received (chunk framing included), possibly cut short on a streaming response. */
  body: string;
}

/**
 * Sends `request` (bytes, sent as is) on a new TCP connection and reads the answer until the server
 * closes. A streaming (chunked) answer is read until its first body bytes, or until it has been quiet
 * for `streamQuietMs` after its headers: enough to see what it starts with.
 */
export function rawRequest(port: number, request: string | Buffer, opts: { streamQuietMs?: number; deadlineMs?: number; tls?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // The authenticated port's certificate is the self-signed one of the test: not verified here.
    const sock = opts.tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => finish(new Error(`no complete answer within ${opts.deadlineMs ?? 30_000} ms`)), opts.deadlineMs ?? 30_000);
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (quiet) clearTimeout(quiet);
      sock.destroy();
      if (err) return reject(err);
      resolve(parseRaw(Buffer.concat(chunks)));
    };
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = all.subarray(0, end).toString('latin1');
      if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return;
      if (all.length > end + 4) return finish();
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(() => finish(), opts.streamQuietMs ?? 1_000);
    });
    // The server may reset a connection it refused (too large, too many): what came before counts.
    sock.on('error', () => finish());
    sock.on('close', () => finish());
    sock.write(request);
  });
}

function parseRaw(b: Buffer): RawResponse {
  let text = b.toString('utf8');
  // Skip interim answers (100 Continue).
  while (/^HTTP\/1\.1 1\d\d /.test(text) && text.includes('\r\n\r\n')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
  if (!m) return { status: 0, headers: {}, body: text };
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text.slice(m[0].length, end < 0 ? undefined : end).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers, body: end < 0 ? '' : text.slice(end + 4) };
}

/** Polls `check` every 20 ms until it holds; throws with `what` after `timeoutMs` (generous: machines are busy). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A view with pod `a-n1` whose container `main` runs and has a log, and a marker file outside the log directory. */
export async function nodeWithLog(t: { after: (fn: () => void | Promise<void>) => void }): Promise<{ view: FakeView; logPath: string; marker: string; markerPath: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nodelet-http-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const logDir = path.join(dir, 'pods', 'default_a-n1_uid-a', 'main');
  await mkdir(logDir, { recursive: true });
  const logPath = path.join(logDir, '0.log');
  await writeFile(logPath, '2024-05-01T11:00:00.000000000Z stdout F hello from main\n');
  const marker = `MARKER-${Math.random().toString(16).slice(2)}-outside-the-log-dir`;
  const markerPath = path.join(dir, 'marker.txt');
  await writeFile(markerPath, `${marker}\n`);
  const main: ContainerView = {
    name: 'main',
    init: false,
    restartCount: 0,
    current: { id: 'c1', sandboxId: 's1', name: 'main', attempt: 0, state: 'running', image: 'x', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath },
  };
  const view = new FakeView();
  view.snapshots = [snapshot('a', { containers: [main] })];
  return { view, logPath, marker, markerPath };
}

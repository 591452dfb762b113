/**
 * Test helpers of the prober: a clock that counts its pending timers, condition waits, and real
 * servers (HTTP, HTTPS with a throw-away self-signed certificate, TCP, gRPC health) on free ports of
 * 127.0.0.1. Every server is closed by its `close()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { handleUnaryCall } from '@grpc/grpc-js';
import { createProcessRuntime } from '../runtime/process/process-runtime.js';
import type { EnvPair, Runtime } from '../runtime/types.js';
import { FakeClock, realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { decodeHealthRequest, encodeHealthResponse, HEALTH_CHECK_PATH } from './grpc-health.js';

/** A FakeClock that knows how many of its timers are still pending. */
export class CountingClock implements Clock {
  readonly fake: FakeClock;
  /** Timers set and neither fired nor cancelled. */
  pending = 0;
  /** Timers ever set. */
  created = 0;

  constructor(start?: number) {
    this.fake = new FakeClock(start);
  }

  now(): number {
    return this.fake.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.pending++;
    this.created++;
    let live = true;
    const end = () => {
      if (live) {
        live = false;
        this.pending--;
      }
    };
    const h = this.fake.setTimeout(() => {
      end();
      fn();
    }, ms);
    return {
      cancel: () => {
        end();
        h.cancel();
      },
    };
  }

  /** Moves time forward, firing due timers (FakeClock.advance). */
  advance(ms: number): void {
    this.fake.advance(ms);
  }
}

/** Lets promise chains that do no real I/O run to the end. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A listening server on 127.0.0.1 and how to stop it. */
export interface TestServer {
  port: number;
  close(): Promise<void>;
}

/** An HTTP (or, with `tls`, HTTPS) server on a free port. */
export async function startHttpServer(handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<TestServer> {
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  return listen(server, () => server.closeAllConnections());
}

/** A TCP server on a free port that accepts and holds connections. */
export async function startTcpServer(): Promise<TestServer & { accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  const base = await listen(server, () => sockets.forEach((s) => s.destroy()));
  return { ...base, accepted: () => accepted };
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const s = await listen(net.createServer(), () => undefined);
  await s.close();
  return s.port;
}

function listen(server: net.Server, drop: () => void): Promise<TestServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            drop();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * A gRPC server implementing grpc.health.v1.Health/Check from a map of service → status
 * (1 SERVING, 2 NOT_SERVING); an unknown service answers NOT_FOUND, as the reference server. With
 * `implementHealth: false` it serves nothing (UNIMPLEMENTED).
 */
export async function startGrpcHealthServer(statuses: Map<string, number>, implementHealth = true): Promise<TestServer & { calls: () => number }> {
  const grpc = await import('@grpc/grpc-js');
  const server = new grpc.Server();
  let calls = 0;
  if (implementHealth) {
    server.addService(
      {
        Check: {
          path: HEALTH_CHECK_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: () => Buffer.alloc(0),
          requestDeserialize: decodeHealthRequest,
          responseSerialize: encodeHealthResponse,
          responseDeserialize: () => ({ status: 0 }),
        },
      },
      {
        Check: ((call, cb) => {
          calls++;
          const status = statuses.get(call.request.service);
          if (status === undefined) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
          else cb(null, { status });
        }) satisfies handleUnaryCall<{ service: string }, { status: number }>,
      },
    );
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    calls: () => calls,
    close: () => new Promise<void>((done) => server.tryShutdown(() => done())).then(() => server.forceShutdown()),
  };
}

/** A throw-away self-signed certificate for 127.0.0.1 made with the openssl command, or undefined if it is missing. */
export function selfSignedCert(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nodelet-prober-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A real process-runtime container (`sleep 60`) with env and a working directory, for exec probes and hooks. */
export async function startProcessContainer(env: EnvPair[] = []): Promise<{ runtime: Runtime; containerId: string; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nodelet-prober-ctr-'));
  const runtime = createProcessRuntime({ clock: realClock, logger: silentLogger(), baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  const sandboxId = await runtime.runPodSandbox({
    uid: 'u1', name: 'web', namespace: 'default', attempt: 0, logDirectory: path.join(dir, 'logs'), hostname: 'web', hostNetwork: true, labels: {}, annotations: {},
  });
  const containerId = await runtime.createContainer(sandboxId, {
    name: 'main', attempt: 0, image: '', command: ['sleep', '60'], args: [], env, workingDir: dir, logPath: 'main/0.log', labels: {}, annotations: {},
  });
  await runtime.startContainer(containerId);
  return {
    runtime,
    containerId,
    dir,
    close: async () => {
      await runtime.removePodSandbox(sandboxId);
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

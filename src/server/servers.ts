import { mkdir, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { isIP } from 'node:net';
import path from 'node:path';
import type { NodeletConfig } from '../config/types.js';
import { NodeletError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { createHandler, type HandlerOptions } from './handler.js';
import { httpLimits } from './http-limits.js';
import { createLimitedServer, type LimitedServer } from './http-server.js';
import type { NodeView } from './node-view.js';
import { authenticating, logSecurePort, type SecurePort } from './secure-port.js';
import { isLoopbackIP } from '../util/loopback.js';

/** The agent's local socket, under --root-dir: what `nodelet ps` and `nodelet logs` talk to. */
export function agentSocketPath(rootDir: string): string {
  return path.join(rootDir, 'nodelet.sock');
}

/** The listening servers of a node. */
export interface Servers {
  socketPath: string;
  /** `host:port` of the read-only port, or '' when disabled. */
  readOnlyAddress: string;
  /** `host:port` of the authenticated port (`[::1]:10250` for IPv6), or '' when it is not served. */
  secureAddress: string;
  close(): Promise<void>;
}

/** What {@link startServers} serves besides the handler's parts. */
export interface ServerOptions extends HandlerOptions {
  /** The authenticated port (secure-port.ts prepareSecurePort); not served when undefined. */
  secure?: SecurePort;
}

/**
 * Starts the agent socket and, unless disabled, the read-only port and the authenticated port, all
 * serving one handler (`opts` hands it the node's metrics and runtime) with the same limits
 * (http-limits.ts, each server its own connection count, all together one count of streams); the
 * authenticated port authenticates every request first and adds the routes only it serves. Refuses
 * to start when another nodelet already answers on the socket: two agents on one root dir would run
 * every pod twice.
 */
export async function startServers(view: NodeView, logger: Logger, opts: ServerOptions = {}): Promise<Servers> {
  const limits = httpLimits(opts.limits);
  const handler = createHandler(view, logger, opts);
  const socketPath = agentSocketPath(view.config.rootDir);
  await mkdir(view.config.rootDir, { recursive: true, mode: 0o700 });
  if (await answers(socketPath)) {
    throw new NodeletError('AlreadyRunning', `another nodelet is running with --root-dir=${view.config.rootDir} (it answers on ${socketPath})`);
  }
  await unlink(socketPath).catch(() => undefined);
  const sock = createLimitedServer(handler, limits);
  await listen(sock, () => sock.listen(socketPath)).catch((err) => {
    handler.close();
    throw err;
  });
  const servers: LimitedServer[] = [sock];
  // A port that cannot be had stops start-up, as in the kubelet; what was already listening closes.
  const giveUp = (err: unknown, flags: string, off: string): never => {
    for (const s of servers) s.close();
    handler.close();
    throw new NodeletError('InvalidConfig', `cannot listen on ${flags}: ${(err as Error).message} (use ${off} to disable it)`);
  };
  let readOnlyAddress = '';
  if (view.config.readOnlyPort > 0) {
    const ro = createLimitedServer(handler, limits);
    await listen(ro, () => ro.listen(view.config.readOnlyPort, view.config.address)).catch((err) =>
      giveUp(err, `--address=${view.config.address} --read-only-port=${view.config.readOnlyPort}`, '--read-only-port=0'),
    );
    servers.push(ro);
    readOnlyAddress = `${view.config.address}:${view.config.readOnlyPort}`;
  }
  let secureAddress = '';
  const secure = opts.secure;
  if (secure) {
    const https = createLimitedServer(authenticating(handler, secure.authenticate, logger), limits, secure.tls);
    await listen(https, () => https.listen(secure.port, secure.address)).catch((err) =>
      giveUp(err, `--address=${secure.address} --port=${secure.port}`, '--port=0'),
    );
    servers.push(https);
    secureAddress = hostPort(secure.address, secure.port);
  }
  return {
    socketPath,
    readOnlyAddress,
    secureAddress,
    async close() {
      handler.close();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

/**
 * Logs what the servers serve: the read-only API (a warning when its port is reachable from other
 * hosts, since it has no authentication) and the authenticated port with who may use it.
 */
export function logServers(logger: Logger, config: Readonly<NodeletConfig>, servers: Servers, secure: SecurePort | undefined): void {
  logger.info({ readOnly: servers.readOnlyAddress || 'disabled', socket: servers.socketPath }, 'Serving the read-only API');
  if (servers.readOnlyAddress && !isLoopbackIP(config.address)) {
    logger.warn(
      { address: servers.readOnlyAddress },
      'The read-only port is served without authentication on an address other hosts may reach: pods, logs and configuration are readable by anyone there',
    );
  }
  if (secure && servers.secureAddress) logSecurePort(logger, secure, servers.secureAddress);
}

function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function listen(server: LimitedServer, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

import { mkdir, unlink } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import path from 'node:path';
import { NodeletError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { createHandler, type HandlerOptions } from './handler.js';
import { httpLimits } from './http-limits.js';
import { createLimitedServer } from './http-server.js';
import type { NodeView } from './node-view.js';

/** The agent's local socket, under --root-dir: what `nodelet ps` and `nodelet logs` talk to. */
export function agentSocketPath(rootDir: string): string {
  return path.join(rootDir, 'nodelet.sock');
}

/** The listening servers of a node. */
export interface Servers {
  socketPath: string;
  /** `host:port` of the read-only port, or '' when disabled. */
  readOnlyAddress: string;
  close(): Promise<void>;
}

/**
 * Starts the agent socket and, unless disabled, the read-only port, both serving the same handler
 * (`opts` hands it the node's metrics) with the same limits (http-limits.ts, each server its own
 * connection count, both together one count of streams). Refuses to start when another nodelet
 * already answers on the socket: two agents on one root dir would run every pod twice.
 */
export async function startServers(view: NodeView, logger: Logger, opts: HandlerOptions = {}): Promise<Servers> {
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
  const servers: Server[] = [sock];
  let readOnlyAddress = '';
  if (view.config.readOnlyPort > 0) {
    const ro = createLimitedServer(handler, limits);
    try {
      await listen(ro, () => ro.listen(view.config.readOnlyPort, view.config.address));
    } catch (err) {
      sock.close();
      handler.close();
      throw new NodeletError(
        'InvalidConfig',
        `cannot listen on --address=${view.config.address} --read-only-port=${view.config.readOnlyPort}: ${(err as Error).message} (use --read-only-port=0 to disable it)`,
      );
    }
    servers.push(ro);
    readOnlyAddress = `${view.config.address}:${view.config.readOnlyPort}`;
  }
  return {
    socketPath,
    readOnlyAddress,
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

function listen(server: Server, start: () => void): Promise<void> {
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

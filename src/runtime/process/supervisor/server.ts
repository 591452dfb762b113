import { connect, createServer, type Server, type Socket } from 'node:net';
import { unlink } from 'node:fs/promises';
import { errorMessage, NodeletError } from '../../../errors.js';
import type { Logger } from '../../../util/log.js';
import type { ProcessRuntime } from '../process-runtime.js';
import { encode, jsonLines, PROTOCOL_VERSION, RUNTIME_METHODS, type Hello, type LogSettings, type Notice, type Request } from './protocol.js';

/** What the supervisor's main hands the server besides the runtime. */
export interface SupervisorHooks {
  startedAt: number;
  recovery: string[];
  configure(settings: LogSettings): void;
  /** Called when a client asked the supervisor to exit because nothing is left to supervise. */
  exit(): void;
}

/** A listening supervisor socket. */
export interface RuntimeServer {
  /** Sends a notice to every connected client. */
  broadcast(n: Notice): void;
  close(): void;
}

/**
 * Serves a ProcessRuntime on a unix socket. Resolves once listening; rejects with code
 * `SupervisorRunning` when another live supervisor already serves this socket.
 */
export async function serveRuntime(runtime: ProcessRuntime, socketPath: string, logger: Logger, hooks: SupervisorHooks): Promise<RuntimeServer> {
  const clients = new Set<Socket>();
  const broadcast = (n: Notice) => {
    const line = encode(n);
    for (const s of clients) s.write(line);
  };
  runtime.onContainerEvent((event) => broadcast({ notice: 'container', event }));
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => undefined);
    socket.on(
      'data',
      jsonLines(
        (msg) => void answer(msg as Request, socket),
        (line) => logger.warn({ line }, 'Ignoring a request that is not JSON'),
      ),
    );
  });
  const runtimeMethods = new Set<string>(RUNTIME_METHODS);

  async function answer(req: Request, socket: Socket): Promise<void> {
    let reply;
    try {
      reply = { id: req.id, result: await dispatch(req) };
    } catch (err) {
      reply = { id: req.id, error: { code: err instanceof NodeletError ? err.code : 'RuntimeError', message: errorMessage(err) } };
    }
    if (!socket.destroyed) socket.write(encode(reply));
  }

  async function dispatch(req: Request): Promise<unknown> {
    switch (req.method) {
      case 'hello':
        return { protocol: PROTOCOL_VERSION, pid: process.pid, startedAt: hooks.startedAt, recovery: hooks.recovery } satisfies Hello;
      case 'configure':
        hooks.configure(req.params[0] as LogSettings);
        return null;
      case 'exitIfIdle':
        if (!runtime.isEmpty()) return false;
        setImmediate(() => hooks.exit());
        return true;
      default: {
        if (!runtimeMethods.has(req.method)) throw new NodeletError('UnknownMethod', `unknown method ${String(req.method)}`);
        const fn = runtime[req.method as (typeof RUNTIME_METHODS)[number]] as (...a: unknown[]) => Promise<unknown>;
        return (await fn.apply(runtime, req.params)) ?? null;
      }
    }
  }

  await listenExclusively(server, socketPath);
  return { broadcast, close: () => server.close() };
}

/**
 * Listens on `socketPath`. A socket file left by a dead supervisor is replaced; one a live supervisor
 * answers on is not (there must be one supervisor per state directory).
 */
async function listenExclusively(server: Server, socketPath: string): Promise<void> {
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await answers(socketPath)) throw new NodeletError('SupervisorRunning', `a supervisor already serves ${socketPath}`);
    await unlink(socketPath).catch(() => undefined);
    await listen();
  }
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

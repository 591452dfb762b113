import { createServer, type Server, type Socket } from 'node:net';
import { unlink } from 'node:fs/promises';
import { errorMessage, NodeletError } from '../../../errors.js';
import { listen, tryAbstractLock } from '../../../util/abstract-lock.js';
import type { Logger } from '../../../util/log.js';
import type { ProcessRuntime } from '../process-runtime.js';
import { jsonLines, messageWriter, PROTOCOL_VERSION, RUNTIME_METHODS, type ConfigureSettings, type Hello, type LogSettings, type Notice, type Request, type Response } from './protocol.js';

/** What the supervisor's main hands the server besides the runtime. */
export interface SupervisorHooks {
  startedAt: number;
  /** Requests wait for this: the socket is taken first (one supervisor per state dir), recovery after. */
  ready: Promise<void>;
  recovery(): string[];
  configure(settings: LogSettings): void;
  /** Called when a client asked the supervisor to exit because nothing is left to supervise. */
  exit(): void;
}

/** A listening supervisor socket. */
export interface RuntimeServer {
  /** Sends a notice to every connected client. */
  broadcast(n: Notice): void;
  /** How many clients are connected now. */
  clients(): number;
  close(): void;
}

/**
 * Serves a ProcessRuntime on a unix socket. Resolves once listening; rejects with code
 * `SupervisorRunning` when another live supervisor already serves this socket.
 */
export async function serveRuntime(runtime: ProcessRuntime, socketPath: string, logger: Logger, hooks: SupervisorHooks): Promise<RuntimeServer> {
  // Each client's writer: answers and notices of one event-loop turn go out in one write.
  const clients = new Map<Socket, (msg: Response | Notice) => void>();
  const broadcast = (n: Notice) => {
    for (const send of clients.values()) send(n);
  };
  runtime.onContainerEvent((event) => broadcast({ notice: 'container', event }));
  const server = createServer((socket) => {
    clients.set(socket, messageWriter(socket));
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => undefined);
    socket.on(
      'data',
      jsonLines(
        (msg) => void answer(msg as Request, clients.get(socket)!),
        (line) => logger.warn({ line }, 'Ignoring a request that is not JSON'),
      ),
    );
  });
  const runtimeMethods = new Set<string>(RUNTIME_METHODS);

  async function answer(req: Request, send: (msg: Response) => void): Promise<void> {
    let reply;
    try {
      await hooks.ready;
      reply = { id: req.id, result: await dispatch(req) };
    } catch (err) {
      reply = { id: req.id, error: { code: err instanceof NodeletError ? err.code : 'RuntimeError', message: errorMessage(err) } };
    }
    send(reply);
  }

  async function dispatch(req: Request): Promise<unknown> {
    switch (req.method) {
      case 'hello':
        return {
          protocol: PROTOCOL_VERSION,
          pid: process.pid,
          startedAt: hooks.startedAt,
          recovery: hooks.recovery(),
          isolation: await runtime.isolationSupport(),
          cgroups: runtime.cgroupSupport(),
        } satisfies Hello;
      case 'configure': {
        const settings = req.params[0] as ConfigureSettings;
        hooks.configure({ maxSizeBytes: settings.maxSizeBytes, maxFiles: settings.maxFiles });
        // A client from before isolation sends none: it strips mounts and security, so no sandbox either.
        await runtime.setIsolation(settings.isolation ?? 'none');
        return null;
      }
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
  return { broadcast, clients: () => clients.size, close: () => server.close() };
}

/**
 * Listens on `socketPath`, once sure no other supervisor serves this state directory (see
 * {@link tryAbstractLock}: a socket file alone can be stale, or won by two supervisors at once).
 */
async function listenExclusively(server: Server, socketPath: string): Promise<void> {
  if (!(await tryAbstractLock('supervisor', socketPath))) {
    throw new NodeletError('SupervisorRunning', `a supervisor already serves ${socketPath}`);
  }
  // Ours now: a socket file left behind is a dead supervisor's.
  await unlink(socketPath).catch(() => undefined);
  await listen(server, socketPath);
}

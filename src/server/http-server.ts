// One HTTP server of nodelet with its limits applied (http-limits.ts): header size, the request
// timeouts, an idle timeout, and a cap on connections with a reserve that answers only /healthz.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { HttpLimits } from './http-limits.js';
import { sendStatus, serviceUnavailable } from './kubeapi/status-errors.js';
import { declaresTooLarge } from './request-body.js';
import { isHealthzTarget, isKubeApiTarget } from './request-target.js';

/**
 * Creates a server for `handler` with `limits`. Connections beyond `maxConnections` are closed at
 * once, except up to `healthzReserve` more from loopback or a Unix socket, on which only `/healthz`
 * is answered (anything else is a 503): under a flood a local liveness check still gets through.
 */
export function createLimitedServer(handler: (req: IncomingMessage, res: ServerResponse) => void, limits: HttpLimits): Server {
  // Connections taken beyond maxConnections, from the healthz reserve.
  const reserved = new WeakSet<object>();
  let open = 0;
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    (req, res) => {
      if (reserved.has(req.socket) && !isHealthzTarget(req.url ?? '/')) return overCapacity(req, res);
      if (reserved.has(req.socket)) res.setHeader('connection', 'close');
      handler(req, res);
    },
  );
  // With no 'timeout' listener, node closes a connection idle this long; streams turn it off.
  server.timeout = limits.idleTimeoutMs;
  // The hard ceiling, enforced before any HTTP work is done for the connection.
  server.maxConnections = limits.maxConnections + limits.healthzReserve;
  // node answers `Expect: 100-continue` by itself unless told otherwise; a body that will be refused
  // must not be invited.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!declaresTooLarge(req, limits.maxBodyBytes)) res.writeContinue();
    server.emit('request', req, res);
  });
  // CONNECT is no method of this API; unhandled, node would close the connection without a word.
  // The socket is node's no more: it is read (and dropped) until the client closes its side, which
  // ends it, or it is destroyed when idle.
  const hijacked = new Set<Socket>();
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    hijacked.add(socket);
    socket.once('close', () => hijacked.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    socket.resume();
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  // closeAllConnections knows only the connections node still serves: the CONNECT ones go too.
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAllConnections();
    for (const s of hijacked) s.destroy();
  };
  server.on('connection', (socket) => {
    const local = isLocal(socket.remoteAddress);
    if (open >= limits.maxConnections + (local ? limits.healthzReserve : 0)) {
      socket.destroy();
      return;
    }
    open++;
    if (open > limits.maxConnections) reserved.add(socket);
    socket.once('close', () => open--);
  });
  return server;
}

function overCapacity(req: IncomingMessage, res: ServerResponse): void {
  const s = serviceUnavailable('too many open connections: only /healthz is served on this one, retry later', 1).status;
  const headers = { 'retry-after': '1', connection: 'close' };
  if (isKubeApiTarget(req.url ?? '/')) return sendStatus(res, s, headers);
  const body = `${s.message}\n`;
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// A Unix socket has no address: it is local, and guarded by the permissions of --root-dir.
function isLocal(address: string | undefined): boolean {
  if (address === undefined) return true;
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1' || address.startsWith('::ffff:127.');
}

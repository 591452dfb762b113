// One HTTP server of nodelet with its limits applied (http-limits.ts): header size, the request
// timeouts, an idle timeout, and a cap on connections with a reserve that answers only /healthz.
// With TLS options it is an HTTPS server (the authenticated port) with the same limits, plus one on
// the handshake; the connection cap counts TCP connections before any handshake work is done.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { HttpLimits } from './http-limits.js';
import { sendStatus, serviceUnavailable } from './kubeapi/status-errors.js';
import { declaresTooLarge } from './request-body.js';
import { isHealthzTarget, isKubeApiTarget } from './request-target.js';
import { isLoopbackIP } from '../util/loopback.js';

/** A server made by {@link createLimitedServer}: HTTP, or HTTPS when given TLS options. */
export type LimitedServer = Server | HttpsServer;

/**
 * Creates a server for `handler` with `limits`, an HTTPS one when `tls` is given. Connections beyond
 * `maxConnections` are closed at once, except up to `healthzReserve` more from loopback or a Unix
 * socket, on which only `/healthz` is answered (anything else is a 503): under a flood a local
 * liveness check still gets through.
 */
export function createLimitedServer(handler: (req: IncomingMessage, res: ServerResponse) => void, limits: HttpLimits, tls?: TlsOptions): LimitedServer {
  // Connections taken beyond maxConnections, from the healthz reserve. Keyed by the peer's address
  // and port: a TLS request's socket is not the TCP socket counted at 'connection', but has its peer.
  const reserved = new Set<unknown>();
  let open = 0;
  const options = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const fromReserve = reserved.has(peerKey(req.socket));
    if (fromReserve && !isHealthzTarget(req.url ?? '/')) return overCapacity(req, res);
    if (fromReserve) res.setHeader('connection', 'close');
    handler(req, res);
  };
  // A client that connects and never finishes its handshake is dropped as one that sends no headers.
  const server: LimitedServer = tls
    ? createHttpsServer({ ...options, ...tls, handshakeTimeout: limits.handshakeTimeoutMs }, listener)
    : createServer(options, listener);
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
  // closeAllConnections knows only the connections node serves HTTP on: the CONNECT ones go too, and
  // on HTTPS the ones still in their handshake (else close() would wait for their timeout).
  const sockets = new Set<Socket>();
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAllConnections();
    for (const s of hijacked) s.destroy();
    for (const s of sockets) s.destroy();
  };
  server.on('connection', (socket: Socket) => {
    const local = isLocal(socket.remoteAddress);
    if (open >= limits.maxConnections + (local ? limits.healthzReserve : 0)) {
      socket.destroy();
      return;
    }
    open++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (open > limits.maxConnections) {
      const key = peerKey(socket);
      reserved.add(key);
      socket.once('close', () => reserved.delete(key));
    }
    socket.once('close', () => open--);
  });
  return server;
}

// A TCP connection is known by its peer's address and port (a TLS socket reports its TCP socket's);
// a Unix socket has no peer address, and is its own key.
function peerKey(socket: Socket): unknown {
  return socket.remoteAddress === undefined ? socket : `${socket.remoteAddress} ${socket.remotePort}`;
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
  return address === undefined || isLoopbackIP(address);
}

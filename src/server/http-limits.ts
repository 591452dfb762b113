// The limits every HTTP server of nodelet runs with (the agent socket, the read-only port and the
// authenticated port). The
// API only reads, so a request is a line, a few headers and no body worth speaking of; what is long
// lived is the response (a watch, a followed log), never the request. The numbers follow from that.

/** Limits of one nodelet HTTP server; see {@link DEFAULT_HTTP_LIMITS} for the values and why. */
export interface HttpLimits {
  /** Largest request line plus headers, in bytes (node's maxHeaderSize); larger is a 431. */
  maxHeaderBytes: number;
  /** Largest request body read, in bytes; larger is a 413 and the connection is closed. */
  maxBodyBytes: number;
  /** Time to receive the request line and headers, from the connection's (or request's) first byte. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included; the response, however long, is not counted. */
  requestTimeoutMs: number;
  /** Time to complete the TLS handshake, on the authenticated port (before any header is read). */
  handshakeTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests. */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing is read or written for this long is closed (not while streaming). */
  idleTimeoutMs: number;
  /** How often node checks the two request timeouts: their granularity. */
  timeoutCheckIntervalMs: number;
  /** Open connections per server; beyond it a connection is closed at once. */
  maxConnections: number;
  /** Extra connections from loopback (or the agent socket) beyond `maxConnections`, which serve only `/healthz`. */
  healthzReserve: number;
  /** Open watches and followed logs, all servers of a node together; beyond it a 429. */
  maxStreams: number;
}

/**
 * The limits nodelet runs with.
 * - 16 KiB of headers: node's own default, set explicitly; kubectl sends well under 2 KiB (a bearer
 *   token included), and the request line (the URL) counts too, so no path segment is longer.
 * - 64 KiB of body: the only body ever read is that of a refused `kubectl create`, to name the pod in
 *   the 405; at 1,024 connections that is at most 64 MiB held, where 1 MiB would be a GiB.
 * - 10 s for headers, 30 s for the whole request: a client sends its headers in one packet, so a
 *   slowloris trickling bytes is cut at 10 s (node's defaults are 60 s and 300 s).
 * - 10 s for a TLS handshake, which precedes the headers and is not counted in their 10 s: a
 *   handshake is a few round trips (node's default is 120 s; Go's server, the kubelet's, bounds it
 *   with the same read deadline as the headers).
 * - 5 s keep-alive (node's default, kept): kubectl and Prometheus reuse a connection between calls.
 * - 30 s idle: a connection that neither sends nor reads (a client that stopped reading /pods).
 * - timeouts checked every second (node's default, 30 s, would make 10 s anything up to 40 s).
 * - 1,024 connections per server, plus 32 from loopback that only answer /healthz, so the liveness
 *   check of a supervisor on the node still gets through while the port is flooded.
 * - 256 watches and followed logs: each holds a poller task and a file handle, and `kubectl get -w`
 *   plus `logs -f` for every container of a 110-pod node stays far below it.
 */
export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  timeoutCheckIntervalMs: 1_000,
  maxConnections: 1024,
  healthzReserve: 32,
  maxStreams: 256,
});

/** The defaults with `overrides` applied (tests shrink the timeouts). */
export function httpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  return { ...DEFAULT_HTTP_LIMITS, ...overrides };
}

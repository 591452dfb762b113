/**
 * The HTTP GET of httpGet probes and hooks, as the kubelet's probe client does it (pkg/probe/http/http.go,
 * request.go): no keep-alive, no certificate check, redirects followed only to the same host (at most
 * 10), the body read up to 10 KiB, one timeout for the whole exchange. Errors carry Go's wording
 * (`Get "http://…": dial tcp …: connect: connection refused`) because that is what users search for.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Container } from '../api/types.js';
import type { HTTPGetAction } from 'kubernetes-types/core/v1.js';
import { joinHostPort, KUBE_VERSION } from './go-format.js';
import { resolveContainerPort } from './probe-spec.js';

/** The kubelet reads at most this much of a probe response (http.go maxRespBodyLength). */
export const MAX_BODY_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** A prepared GET: the URL and the headers in order (repeated names allowed). */
export interface HttpGetRequest {
  url: URL;
  headers: [string, string][];
}

/** The response the caller sees: the last one of the redirect chain. */
export interface HttpGetResponse {
  status: number;
  /** The first {@link MAX_BODY_BYTES} of the body, as UTF-8. */
  body: string;
  url: URL;
}

/** A failed exchange; `message` is Go's `Get "<url>": <reason>`. `code` is Node's error code if any. */
export class HttpGetError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Builds the request of an HTTPGetAction (request.go NewRequestForHTTPGetAction): scheme lower-cased
 * (default http), host default `podIP`, port by number or container port name, headers as given with
 * `User-Agent: kube-<fragment>/1.30` and `Accept: *\/*` unless set (an empty Accept removes it).
 * Throws if the port cannot be resolved.
 */
export function buildHttpGetRequest(action: HTTPGetAction, container: Container, podIP: string, userAgentFragment: 'probe' | 'lifecycle'): HttpGetRequest {
  const scheme = (action.scheme || 'http').toLowerCase();
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  let path = action.path ?? '';
  if (!path.startsWith('/')) path = `/${path}`;
  const url = new URL(`${scheme}://${joinHostPort(host, port)}${path}`);
  const given = action.httpHeaders ?? [];
  const has = (name: string) => given.some((h) => h.name.toLowerCase() === name);
  const headers: [string, string][] = [];
  if (!has('user-agent')) headers.push(['User-Agent', `kube-${userAgentFragment}/${KUBE_VERSION}`]);
  const acceptGiven = given.filter((h) => h.name.toLowerCase() === 'accept');
  if (acceptGiven.length === 0) headers.push(['Accept', '*/*']);
  for (const h of given) {
    // Go: `Accept` set but empty means "send no Accept header at all".
    if (h.name.toLowerCase() === 'accept' && acceptGiven[0]!.value === '') continue;
    headers.push([h.name, h.value]);
  }
  return { url, headers };
}

/**
 * Performs the GET, following same-host redirects. Resolves with the final response (a redirect to
 * another host is returned as is, a 3xx); rejects with {@link HttpGetError} on transport errors,
 * after 10 redirects, at `timeoutMs`, or when `signal` aborts.
 *
 * Written on net/tls sockets rather than node:http: a probe needs the status line, `Location` and
 * the first 10 KiB of body, and at 500 probes a second the http module's agent and request machinery
 * cost a third more CPU than the probe's own connect (measured in this repo).
 */
export function httpGet(req: HttpGetRequest, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<HttpGetResponse> {
  return new Promise((resolve, reject) => {
    const origin = req.url;
    let current = origin;
    let socket: net.Socket | undefined;
    let headersSeen = false;
    let settled = false;
    const finish = (err: HttpGetError | undefined, res?: HttpGetResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const fail = (reason: string, code?: string) => finish(new HttpGetError(`Get ${JSON.stringify(current.href)}: ${reason}`, code));
    // Go's http.Client.Timeout covers connect, headers and body; these are its messages.
    const timer = setTimeout(
      () =>
        fail(
          headersSeen
            ? 'context deadline exceeded (Client.Timeout or context cancellation while reading body)'
            : 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
          'ETIMEDOUT',
        ),
      Math.max(1, opts.timeoutMs),
    );
    timer.unref();
    const onAbort = () => fail('context canceled', 'ABORT_ERR');
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const go = (url: URL, redirects: number) => {
      current = url;
      headersSeen = false;
      const isHttps = url.protocol === 'https:';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = Number(url.port) || (isHttps ? 443 : 80);
      let head: string;
      try {
        // A Host header set by the user only applies to the URL it was given for (Go drops it on an absolute redirect).
        head = requestHead(url, url === origin ? joinHostPort(host, port) : url.host, req.headers, url === origin);
      } catch (err) {
        return fail((err as Error).message);
      }
      const s = isHttps
        ? tls.connect({ host, port, rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
        : net.connect({ host, port });
      socket = s;
      const parser = new ResponseParser();
      s.once(isHttps ? 'secureConnect' : 'connect', () => s.write(head, 'latin1'));
      s.on('error', (err: NodeJS.ErrnoException) => fail(describe(err, url), err.code));
      const settle = () => {
        if (parser.error) return fail(parser.error);
        if (!parser.head) return;
        if (!headersSeen) {
          headersSeen = true;
          const { status, location } = parser.head;
          if (REDIRECT_CODES.has(status) && location !== undefined) {
            let next: URL;
            try {
              next = new URL(location, url);
            } catch {
              return fail(`failed to parse Location header ${JSON.stringify(location)}`);
            }
            // http.go RedirectChecker(false): a redirect to another host ends the chain with this response.
            if (next.hostname === origin.hostname && (next.protocol === 'http:' || next.protocol === 'https:')) {
              s.destroy();
              if (redirects + 1 > MAX_REDIRECTS) return fail('stopped after 10 redirects');
              return go(next, redirects + 1);
            }
          }
        }
        // utilio.ReadAtMost: past 10 KiB the rest is not read (truncation is not an error).
        if (parser.complete) finish(undefined, { status: parser.head.status, body: parser.body().toString('utf8'), url });
      };
      s.on('data', (chunk: Buffer) => {
        if (socket !== s) return;
        parser.push(chunk);
        settle();
      });
      s.on('end', () => {
        if (socket !== s) return;
        parser.end();
        if (!parser.head && !parser.error) return fail('EOF');
        settle();
      });
    };
    go(origin, 0);
  });
}

/** The request line and headers of a GET with `Connection: close` (the kubelet's DisableKeepAlives). */
function requestHead(url: URL, hostPort: string, headers: [string, string][], userHost: boolean): string {
  let host = hostPort;
  let lines = '';
  for (const [name, value] of headers) {
    if (/[\r\n\0]/.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new Error(`net/http: invalid header field ${JSON.stringify(name)}`);
    }
    const key = name.toLowerCase();
    if (key === 'host') {
      if (userHost) host = value;
      continue;
    }
    if (key === 'connection' || key === 'content-length' || key === 'transfer-encoding') continue;
    lines += `${name}: ${value}\r\n`;
  }
  return `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${host}\r\n${lines}Connection: close\r\n\r\n`;
}

/** Response heads larger than this are refused (Go's default MaxResponseHeaderBytes is 1 MB; probes need little). */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * An incremental HTTP/1.x response reader: the status, `Location`, and the body (content-length,
 * chunked, or until close) up to {@link MAX_BODY_BYTES}. Interim 1xx responses are skipped.
 */
class ResponseParser {
  head: { status: number; location?: string } | undefined;
  error: string | undefined;
  complete = false;
  private buf: Buffer = Buffer.alloc(0);
  private mode: 'length' | 'chunked' | 'close' | 'none' = 'close';
  private remaining = 0;
  private chunkLeft = -1;
  private readonly parts: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    if (this.complete || this.error) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (!this.head && !this.error) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > MAX_HEAD_BYTES) this.error = 'net/http: server response headers exceeded 65536 bytes';
        return;
      }
      const text = this.buf.subarray(0, end).toString('latin1');
      this.buf = this.buf.subarray(end + 4);
      this.readHead(text);
    }
    this.readBody();
  }

  /** The connection closed: a body read until close is now complete. */
  end(): void {
    if (this.head && !this.complete && !this.error) {
      if (this.mode === 'close') this.complete = true;
      else this.error = 'unexpected EOF';
    }
  }

  body(): Buffer {
    return Buffer.concat(this.parts).subarray(0, MAX_BODY_BYTES);
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]!);
    if (!m) {
      this.error = `malformed HTTP response ${JSON.stringify(lines[0])}`;
      return;
    }
    const status = Number(m[1]);
    if (status >= 100 && status < 200 && status !== 101) return; // interim response: the real one follows
    let location: string | undefined;
    let length: number | undefined;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'location') location = value;
      else if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    }
    this.head = { status, location };
    if (status === 204 || status === 304) this.mode = 'none';
    else if (chunked) this.mode = 'chunked';
    else if (length !== undefined && Number.isInteger(length) && length >= 0) {
      this.mode = 'length';
      this.remaining = length;
    } else this.mode = 'close';
    if (this.mode === 'none' || (this.mode === 'length' && this.remaining === 0)) this.complete = true;
  }

  private take(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.size += b.length;
    if (this.size >= MAX_BODY_BYTES) this.complete = true;
  }

  private readBody(): void {
    if (!this.head || this.complete) return;
    if (this.mode === 'close') {
      this.take(this.buf);
      this.buf = Buffer.alloc(0);
    } else if (this.mode === 'length') {
      const b = this.buf.subarray(0, this.remaining);
      this.buf = this.buf.subarray(b.length);
      this.remaining -= b.length;
      this.take(b);
      if (this.remaining === 0) this.complete = true;
    } else {
      while (!this.complete && !this.error) {
        if (this.chunkLeft < 0) {
          const eol = this.buf.indexOf('\r\n');
          if (eol < 0) return;
          const size = parseInt(this.buf.subarray(0, eol).toString('latin1').split(';')[0]!.trim(), 16);
          this.buf = this.buf.subarray(eol + 2);
          if (!Number.isFinite(size) || size < 0) {
            this.error = 'malformed chunked encoding';
            return;
          }
          if (size === 0) {
            this.complete = true; // trailers are not needed
            return;
          }
          this.chunkLeft = size;
        }
        if (this.chunkLeft > 0) {
          const b = this.buf.subarray(0, this.chunkLeft);
          this.buf = this.buf.subarray(b.length);
          this.chunkLeft -= b.length;
          this.take(b);
          if (this.chunkLeft > 0) return;
        }
        if (this.buf.length < 2) return;
        this.buf = this.buf.subarray(2); // the CRLF after the chunk data
        this.chunkLeft = -1;
      }
    }
  }
}

/** Node's transport errors in Go's words, where there is a well-known equivalent. */
function describe(err: NodeJS.ErrnoException, url: URL): string {
  const addr = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ECONNRESET':
      return `read tcp ${addr}: read: connection reset by peer`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${url.hostname}: no such host`;
    default:
      if (isPlainHttpFromTls(err)) return 'http: server gave HTTP response to HTTPS client';
      return err.message;
  }
}

/** An HTTPS request answered by a plain-HTTP server (the kubelet's hook runner then retries over HTTP). */
export function isPlainHttpFromTls(err: { code?: string; message?: string }): boolean {
  return (
    err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /server gave HTTP response to HTTPS client|wrong version number|packet length too long|http request/i.test(err.message ?? '')
  );
}

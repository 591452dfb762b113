// The API only reads, so a body is never streamed into a route: it is read here, at most
// maxBodyBytes of it, before the route runs. A larger body (declared, or found while reading a chunked
// one) is refused without reading the rest, so a client streaming gigabytes costs one limit of memory.

import type { IncomingMessage } from 'node:http';

/** The outcome of {@link readRequestBody}. */
export type BodyResult = { kind: 'none' } | { kind: 'body'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/** True when the request declares a Content-Length above `max` (refused before a byte of it is read). */
export function declaresTooLarge(req: IncomingMessage, max: number): boolean {
  const cl = req.headers['content-length'];
  return cl !== undefined && Number(cl) > max;
}

/**
 * Reads the request's body, up to `max` bytes. `none` when it has none; `too-large` as soon as it
 * passes `max` (the stream is then paused, never drained); `aborted` when the client went first.
 */
export function readRequestBody(req: IncomingMessage, max: number): Promise<BodyResult> {
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const declared = req.headers['content-length'];
  if (!chunked && (declared === undefined || Number(declared) === 0)) return Promise.resolve({ kind: 'none' });
  if (declaresTooLarge(req, max)) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (r: BodyResult) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('aborted', onGone);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.pause();
        done({ kind: 'too-large' });
      } else chunks.push(c);
    };
    const onEnd = () => done({ kind: 'body', body: Buffer.concat(chunks) });
    const onGone = () => done({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('aborted', onGone);
  });
}

// Errors as the API server returns them: a meta/v1 Status with the HTTP code, a reason kubectl prints
// as `Error from server (<reason>): <message>`, and details (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go).

import type { ServerResponse } from 'node:http';

/** A meta/v1 Status of a failed request. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; retryAfterSeconds?: number };
  code: number;
}

/** An error a route throws to answer with a Status; anything else thrown is a 500. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(readonly status: KubeStatus) {
    super(status.message);
  }
}

function status(code: number, reason: string, message: string, details?: KubeStatus['details']): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

/** 404 NotFound for a named object: `pods "web" not found` (errors.NewNotFound). */
export function notFound(resource: string, name: string): StatusError {
  return status(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

/** 404 NotFound for a path that is no resource at all (the API server's "the server could not find the requested resource"). */
export function noSuchResource(): StatusError {
  return status(404, 'NotFound', 'the server could not find the requested resource');
}

/** 400 BadRequest (errors.NewBadRequest): bad selectors, a log request for a container that has none. */
export function badRequest(message: string): StatusError {
  return status(400, 'BadRequest', message);
}

/**
 * 401 Unauthorized, as the API server's authentication filter answers a request it cannot
 * authenticate (no credentials, a wrong token, a client certificate it does not trust).
 */
export function unauthorized(): StatusError {
  return status(401, 'Unauthorized', 'Unauthorized');
}

/** 405 MethodNotAllowed (errors.NewMethodNotSupported) with our own message: why nodelet will not write. */
export function methodNotAllowed(message: string, details?: KubeStatus['details']): StatusError {
  return status(405, 'MethodNotAllowed', message, details);
}

/** 410 Gone / Expired: a watch from a resourceVersion older than the history kept (errors.NewResourceExpired). */
export function expired(message: string): StatusError {
  return status(410, 'Expired', message);
}

/** 500 InternalError, for a route that failed unexpectedly. `message` is shown to the client: never the error's own text. */
export function internalError(message: string): StatusError {
  return status(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** The 500 for an unexpected failure: its own text may name files and internals, so it is logged, never sent. */
export function opaqueInternalError(): StatusError {
  return internalError('the request failed; the node agent logged why');
}

/** 413 RequestEntityTooLarge (errors.NewRequestEntityTooLargeError): a body above the limit. */
export function requestEntityTooLarge(limitBytes: number): StatusError {
  return status(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

/** 429 TooManyRequests (errors.NewTooManyRequests), with a Retry-After that client-go honours. */
export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return status(429, 'TooManyRequests', `Too many requests: ${message}`, { retryAfterSeconds });
}

/** 503 ServiceUnavailable (errors.NewServiceUnavailable), with a Retry-After. */
export function serviceUnavailable(message: string, retryAfterSeconds: number): StatusError {
  return status(503, 'ServiceUnavailable', message, { retryAfterSeconds });
}

/** The 429 for a watch or a followed log beyond the node's cap of `max` open streams. */
export function tooManyStreams(max: number): StatusError {
  return tooManyRequests(`${max} watches and followed logs are open on this node`, 1);
}

/** Writes a Status as the response (with Retry-After when the Status carries one). */
export function sendStatus(res: ServerResponse, s: KubeStatus, headers: Record<string, string> = {}): void {
  const retry = s.details?.retryAfterSeconds;
  sendObject(res, s.code, s, retry !== undefined ? { 'retry-after': String(retry), ...headers } : headers);
}

/** Writes one JSON object as the response, with the content type the API server uses. */
export function sendObject(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private', ...headers });
  res.end(text);
}

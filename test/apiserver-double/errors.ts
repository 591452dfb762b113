// Failures as kube-apiserver reports them: a meta/v1 Status with the HTTP code, a reason and details
// (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go: NewNotFound, NewAlreadyExists, NewConflict,
// NewInvalid, NewResourceExpired, NewGone, NewBadRequest, NewUnauthorized, NewTimeoutError …).

/** One cause of a 422 Invalid (metav1.StatusCause). */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** A meta/v1 Status of a failed request. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** Thrown by the double's handlers to answer with a Status; anything else thrown becomes a 500. */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  constructor(readonly status: Status) {
    super(status.message);
  }
}

/** A group and resource, e.g. `{group: 'coordination.k8s.io', resource: 'leases'}`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** `pods`, or `leases.coordination.k8s.io`: how the API server names a resource in messages. */
export const qualified = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

function status(code: number, reason: string, message: string, details?: Status['details']): ApiStatusError {
  const d = details && Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined && v !== ''));
  return new ApiStatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(d && Object.keys(d).length > 0 ? { details: d } : {}),
    code,
  });
}

const grDetails = (gr: GroupResource, name: string) => ({ name, group: gr.group, kind: gr.resource });

/** 404 NotFound: `pods "web" not found`. */
export const notFound = (gr: GroupResource, name: string) => status(404, 'NotFound', `${qualified(gr)} "${name}" not found`, grDetails(gr, name));

/** 404 for a path that names no resource. */
export const noSuchPath = () => status(404, 'NotFound', 'the server could not find the requested resource');

/** 409 AlreadyExists: a create of a name that exists. */
export const alreadyExists = (gr: GroupResource, name: string) =>
  status(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, grDetails(gr, name));

/** The message of a stale resourceVersion (apiserver registry/generic/registry OptimisticLockErrorMsg). */
export const OPTIMISTIC_LOCK = 'the object has been modified; please apply your changes to the latest version and try again';

/** 409 Conflict: `Operation cannot be fulfilled on pods "web": <why>`. */
export const conflict = (gr: GroupResource, name: string, why: string) =>
  status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, grDetails(gr, name));

/** One field error of a 422 (k8s.io/apimachinery/pkg/util/validation/field). */
export interface FieldError {
  field: string;
  type: 'Required' | 'Invalid' | 'Forbidden';
  value?: unknown;
  detail: string;
}

function fieldErrorText(e: FieldError): string {
  switch (e.type) {
    case 'Required':
      return `Required value: ${e.detail}`;
    case 'Forbidden':
      return `Forbidden: ${e.detail}`;
    case 'Invalid':
      return `Invalid value: ${typeof e.value === 'string' ? JSON.stringify(e.value) : String(e.value)}: ${e.detail}`;
  }
}

const CAUSE_REASON = { Required: 'FieldValueRequired', Invalid: 'FieldValueInvalid', Forbidden: 'FieldValueForbidden' } as const;

/**
 * 422 Invalid (errors.NewInvalid): `Pod "x" is invalid: metadata.name: Required value: …`. The details
 * carry the Kind (not the resource), qualified by group, as the API server does.
 */
export function invalid(group: string, kind: string, name: string, errs: FieldError[]): ApiStatusError {
  const texts = errs.map((e) => `${e.field}: ${fieldErrorText(e)}`);
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  const qk = group ? `${kind}.${group}` : kind;
  return status(422, 'Invalid', `${qk} "${name}" is invalid: ${joined}`, {
    name,
    group,
    kind,
    causes: errs.map((e) => ({ reason: CAUSE_REASON[e.type], message: fieldErrorText(e), field: e.field })),
  });
}

/** 410 Expired (errors.NewResourceExpired): `too old resource version: 5 (9)`. */
export const expired = (message: string) => status(410, 'Expired', message);

/** 410 Gone (errors.NewGone). */
export const gone = (message: string) => status(410, 'Gone', message);

/** 400 BadRequest. */
export const badRequest = (message: string) => status(400, 'BadRequest', message);

/** 401 Unauthorized, as the authentication filter answers a bad or missing token. */
export const unauthorized = () => status(401, 'Unauthorized', 'Unauthorized');

/** 405 MethodNotAllowed (errors.NewMethodNotSupported). */
export const methodNotAllowed = () => status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

/** 415 UnsupportedMediaType. */
export const unsupportedMediaType = (message: string) => status(415, 'UnsupportedMediaType', message);

/** 504 Timeout (errors.NewTimeoutError), e.g. a resourceVersion the server has not reached. */
export const timeout = (message: string, retryAfterSeconds: number) => status(504, 'Timeout', message, { retryAfterSeconds });

/** 500 InternalError (errors.NewInternalError). */
export const internalError = (message: string) => status(500, 'InternalError', `Internal error occurred: ${message}`);

/** A 500 with no reason: a plain Go error the API server did not map (ErrorToAPIStatus' default). */
export const unknownError = (message: string) => status(500, '', message);

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A Status for an injected failure of the given HTTP code (the reason the API server uses for it). */
export const injected = (code: number, message: string) => status(code, REASONS[code] ?? '', message);

/** 422 with the patch machinery's message (a JSON patch that does not apply, a bad merge key). */
export const unprocessable = (message: string) => status(422, 'Invalid', message);

// Who a request on the authenticated port is from, as the kubelet's authenticator decides it
// (cmd/kubelet/app/auth.go BuildAuth, k8s.io/apiserver/pkg/authentication/authenticatorfactory
// delegating.go): a client certificate verified against --client-ca-file, else a bearer token, each
// tried in turn and the first that succeeds wins; then, only when both found no credentials at all
// and --anonymous-auth is on, the anonymous user. A wrong token or an untrusted certificate is never
// anonymous: it is refused even with anonymous auth on (union.NewFailOnError). Ours differs in the
// source of tokens: a static token file (--token-auth-file) where the kubelet asks the API server
// (webhook TokenReview). There is no authorization step: every authenticated user may use every path
// (the kubelet's --authorization-mode=AlwaysAllow).

import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { ANONYMOUS_USER, AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, type UserInfo } from './user.js';

/** How a request was authenticated. */
export type AuthMethod = 'x509' | 'token' | 'anonymous';

/** The outcome: a user, or why the request is refused (for the log, never for the client). */
export type AuthResult = { user: UserInfo; method: AuthMethod } | { refused: string };

/** Decides who a request is from. */
export type Authenticator = (req: IncomingMessage) => AuthResult;

/** What an authenticator accepts. */
export interface AuthenticatorOptions {
  /**
   * Client certificates: true when the server asks for one and verifies it against a client CA
   * (TLS does the verification; this reads the verdict and the subject).
   */
  x509: boolean;
  /** Bearer token → user, from the token file; undefined = no token authentication. */
  tokens?: ReadonlyMap<string, UserInfo>;
  /** Requests with no credentials are `system:anonymous`; otherwise they are refused. */
  anonymous: boolean;
}

// One authenticator's answer: a user, nothing to say (no credentials of its kind), or an error.
type Answer = { user: UserInfo } | { none: true } | { error: string };

/** Creates the authenticator of the authenticated port. */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  return (req) => {
    const answers: [AuthMethod, Answer][] = [];
    if (opts.x509) answers.push(['x509', fromClientCert(req)]);
    if (opts.tokens) answers.push(['token', fromBearerToken(req, opts.tokens)]);
    for (const [method, a] of answers) {
      if ('user' in a) return { user: withGroup(a.user, AUTHENTICATED_GROUP), method };
    }
    const errors = answers.flatMap(([, a]) => ('error' in a ? [a.error] : []));
    if (errors.length > 0) return { refused: errors.join('; ') };
    if (opts.anonymous) return { user: { name: ANONYMOUS_USER, uid: '', groups: [UNAUTHENTICATED_GROUP] }, method: 'anonymous' };
    return { refused: 'no credentials' };
  };
}

// k8s.io/apiserver/pkg/authentication/request/x509: the verified leaf's CommonName is the user and
// its Organizations the groups; a certificate without a CommonName authenticates no one.
function fromClientCert(req: IncomingMessage): Answer {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return { none: true };
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { none: true };
  if (!socket.authorized) return { error: `client certificate not trusted: ${String(socket.authorizationError)}` };
  const cn = first(cert.subject?.CN);
  if (!cn) return { none: true };
  return { user: { name: cn, uid: '', groups: all(cert.subject?.O) } };
}

// k8s.io/apiserver/pkg/authentication/request/bearertoken: `Authorization: Bearer <token>`; any
// other scheme, or an empty token, is no credential at all; a token that matches no one is an error.
function fromBearerToken(req: IncomingMessage, tokens: ReadonlyMap<string, UserInfo>): Answer {
  const auth = (req.headers.authorization ?? '').trim();
  if (auth === '') return { none: true };
  const parts = auth.split(' ');
  if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return { none: true };
  const token = parts[1]!;
  if (token === '') return { none: true };
  const user = tokens.get(token);
  return user ? { user } : { error: 'invalid bearer token' };
}

// A subject field is a string, or an array of strings when the certificate repeats it.
function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? [...v] : [v];
}

function withGroup(user: UserInfo, group: string): UserInfo {
  return user.groups.includes(group) ? user : { ...user, groups: [...user.groups, group] };
}

// The authenticated port (the kubelet's 10250, pkg/kubelet/server/server.go ListenAndServeKubeletServer
// with the filter of InstallAuthFilter): HTTPS, every request authenticated before any route runs,
// a 401 Status for one that is not. Everything it needs is read from the configuration here, once,
// before anything starts, so that a missing file stops start-up with one line naming it.

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TlsOptions } from 'node:tls';
import type { NodeletConfig } from '../config/types.js';
import { NodeletError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { type Authenticator, createAuthenticator } from './auth/authenticator.js';
import { readTokenFile } from './auth/token-file.js';
import type { Handler } from './handler.js';
import { sendStatus, unauthorized } from './kubeapi/status-errors.js';
import { loadServingCert, type ServingCert } from './tls/serving-cert.js';

/** The authenticated port, ready to listen. */
export interface SecurePort {
  port: number;
  address: string;
  /** The HTTPS options: certificate, key, minimum version, and the client CA when there is one. */
  tls: TlsOptions;
  authenticate: Authenticator;
  /** Where the certificate came from, for the start-up log. */
  cert: ServingCert;
  clientCAFile: string;
  tokenFile: string;
  /** Tokens read from the token file. */
  tokens: number;
  anonymous: boolean;
  /** One line each, logged as warnings at start: what the token file skipped. */
  warnings: string[];
}

/**
 * Reads what the authenticated port needs: the serving certificate (generated under --root-dir when
 * none is given), the client CA bundle and the token file. Undefined when `port` is 0. Throws
 * NodeletError `InvalidConfig` naming the flag when a file cannot be read or parsed.
 */
export async function prepareSecurePort(config: Readonly<NodeletConfig>, now: Date): Promise<SecurePort | undefined> {
  if (config.port === 0) return undefined;
  const cert = await loadServingCert({
    certFile: config.tlsCertFile,
    keyFile: config.tlsPrivateKeyFile,
    rootDir: config.rootDir,
    nodeName: config.nodeName,
    now,
  });
  const ca = config.clientCAFile ? await readClientCA(config.clientCAFile) : undefined;
  const tokenFile = config.tokenAuthFile ? await readTokenFile(config.tokenAuthFile) : undefined;
  return {
    port: config.port,
    address: config.address,
    tls: {
      cert: cert.cert,
      key: cert.key,
      minVersion: config.tlsMinVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2',
      // The certificate is asked for, never required: a client without one may still bring a token.
      // Its verdict (socket.authorized) is read by the authenticator, as the kubelet's TLS config
      // (RequestClientCert) leaves verification to its x509 authenticator.
      ...(ca ? { ca, requestCert: true, rejectUnauthorized: false } : {}),
    },
    authenticate: createAuthenticator({ x509: ca !== undefined, tokens: tokenFile?.tokens, anonymous: config.anonymousAuth }),
    cert,
    clientCAFile: config.clientCAFile,
    tokenFile: config.tokenAuthFile,
    tokens: tokenFile?.tokens.size ?? 0,
    anonymous: config.anonymousAuth,
    warnings: tokenFile?.warnings ?? [],
  };
}

async function readClientCA(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new NodeletError('InvalidConfig', `--client-ca-file=${file}: cannot read: ${e.code ?? e.message}`, { cause: err });
  }
  try {
    new X509Certificate(text);
  } catch (err) {
    throw new NodeletError('InvalidConfig', `--client-ca-file=${file}: not a PEM certificate bundle: ${(err as Error).message}`, { cause: err });
  }
  return text;
}

/**
 * The request listener of the authenticated port: authenticates, then serves the handler's
 * authenticated variant; a request that cannot be authenticated gets a 401 `Unauthorized` Status
 * (the API server's answer; the kubelet's filter writes the same word as plain text) and the
 * reason goes to the debug log, never to the client.
 */
export function authenticating(handler: Handler, authenticate: Authenticator, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const r = authenticate(req);
    if ('user' in r) return handler.authenticated(req, res, r.user);
    logger.debug({ reason: r.refused, remote: req.socket.remoteAddress, method: req.method }, 'Request not authenticated');
    res.setHeader('x-content-type-options', 'nosniff');
    // A body is never read for a stranger: the connection closes instead of draining it.
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    sendStatus(res, unauthorized().status, hasBody ? { connection: 'close' } : {});
  };
}

/** Logs how the authenticated port is served and who may use it, with a warning where it is wide open or shut. */
export function logSecurePort(logger: Logger, secure: SecurePort, address: string): void {
  logger.info(
    {
      address: `https://${address}`,
      clientCAFile: secure.clientCAFile || '(none)',
      tokenAuthFile: secure.tokenFile ? `${secure.tokenFile} (${secure.tokens} tokens)` : '(none)',
      anonymous: secure.anonymous,
      cert: `${secure.cert.certFile} (${secure.cert.origin === 'files' ? 'from --tls-cert-file' : `self-signed, ${secure.cert.origin}`})`,
    },
    'Serving the authenticated API: client certificates and bearer tokens; every authenticated user may use every path',
  );
  for (const w of secure.warnings) logger.warn({ problem: w }, 'Token file');
  if (secure.cert.replaced) logger.warn({ cert: secure.cert.certFile, reason: secure.cert.replaced }, 'Replaced the self-signed serving certificate');
  if (secure.cert.expired) logger.warn({ cert: secure.cert.certFile, problem: secure.cert.expired }, 'The serving certificate has expired: clients that verify it will refuse it');
  if (secure.anonymous) {
    logger.warn({ address }, 'Anonymous requests are served on the authenticated port (--anonymous-auth): whoever can reach it may run commands in containers');
  } else if (!secure.clientCAFile && !secure.tokenFile) {
    // The default: not a problem to warn about at every start, just a hint for whoever wants the port.
    logger.info({ address }, 'The authenticated port accepts no one: set --client-ca-file or --token-auth-file (or --port=0 to turn it off)');
  }
}

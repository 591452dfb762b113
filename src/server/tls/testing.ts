// Test seam for the authenticated port: certificate authorities and client certificates made with the
// real openssl command in a directory of the test's own, and an HTTPS client that reports what it got.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';

/** A CA made by {@link makeCA}: its files and PEM. */
export interface TestCA {
  certFile: string;
  keyFile: string;
  cert: string;
}

/** Why the openssl command cannot be used here, or undefined when it can (CI installs it). */
export function noOpenssl(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 10_000 });
    return undefined;
  } catch {
    return 'openssl is not installed (apt-get install openssl, as .ci/run does)';
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** A self-signed CA named `name` (ECDSA P-256, one day), in `dir`. */
export function makeCA(dir: string, name: string): TestCA {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', keyFile, '-out', certFile]);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}

/** A client certificate for `cn` with organizations `orgs`, signed by `ca`, for client authentication. */
export function makeClientCert(dir: string, ca: TestCA, cn: string, orgs: string[] = [], usage = 'clientAuth'): { cert: string; key: string } {
  const base = path.join(dir, `${cn}-${path.basename(ca.certFile, '.crt')}`);
  const ext = `${base}.ext`;
  writeFileSync(ext, `extendedKeyUsage=${usage}\n`);
  const subject = `/CN=${cn}${orgs.map((o) => `/O=${o}`).join('')}`;
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', subject, '-keyout', `${base}.key`, '-out', `${base}.csr`]);
  openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', `${base}.crt`]);
  return { cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
}

/** What {@link httpsRequest} got: a status and body, or the TLS or socket error. */
export type HttpsResult = { status: number; headers: Record<string, string | string[] | undefined>; body: string } | { error: string };

/**
 * One HTTPS request to 127.0.0.1:`port`, not verifying the server unless `ca` is given (then the
 * certificate must be valid for `servername`, default 127.0.0.1). Never rejects.
 */
export function httpsRequest(
  port: number,
  urlPath: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; cert?: string; key?: string; ca?: string; servername?: string; timeoutMs?: number } = {},
): Promise<HttpsResult> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: opts.method ?? 'GET',
        headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        cert: opts.cert,
        key: opts.key,
        ca: opts.ca,
        rejectUnauthorized: opts.ca !== undefined,
        ...(opts.servername ? { servername: opts.servername } : {}),
        agent: false,
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('error', (err) => resolve({ error: err.message }));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(opts.body);
  });
}

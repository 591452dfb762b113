// A throwaway serving certificate for the double's HTTPS: self-signed for 127.0.0.1 (SAN IP:127.0.0.1 and
// DNS:localhost), made with the openssl CLI into a temporary directory the server removes on close.
// The certificate is its own CA: kubeconfigs carry it as certificate-authority-data.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A key and certificate, and the directory holding them. */
export interface ServingCert {
  dir: string;
  key: Buffer;
  cert: Buffer;
}

/** Makes a P-256 key and a self-signed certificate valid for two days. */
export function makeServingCert(): ServingCert {
  const dir = mkdtempSync(path.join(tmpdir(), 'apiserver-double-'));
  const keyFile = path.join(dir, 'tls.key');
  const certFile = path.join(dir, 'tls.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=apiserver-double',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'pipe' },
  );
  return { dir, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

// The certificate the authenticated port serves: --tls-cert-file and --tls-private-key-file when
// given, else a self-signed pair made at the first start and kept under --root-dir, as the kubelet
// keeps its own in /var/lib/kubelet/pki/kubelet.crt and kubelet.key (cmd/kubelet/app/server.go
// InitializeTLS: generated when both flags are empty and the files are not there yet, reused after).

import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import { NodeletError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { generateSelfSignedCert } from './self-signed-cert.js';

/** Validity of a generated certificate: one year, as the kubelet's. */
export const SELF_SIGNED_VALIDITY_DAYS = 365;

/** The serving certificate and key (PEM), and where they came from. */
export interface ServingCert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** `files`: --tls-cert-file and --tls-private-key-file; `generated`: made now; `reused`: made at an earlier start. */
  origin: 'files' | 'generated' | 'reused';
  /** Set when a generated pair replaced an unusable one: why. */
  replaced?: string;
  /** Set when the given certificate has expired: served all the same, as the kubelet does, and logged. */
  expired?: string;
}

/** Where the self-signed pair lives under a root dir. */
export function selfSignedPaths(rootDir: string): { certFile: string; keyFile: string } {
  const dir = path.join(rootDir, 'pki');
  return { certFile: path.join(dir, 'nodelet.crt'), keyFile: path.join(dir, 'nodelet.key') };
}

/**
 * The names a generated certificate is valid for: the node name, the machine's host name,
 * `localhost`, 127.0.0.1, ::1 and every address of the host's interfaces (IPv6 link-local ones,
 * which need a zone to be used, left out).
 */
export function servingHosts(nodeName: string): string[] {
  const hosts = [nodeName, hostname().toLowerCase(), 'localhost', '127.0.0.1', '::1'];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')) continue;
      hosts.push(a.address);
    }
  }
  return [...new Set(hosts.filter(Boolean))];
}

/** What {@link loadServingCert} needs. */
export interface ServingCertOptions {
  /** --tls-cert-file and --tls-private-key-file ('' = not given). */
  certFile: string;
  keyFile: string;
  rootDir: string;
  nodeName: string;
  /** Names for a generated certificate (defaults to {@link servingHosts}). */
  hosts?: string[];
  now: Date;
}

/**
 * Loads the given pair, or the self-signed one under `<rootDir>/pki`, generating it when missing.
 * A generated pair that no longer loads (damaged, a key that does not match, or expired) is replaced
 * and the reason returned; the kubelet would reuse it as it is and fail the handshake or start-up.
 * A given pair that does not load is an InvalidConfig error naming the files (they are the user's);
 * one whose certificate has expired is served all the same, with `expired` saying since when.
 */
export async function loadServingCert(opts: ServingCertOptions): Promise<ServingCert> {
  if (opts.certFile !== '' || opts.keyFile !== '') {
    if (opts.certFile === '' || opts.keyFile === '') {
      throw new NodeletError('InvalidConfig', '--tls-cert-file and --tls-private-key-file must be given together');
    }
    const pair = await readPair(opts.certFile, opts.keyFile);
    const problem = 'problem' in pair ? pair.problem : unusable(pair.cert, pair.key);
    if (problem || 'problem' in pair) {
      throw new NodeletError('InvalidConfig', `--tls-cert-file=${opts.certFile} --tls-private-key-file=${opts.keyFile}: ${problem}`);
    }
    const expired = expiry(pair.cert, opts.now);
    return { ...pair, certFile: opts.certFile, keyFile: opts.keyFile, origin: 'files', ...(expired ? { expired } : {}) };
  }
  const { certFile, keyFile } = selfSignedPaths(opts.rootDir);
  const existing = await readPair(certFile, keyFile);
  let replaced: string | undefined;
  if ('problem' in existing) {
    if (!existing.missing) replaced = existing.problem;
  } else {
    const problem = unusable(existing.cert, existing.key) ?? expiry(existing.cert, opts.now);
    if (!problem) return { ...existing, certFile, keyFile, origin: 'reused' };
    replaced = problem;
  }
  const notBefore = new Date(opts.now.getTime() - 3600_000); // the kubelet's hour of slack for clock skew
  const made = generateSelfSignedCert({
    commonName: `${opts.nodeName}@${Math.floor(opts.now.getTime() / 1000)}`,
    hosts: opts.hosts ?? servingHosts(opts.nodeName),
    notBefore,
    notAfter: new Date(opts.now.getTime() + SELF_SIGNED_VALIDITY_DAYS * 86_400_000),
  });
  await mkdir(path.dirname(certFile), { recursive: true, mode: 0o700 });
  // The key first: a crash between the two writes leaves a key without its certificate, which the
  // next start replaces, never a certificate whose key is another one's.
  await writeFileAtomic(keyFile, made.keyPem);
  await writeFileAtomic(certFile, made.certPem);
  // The certificate is public (clients pin it); the key stays 0600, as the kubelet writes its pair.
  await chmod(certFile, 0o644);
  return { cert: made.certPem, key: made.keyPem, certFile, keyFile, origin: 'generated', ...(replaced ? { replaced } : {}) };
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string } | { problem: string; missing: boolean }> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { cert, key };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { problem: `cannot read ${e.path ?? certFile}: ${e.code ?? e.message}`, missing: e.code === 'ENOENT' };
  }
}

// Why a pair cannot serve at all (not PEM, a key that is not the certificate's), or undefined.
function unusable(cert: string, key: string): string | undefined {
  try {
    new X509Certificate(cert);
    createSecureContext({ cert, key });
    return undefined;
  } catch (err) {
    return `not a usable certificate and key: ${(err as Error).message}`;
  }
}

// When the (parsable) certificate is past its validity, a sentence saying since when.
function expiry(cert: string, now: Date): string | undefined {
  const validTo = Date.parse(new X509Certificate(cert).validTo);
  return validTo <= now.getTime() ? `the certificate expired on ${new Date(validTo).toISOString()}` : undefined;
}

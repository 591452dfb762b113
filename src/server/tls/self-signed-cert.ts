// A self-signed serving certificate, as the kubelet makes one when it is given no --tls-cert-file
// (k8s.io/client-go/util/cert GenerateSelfSignedCertKey, called from cmd/kubelet/app/server.go
// InitializeTLS). Ours is one ECDSA P-256 certificate signed by its own key (the kubelet's is an RSA
// leaf with a throwaway CA); clients either skip verification or pin this very certificate.

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, boolean, explicit, integer, octetString, oid, sequence, set, tlv, utf8String, x509Time } from './der.js';

/** What the certificate is for. */
export interface SelfSignedRequest {
  /** The subject's common name (the kubelet's is `<host>@<unix time>`). */
  commonName: string;
  /** Host names and IP addresses the certificate is valid for; each goes in as a DNS or IP SAN. */
  hosts: string[];
  /** First instant of validity. */
  notBefore: Date;
  notAfter: Date;
}

/** A PEM certificate and its PKCS #8 PEM private key. */
export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

const OID = {
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

/**
 * Makes a new key pair and an X.509 v3 certificate for it, signed by itself: serverAuth only, not a
 * CA, with the hosts as subject alternative names (no client checks the common name any more).
 */
export function generateSelfSignedCert(req: SelfSignedRequest): CertAndKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const algorithm = sequence(oid(OID.ecdsaWithSHA256));
  const name = sequence(set(sequence(oid(OID.commonName), utf8String(req.commonName))));
  // Positive, 127 bits of randomness, and never a leading zero byte (DER forbids a redundant one).
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    algorithm,
    name,
    sequence(x509Time(req.notBefore), x509Time(req.notAfter)),
    name,
    spki,
    explicit(
      3,
      sequence(
        extension(OID.basicConstraints, true, sequence()),
        // digitalSignature (bit 0): all an ECDHE-ECDSA handshake needs of the key.
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, sequence(...req.hosts.map(generalName))),
        extension(OID.subjectKeyIdentifier, false, octetString(createHash('sha1').update(spki).digest())),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  return { certPem: pem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

// GeneralName: [2] dNSName (IA5String) or [7] iPAddress (4 or 16 octets), both IMPLICIT.
function generalName(host: string): Buffer {
  const family = isIP(host);
  if (family === 4) return tlv(0x87, Buffer.from(host.split('.').map(Number)));
  if (family === 6) return tlv(0x87, ipv6Bytes(host));
  return tlv(0x82, Buffer.from(host, 'ascii'));
}

function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  // A dotted IPv4 tail (::ffff:10.0.0.1) becomes two hex groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NodeletError } from '../../errors.js';
import { x509Time } from './der.js';
import { generateSelfSignedCert } from './self-signed-cert.js';
import { loadServingCert, selfSignedPaths, servingHosts } from './serving-cert.js';
import { httpsRequest } from './testing.js';

type T = { after: (fn: () => void) => void };

function tempDir(t: T): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const NOW = new Date('2026-03-01T10:00:00Z');

describe('generateSelfSignedCert', () => {
  it('makes a v3 certificate signed by its own key, for the hosts given as DNS and IP names, serving only', () => {
    const { certPem, keyPem } = generateSelfSignedCert({
      commonName: 'node-a@1772359200',
      hosts: ['node-a', 'localhost', '127.0.0.1', '::1', '2001:db8::5', '::ffff:10.1.2.3'],
      notBefore: new Date(NOW.getTime() - 3600_000),
      notAfter: new Date('2027-03-01T10:00:00Z'),
    });
    const x = new X509Certificate(certPem);
    assert.equal(x.subject, 'CN=node-a@1772359200');
    assert.equal(x.issuer, x.subject);
    assert.ok(x.verify(x.publicKey), 'self-signed');
    assert.ok(x.checkPrivateKey(createPrivateKey(keyPem)));
    assert.equal(x.ca, false);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(
      x.subjectAltName,
      'DNS:node-a, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:5, IP Address:0:0:0:0:0:FFFF:A01:203',
    );
    assert.equal(x.validFrom, 'Mar  1 09:00:00 2026 GMT');
    assert.equal(x.validTo, 'Mar  1 10:00:00 2027 GMT');
  });

  it('writes times from 2050 on as GeneralizedTime, before as UTCTime (RFC 5280)', () => {
    assert.equal(x509Time(new Date('2049-12-31T23:59:59Z')).toString('latin1', 2), '491231235959Z');
    assert.equal(x509Time(new Date('2050-01-01T00:00:00Z')).toString('latin1', 2), '20500101000000Z');
    const x = new X509Certificate(
      generateSelfSignedCert({ commonName: 'n', hosts: ['n'], notBefore: NOW, notAfter: new Date('2060-01-01T00:00:00Z') }).certPem,
    );
    assert.equal(x.validTo, 'Jan  1 00:00:00 2060 GMT');
  });

  it('serves TLS that a client pinning the certificate accepts for its IP and names, and refuses for another name', async (t) => {
    const pair = generateSelfSignedCert({ commonName: 'n', hosts: ['node-a', '127.0.0.1'], notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    const server = createHttpsServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    assert.deepEqual(pick(await httpsRequest(port, '/', { ca: pair.certPem })), { status: 200, body: 'ok' });
    assert.deepEqual(pick(await httpsRequest(port, '/', { ca: pair.certPem, servername: 'node-a' })), { status: 200, body: 'ok' });
    const other = await httpsRequest(port, '/', { ca: pair.certPem, servername: 'node-b' });
    assert.ok('error' in other && /node-b/.test(other.error), JSON.stringify(other));
  });
});

describe('loadServingCert', () => {
  it('generates the pair under <rootDir>/pki at the first start, the key readable by its owner only, and reuses it after', async (t) => {
    const rootDir = path.join(tempDir(t), 'root');
    const first = await loadServingCert({ certFile: '', keyFile: '', rootDir, nodeName: 'node-a', now: NOW, hosts: ['node-a', '127.0.0.1'] });
    const { certFile, keyFile } = selfSignedPaths(rootDir);
    assert.equal(first.origin, 'generated');
    assert.equal(first.certFile, certFile);
    assert.equal(path.basename(certFile), 'nodelet.crt');
    assert.equal(path.basename(keyFile), 'nodelet.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(certFile).mode & 0o777, 0o644);
    assert.equal(statSync(path.dirname(keyFile)).mode & 0o777, 0o700);
    assert.equal(readFileSync(certFile, 'utf8'), first.cert);
    assert.match(new X509Certificate(first.cert).subject, /^CN=node-a@\d+$/);

    const again = await loadServingCert({ certFile: '', keyFile: '', rootDir, nodeName: 'node-a', now: new Date(NOW.getTime() + 86_400_000) });
    assert.equal(again.origin, 'reused');
    assert.equal(again.cert, first.cert);
    assert.equal(again.key, first.key);
    assert.equal(again.replaced, undefined);
  });

  it('replaces a damaged or expired generated pair and says why', async (t) => {
    const rootDir = tempDir(t);
    const { certFile, keyFile } = selfSignedPaths(rootDir);
    const first = await loadServingCert({ certFile: '', keyFile: '', rootDir, nodeName: 'n', now: NOW, hosts: ['n'] });
    writeFileSync(keyFile, 'garbage');
    const damaged = await loadServingCert({ certFile: '', keyFile: '', rootDir, nodeName: 'n', now: NOW, hosts: ['n'] });
    assert.equal(damaged.origin, 'generated');
    assert.match(damaged.replaced ?? '', /not a usable certificate and key/);
    assert.notEqual(damaged.cert, first.cert);
    const later = new Date(NOW.getTime() + 400 * 86_400_000);
    const expired = await loadServingCert({ certFile: '', keyFile: '', rootDir, nodeName: 'n', now: later, hosts: ['n'] });
    assert.equal(expired.origin, 'generated');
    assert.match(expired.replaced ?? '', /the certificate expired on 2027-03-01T10:00:00\.000Z/);
    assert.ok(Date.parse(new X509Certificate(readFileSync(certFile, 'utf8')).validTo) > later.getTime());
  });

  it('uses the given files, refusing one without the other or a key that is not the certificate’s; an expired one is served with a note', async (t) => {
    const dir = tempDir(t);
    const a = generateSelfSignedCert({ commonName: 'a', hosts: ['a'], notBefore: NOW, notAfter: new Date(NOW.getTime() + 86_400_000) });
    const b = generateSelfSignedCert({ commonName: 'b', hosts: ['b'], notBefore: NOW, notAfter: new Date(NOW.getTime() + 86_400_000) });
    const file = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const [certA, keyA, keyB] = [file('a.crt', a.certPem), file('a.key', a.keyPem), file('b.key', b.keyPem)];
    const given = await loadServingCert({ certFile: certA, keyFile: keyA, rootDir: dir, nodeName: 'n', now: NOW });
    assert.deepEqual([given.origin, given.cert, given.expired], ['files', a.certPem, undefined]);
    const late = await loadServingCert({ certFile: certA, keyFile: keyA, rootDir: dir, nodeName: 'n', now: new Date(NOW.getTime() + 2 * 86_400_000) });
    assert.match(late.expired ?? '', /expired/);
    const refused = (p: Promise<unknown>, re: RegExp) =>
      assert.rejects(p, (err: unknown) => err instanceof NodeletError && err.code === 'InvalidConfig' && re.test(err.message));
    await refused(loadServingCert({ certFile: certA, keyFile: '', rootDir: dir, nodeName: 'n', now: NOW }), /must be given together/);
    await refused(loadServingCert({ certFile: certA, keyFile: keyB, rootDir: dir, nodeName: 'n', now: NOW }), /--tls-cert-file=.*a\.crt --tls-private-key-file=.*b\.key: not a usable certificate and key/);
    await refused(loadServingCert({ certFile: path.join(dir, 'none.crt'), keyFile: keyA, rootDir: dir, nodeName: 'n', now: NOW }), /cannot read .*none\.crt: ENOENT/);
  });

  it('names the node, the host, localhost and the loopback addresses by default', () => {
    const hosts = servingHosts('node-a');
    for (const h of ['node-a', 'localhost', '127.0.0.1', '::1']) assert.ok(hosts.includes(h), h);
    assert.ok(!hosts.some((h) => h.toLowerCase().startsWith('fe80:')));
  });
});

function pick(r: Awaited<ReturnType<typeof httpsRequest>>): unknown {
  return 'error' in r ? r : { status: r.status, body: r.body };
}

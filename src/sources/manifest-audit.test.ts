import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeletError } from '../errors.js';
import { auditManifestDir, auditManifestFile, checkManifestPath, octalMode, processAuditPolicy, type ManifestAuditPolicy } from './manifest-audit.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const asRoot: ManifestAuditPolicy = { runningAsRoot: true, ownerUid: 0, allowInsecure: false };

describe('checkManifestPath', () => {
  const cases: { name: string; mode: number; uid?: number; policy?: ManifestAuditPolicy; refused?: RegExp; fix?: string }[] = [
    { name: 'a 0644 file owned by root is fine', mode: S_IFREG | 0o644 },
    { name: 'a 0600 file is fine', mode: S_IFREG | 0o600 },
    { name: 'a 0755 directory is fine', mode: S_IFDIR | 0o755 },
    { name: 'a 0664 file is refused: writable by group', mode: S_IFREG | 0o664, refused: /writable by group \(mode 0664, owner uid 0\)/, fix: 'chmod go-w /m/x.yaml' },
    { name: 'a 0646 file is refused: writable by others', mode: S_IFREG | 0o646, refused: /writable by others \(mode 0646, owner uid 0\)/, fix: 'chmod go-w /m/x.yaml' },
    { name: 'a 0666 file is refused: writable by both', mode: S_IFREG | 0o666, refused: /writable by group and others \(mode 0666/ },
    { name: 'a 0775 directory is refused', mode: S_IFDIR | 0o775, refused: /writable by group \(mode 0775/ },
    { name: 'a sticky 1777 directory is refused too', mode: S_IFDIR | 0o1777, refused: /mode 1777/ },
    { name: 'a file owned by another user is refused when root', mode: S_IFREG | 0o644, uid: 1000, refused: /owned by uid 1000, not root \(mode 0644, owner uid 1000\)/, fix: 'chown root /m/x.yaml' },
    { name: 'both problems give both fixes', mode: S_IFREG | 0o664, uid: 1000, refused: /owned by uid 1000, not root and writable by group/, fix: 'chown root /m/x.yaml && chmod go-w /m/x.yaml' },
    { name: 'not running as root, nothing is audited', mode: S_IFREG | 0o666, uid: 1000, policy: { ...asRoot, runningAsRoot: false } },
    { name: '--allow-insecure-manifests turns the audit off', mode: S_IFREG | 0o666, uid: 1000, policy: { ...asRoot, allowInsecure: true } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = checkManifestPath('/m/x.yaml', { mode: c.mode, uid: c.uid ?? 0 }, 'manifest', c.policy ?? asRoot);
      if (!c.refused) {
        assert.equal(err, undefined);
        return;
      }
      assert.ok(err instanceof NodeletError);
      assert.equal(err.code, 'InsecureManifest');
      assert.match(err.message, c.refused);
      assert.equal(err.details.file, '/m/x.yaml');
      assert.ok(err.located.startsWith('/m/x.yaml: insecure manifest: '), err.located);
      assert.ok(!err.located.includes('\n'), 'one line');
      if (c.fix) {
        assert.equal(err.details.fix, c.fix);
        assert.ok(err.message.endsWith(`fix: ${c.fix}`), err.message);
      }
    });
  }

  it('quotes a path with spaces in the fix', () => {
    const err = checkManifestPath("/m/it's a pod.yaml", { mode: S_IFREG | 0o664, uid: 0 }, 'manifest', asRoot);
    assert.equal(err?.details.fix, `chmod go-w '/m/it'\\''s a pod.yaml'`);
  });

  it('names another required owner by uid (tests inject their own)', () => {
    const err = checkManifestPath('/m/x.yaml', { mode: S_IFREG | 0o644, uid: 0 }, 'manifest', { ...asRoot, ownerUid: 1234 });
    assert.match(err!.message, /owned by uid 0, not uid 1234.*fix: chown 1234 \/m\/x\.yaml/);
  });

  it('formats modes as chmod takes them', () => {
    assert.equal(octalMode(S_IFREG | 0o644), '0644');
    assert.equal(octalMode(S_IFDIR | 0o1777), '1777');
  });

  it('audits this process only when it runs as root', () => {
    assert.deepEqual(processAuditPolicy(false), { runningAsRoot: process.getuid?.() === 0, ownerUid: 0, allowInsecure: false });
    assert.equal(processAuditPolicy(true).allowInsecure, true);
  });
});

describe('auditing real files', () => {
  // Owned by whoever runs the tests: so the mode checks work as root and as anyone else.
  const policy: ManifestAuditPolicy = { runningAsRoot: true, ownerUid: process.getuid?.() ?? 0, allowInsecure: false };
  const root = mkdtempSync(path.join(tmpdir(), 'nodelet-audit-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let seq = 0;
  /** A fresh 0755 manifest directory. */
  const dir = () => {
    const d = path.join(root, `m${++seq}`);
    mkdirSync(d);
    chmodSync(d, 0o755);
    return d;
  };
  const file = (p: string, mode: number) => {
    writeFileSync(p, 'x');
    chmodSync(p, mode);
    return p;
  };

  const cases: { name: string; build: (d: string) => string; refused?: (d: string) => string; message?: RegExp }[] = [
    { name: 'a 0644 file passes', build: (d) => file(path.join(d, 'a.yaml'), 0o644) },
    { name: 'a 0664 file is refused', build: (d) => file(path.join(d, 'a.yaml'), 0o664), refused: (d) => path.join(d, 'a.yaml'), message: /mode 0664/ },
    { name: 'a 0646 file is refused', build: (d) => file(path.join(d, 'a.yaml'), 0o646), refused: (d) => path.join(d, 'a.yaml'), message: /mode 0646/ },
    {
      name: 'a symlink to a 0666 file elsewhere is refused, naming the target',
      build: (d) => {
        const other = dir();
        file(path.join(other, 'real.yaml'), 0o666);
        symlinkSync(path.join(other, 'real.yaml'), path.join(d, 'a.yaml'));
        return path.join(d, 'a.yaml');
      },
      refused: () => path.join(root, `m${seq}`, 'real.yaml'),
      message: /insecure manifest \(the target of the symlink .*a\.yaml\): writable by group and others \(mode 0666/,
    },
    {
      name: 'a symlink to a 0644 file in a 0777 directory is refused, naming the directory',
      build: (d) => {
        const other = dir();
        chmodSync(other, 0o777);
        file(path.join(other, 'real.yaml'), 0o644);
        symlinkSync(path.join(other, 'real.yaml'), path.join(d, 'a.yaml'));
        return path.join(d, 'a.yaml');
      },
      refused: () => path.join(root, `m${seq}`),
      message: /insecure directory of the manifest .*a\.yaml: writable by group and others \(mode 0777/,
    },
    {
      name: 'the ..data pattern passes when everything is 0755/0644',
      build: (d) => {
        mkdirSync(path.join(d, '..2026_1'), { mode: 0o755 });
        file(path.join(d, '..2026_1', 'a.yaml'), 0o644);
        symlinkSync('..2026_1', path.join(d, '..data'));
        symlinkSync('..data/a.yaml', path.join(d, 'a.yaml'));
        return path.join(d, 'a.yaml');
      },
    },
    {
      name: 'the ..data pattern with a group-writable file is refused',
      build: (d) => {
        mkdirSync(path.join(d, '..2026_1'), { mode: 0o755 });
        file(path.join(d, '..2026_1', 'a.yaml'), 0o664);
        symlinkSync('..2026_1', path.join(d, '..data'));
        symlinkSync('..data/a.yaml', path.join(d, 'a.yaml'));
        return path.join(d, 'a.yaml');
      },
      refused: (d) => path.join(d, '..2026_1', 'a.yaml'),
      message: /mode 0664/,
    },
    {
      name: 'the ..data pattern with a group-writable timestamped directory is refused',
      build: (d) => {
        mkdirSync(path.join(d, '..2026_1'));
        chmodSync(path.join(d, '..2026_1'), 0o775);
        file(path.join(d, '..2026_1', 'a.yaml'), 0o644);
        symlinkSync('..2026_1', path.join(d, '..data'));
        symlinkSync('..data/a.yaml', path.join(d, 'a.yaml'));
        return path.join(d, 'a.yaml');
      },
      refused: (d) => path.join(d, '..2026_1'),
      message: /mode 0775/,
    },
    { name: 'a missing file is left to the read to report', build: (d) => path.join(d, 'gone.yaml') },
    {
      name: 'a symlink loop is left to the read to report',
      build: (d) => {
        symlinkSync('b.yaml', path.join(d, 'a.yaml'));
        symlinkSync('a.yaml', path.join(d, 'b.yaml'));
        return path.join(d, 'a.yaml');
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = dir();
      const f = c.build(d);
      const err = await auditManifestFile(f, policy);
      if (!c.refused) {
        assert.equal(err, undefined, err?.located);
        return;
      }
      assert.ok(err instanceof NodeletError, 'refused');
      assert.equal(err.code, 'InsecureManifest');
      assert.equal(err.details.file, c.refused(d));
      if (c.message) assert.match(err.message, c.message);
    });
  }

  it('refuses a 0775 manifest directory, and the files in it through their directory', async () => {
    const d = dir();
    file(path.join(d, 'a.yaml'), 0o644);
    chmodSync(d, 0o775);
    const err = await auditManifestDir(d, policy);
    assert.equal(err?.details.file, d);
    assert.match(err!.located, /insecure manifest directory: writable by group \(mode 0775, owner uid \d+\);.* fix: chmod go-w /);
    assert.equal((await auditManifestFile(path.join(d, 'a.yaml'), policy))?.details.file, d);
    chmodSync(d, 0o755);
    assert.equal(await auditManifestDir(d, policy), undefined);
  });

  it('names the real directory of a symlinked static pod path', async () => {
    const d = dir();
    chmodSync(d, 0o770);
    const link = path.join(root, `link${++seq}`);
    symlinkSync(d, link);
    const err = await auditManifestDir(link, policy);
    assert.equal(err?.details.file, d);
    assert.match(err!.message, /manifest directory \(the target of .*link\d+\)/);
  });

  it('does not check an audited directory again', async () => {
    const d = dir();
    const f = file(path.join(d, 'a.yaml'), 0o644);
    chmodSync(d, 0o777);
    assert.ok(await auditManifestFile(f, policy));
    assert.equal(await auditManifestFile(f, policy, { path: d, real: d }), undefined);
  });

  it('passes everything with --allow-insecure-manifests', async () => {
    const d = dir();
    chmodSync(d, 0o777);
    const f = file(path.join(d, 'a.yaml'), 0o666);
    const off = { ...policy, allowInsecure: true };
    assert.equal(await auditManifestDir(d, off), undefined);
    assert.equal(await auditManifestFile(f, off), undefined);
  });

  it('refuses a file owned by another user when running as root', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
    const d = dir();
    const f = file(path.join(d, 'a.yaml'), 0o644);
    chownSync(f, 1000, 1000);
    const err = await auditManifestFile(f, asRoot);
    assert.match(err!.located, /owned by uid 1000, not root \(mode 0644, owner uid 1000\).*fix: chown root /);
  });
});

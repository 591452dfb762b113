import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NodeletError } from '../../errors.js';
import { parseTokenFile, readTokenFile } from './token-file.js';

describe('parseTokenFile (kube-apiserver --token-auth-file format)', () => {
  it('reads token, user, uid and the quoted group list, skipping blank lines and # comments', () => {
    const { tokens, warnings } = parseTokenFile(
      '\uFEFF# token,user,uid,"groups"\r\ns3cr3t,alice,1001,"admins,devs"\n\nt2,bob,1002\nt3,"carol, the ""admin""",1003,ops\n',
      '/t.csv',
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(Object.fromEntries(tokens), {
      s3cr3t: { name: 'alice', uid: '1001', groups: ['admins', 'devs'] },
      t2: { name: 'bob', uid: '1002', groups: [] },
      t3: { name: 'carol, the "admin"', uid: '1003', groups: ['ops'] },
    });
  });

  it('skips an empty token and lets a later duplicate win, with a warning each, as the API server does', () => {
    const { tokens, warnings } = parseTokenFile(',nobody,0\nt,first,1\nt,second,2\n', '/t.csv');
    assert.deepEqual([...tokens.keys()], ['t']);
    assert.equal(tokens.get('t')!.name, 'second');
    assert.deepEqual(warnings, ['/t.csv:1: empty token in record 1: skipped', '/t.csv:3: duplicate token in record 3: it replaces the earlier one']);
  });

  it('refuses a line with fewer than three columns or broken quoting, naming the line', () => {
    assert.throws(() => parseTokenFile('ok,a,1\njust-a-token\n', '/t.csv'), /^Error: \/t\.csv:2: a token file line must have at least 3 columns \(token, user name, user uid\), found 1$/);
    assert.throws(() => parseTokenFile('t,"a,1\n', '/t.csv'), /\/t\.csv:1: a quoted field is not closed/);
    assert.throws(() => parseTokenFile('t,a"b,1\n', '/t.csv'), /\/t\.csv:1: a bare " in a field/);
    assert.throws(() => parseTokenFile('t,"a"b,1\n', '/t.csv'), /\/t\.csv:1: extraneous characters after a quoted field/);
  });

  it('reports a missing or bad file as InvalidConfig naming the flag', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-tokens-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'tokens.csv');
    const invalid = (re: RegExp) => (err: unknown) => err instanceof NodeletError && err.code === 'InvalidConfig' && re.test(err.message);
    await assert.rejects(readTokenFile(file), invalid(/^--token-auth-file=.*tokens\.csv: cannot read: ENOENT$/));
    writeFileSync(file, 'x\n');
    await assert.rejects(readTokenFile(file), invalid(/^--token-auth-file=.*tokens\.csv:1: a token file line must have at least 3 columns/));
    writeFileSync(file, 'x,u,1\n');
    assert.equal((await readTokenFile(file)).tokens.get('x')?.name, 'u');
  });
});

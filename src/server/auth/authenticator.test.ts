import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createAuthenticator } from './authenticator.js';

// A request over plain TCP: client certificates are covered by secure-port.test.ts over real TLS.
function req(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization }, socket: new Socket() } as unknown as IncomingMessage;
}

const tokens = new Map([['s3cr3t', { name: 'alice', uid: '1001', groups: ['admins'] }]]);

describe('createAuthenticator (the kubelet’s union of x509 and token, then anonymous)', () => {
  it('authenticates a known bearer token, adding system:authenticated', () => {
    const auth = createAuthenticator({ x509: true, tokens, anonymous: false });
    assert.deepEqual(auth(req('Bearer s3cr3t')), { user: { name: 'alice', uid: '1001', groups: ['admins', 'system:authenticated'] }, method: 'token' });
    assert.deepEqual(auth(req('  bearer s3cr3t  ')), auth(req('Bearer s3cr3t')));
  });

  it('refuses no credentials, another scheme or an empty token when anonymous requests are off', () => {
    const auth = createAuthenticator({ x509: true, tokens, anonymous: false });
    for (const h of [undefined, '', 'Basic YWxpY2U6eA==', 'Bearer', 'Bearer  s3cr3t']) assert.deepEqual(auth(req(h)), { refused: 'no credentials' }, String(h));
  });

  it('refuses a wrong token even when anonymous requests are on (a wrong credential is never anonymous)', () => {
    for (const anonymous of [false, true]) {
      assert.deepEqual(createAuthenticator({ x509: false, tokens, anonymous })(req('Bearer nope')), { refused: 'invalid bearer token' });
    }
  });

  it('serves a request without credentials as system:anonymous when anonymous requests are on', () => {
    const auth = createAuthenticator({ x509: true, anonymous: true });
    const anon = { user: { name: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] }, method: 'anonymous' };
    assert.deepEqual(auth(req()), anon);
    // Without a token file a bearer token is no credential of a kind this port knows.
    assert.deepEqual(auth(req('Bearer s3cr3t')), anon);
  });
});

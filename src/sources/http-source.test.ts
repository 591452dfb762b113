import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPlainHttpToRemote } from './http-source.js';

describe('isPlainHttpToRemote', () => {
  const cases: [string, boolean][] = [
    ['http://10.0.0.5/pods', true],
    ['http://manifests.example.com/pods', true],
    ['http://[2001:db8::1]:8080/pods', true],
    ['https://manifests.example.com/pods', false],
    ['http://127.0.0.1:8080/pods', false],
    ['http://127.1.2.3/pods', false],
    ['http://localhost/pods', false],
    ['http://LOCALHOST:80/pods', false],
    ['http://[::1]:8080/pods', false],
    ['http://[::ffff:127.0.0.1]/pods', false],
    ['not a url', false],
  ];
  for (const [url, warned] of cases) {
    it(`${url} → ${warned ? 'warned' : 'not warned'}`, () => assert.equal(isPlainHttpToRemote(url), warned));
  }
});

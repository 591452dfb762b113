import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHealthzTarget, isKubeApiTarget, parseRequestTarget } from './request-target.js';

test('a plain target is split into decoded segments, repeated and trailing slashes dropped', () => {
  const t = parseRequestTarget('//api/v1//namespaces/kube-system/pods/?watch=true&labelSelector=app%3Dweb');
  assert.ok('segments' in t);
  assert.deepEqual(t.segments, ['api', 'v1', 'namespaces', 'kube-system', 'pods']);
  assert.equal(t.path, '/api/v1/namespaces/kube-system/pods');
  assert.equal(t.url.searchParams.get('labelSelector'), 'app=web');
  assert.equal(t.url.host, 'nodelet', 'a leading // is no host');
});

test('segments are decoded once: a double-encoded dot stays a literal %2e', () => {
  const t = parseRequestTarget('/containerLogs/%252e%252e/p/c');
  assert.ok('segments' in t);
  assert.deepEqual(t.segments, ['containerLogs', '%2e%2e', 'p', 'c']);
});

test('unicode segments pass (no route matches them later)', () => {
  const t = parseRequestTarget('/pods/%E2%9C%93');
  assert.ok('segments' in t);
  assert.deepEqual(t.segments, ['pods', '✓']);
});

const refused: Array<[string, string]> = [
  ['/containerLogs/..%2f..%2fetc/passwd', 'encoded slash'],
  ['/api/v1/namespaces/..%2F/pods/x/log', 'encoded slash, upper case'],
  ['/containerLogs/default/../../etc/passwd', 'dot-dot segment'],
  ['/containerLogs/%2e%2e/%2E%2e/etc/passwd', 'encoded dot-dot segment'],
  ['/containerLogs/./x/y', 'dot segment'],
  ['/containerLogs/%2e/x/y', 'encoded dot segment'],
  ['/containerLogs/a\\..\\..\\etc/x/y', 'backslash'],
  ['/containerLogs/a%5c..%5cetc/x/y', 'encoded backslash'],
  ['/containerLogs/default%00/x/y', 'encoded NUL'],
  ['/containerLogs/default\u0000/x/y', 'raw NUL'],
  ['/containerLogs/%0d%0aSet-Cookie:x/y/z', 'encoded CR LF'],
  ['/pods/%zz', 'malformed percent-encoding'],
  ['/pods/%E2%9C', 'truncated UTF-8'],
  ['/pods#frag', 'fragment'],
  ['http://evil/healthz', 'absolute form'],
  ['*', 'asterisk form'],
  ['', 'empty'],
];

for (const [raw, why] of refused) {
  test(`refused: ${why} (${JSON.stringify(raw)})`, () => {
    const t = parseRequestTarget(raw);
    assert.ok('refused' in t, `${raw} was accepted`);
  });
}

test('API targets and /healthz targets are told apart on the raw target', () => {
  assert.equal(isKubeApiTarget('/api/v1/namespaces/..%2F/pods'), true);
  assert.equal(isKubeApiTarget('//apis'), true);
  assert.equal(isKubeApiTarget('/version?x'), true);
  assert.equal(isKubeApiTarget('/apix'), false);
  assert.equal(isKubeApiTarget('/containerLogs/a/b/c'), false);
  assert.equal(isHealthzTarget('/healthz'), true);
  assert.equal(isHealthzTarget('/healthz/syncloop?verbose'), true);
  assert.equal(isHealthzTarget('/healthzz'), false);
  assert.equal(isHealthzTarget('/pods'), false);
});

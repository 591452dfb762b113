import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigSeenAnnotation, type Pod } from '../api/types.js';
import { resolvePod } from './resolve-pod.js';

function pod(ns: string, name: string, uid: string, seen = '2026-11-26T00:00:00Z'): Pod {
  return { metadata: { namespace: ns, name, uid, annotations: { [ConfigSeenAnnotation]: seen } }, spec: { nodeName: 'n1', containers: [] } };
}

test('a manifest name finds its static pod by the node suffix', () => {
  assert.equal(resolvePod([pod('default', 'web-n1', 'a')], 'web', undefined).metadata?.uid, 'a');
});

test('while an edited pod stops, its name means the new version, with or without -n', () => {
  const old = pod('default', 'slow-n1', 'old', '2026-11-26T00:00:00Z');
  const edited = pod('default', 'slow-n1', 'new', '2026-11-26T00:00:05Z');
  assert.equal(resolvePod([old, edited], 'slow', 'default').metadata?.uid, 'new');
  assert.equal(resolvePod([edited, old], 'slow', undefined).metadata?.uid, 'new');
  assert.equal(resolvePod([old, edited], 'slow-n1', undefined).metadata?.uid, 'new');
});

test('the same name in two namespaces needs -n, and the error names both', () => {
  const pods = [pod('default', 'web-n1', 'a'), pod('kube-system', 'web-n1', 'b')];
  assert.throws(() => resolvePod(pods, 'web', undefined), /ambiguous \(default\/web-n1, kube-system\/web-n1\)/);
  assert.equal(resolvePod(pods, 'web', 'kube-system').metadata?.uid, 'b');
});

test('an unknown pod is NotFound, naming the namespace asked', () => {
  assert.throws(() => resolvePod([pod('default', 'web-n1', 'a')], 'db', 'prod'), /pod db not found in namespace prod/);
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.js';
import { decodePods } from './decode.js';
import { canonicalJSON, staticPodUID } from './uid.js';

const pod = (): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { b: '2', a: '1' } }, spec: { containers: [{ name: 'web' }] } });
const decodeOne = (text: string): Pod => {
  const r = decodePods(text, 'f', { allowList: false });
  assert.ok(r.ok);
  return r.pods[0]!.pod;
};

describe('canonicalJSON', () => {
  it('sorts keys at every level and drops undefined members', () => {
    assert.equal(canonicalJSON({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } }), '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}');
  });
  it('renders scalars as JSON does', () => {
    assert.equal(canonicalJSON('a"b'), '"a\\"b"');
    assert.equal(canonicalJSON(1.5), '1.5');
    assert.equal(canonicalJSON([undefined]), '[null]');
  });
});

describe('staticPodUID', () => {
  it('is 32 hex digits and stable', () => {
    const uid = staticPodUID(pod(), 'node-1', 'file', '/m/web.yaml');
    assert.match(uid, /^[0-9a-f]{32}$/);
    assert.equal(staticPodUID(pod(), 'node-1', 'file', '/m/web.yaml'), uid);
  });

  it('does not depend on key order, whitespace, or YAML versus JSON', () => {
    const a = decodeOne('apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {a: "1", b: "2"}\nspec:\n  containers:\n  - name: web\n');
    const b = decodeOne('{"spec":{"containers":[{"name":"web"}]},"metadata":{"labels":{"b":"2","a":"1"},"name":"web"},\n\n "kind":"Pod","apiVersion":"v1"}');
    const c = decodeOne('# comment\nkind:    Pod\napiVersion: "v1"\nspec: {containers: [{name: web}]}\nmetadata: {labels: {b: "2", a: "1"}, name: web}\n');
    const uid = staticPodUID(a, 'n', 'file', '/m/web.yaml');
    assert.equal(staticPodUID(b, 'n', 'file', '/m/web.yaml'), uid);
    assert.equal(staticPodUID(c, 'n', 'file', '/m/web.yaml'), uid);
    assert.equal(staticPodUID(pod(), 'n', 'file', '/m/web.yaml'), uid);
  });

  it('changes with any content change', () => {
    const base = staticPodUID(pod(), 'n', 'file', '/m/web.yaml');
    const changed = pod();
    changed.spec!.containers[0]!.image = 'nginx';
    assert.notEqual(staticPodUID(changed, 'n', 'file', '/m/web.yaml'), base);
    const relabelled = pod();
    relabelled.metadata!.labels!.a = '2';
    assert.notEqual(staticPodUID(relabelled, 'n', 'file', '/m/web.yaml'), base);
  });

  it('changes with the node, the path, and file versus url', () => {
    const base = staticPodUID(pod(), 'n', 'file', '/m/web.yaml');
    assert.notEqual(staticPodUID(pod(), 'other', 'file', '/m/web.yaml'), base);
    assert.notEqual(staticPodUID(pod(), 'n', 'file', '/m/other.yaml'), base);
    assert.notEqual(staticPodUID(pod(), 'n', 'http', '/m/web.yaml'), base);
  });
});

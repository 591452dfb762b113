import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeManifest } from './decode.js';
import { parseFieldPath } from './locate.js';
import { yaml } from './testing.js';

describe('parseFieldPath', () => {
  it('splits fields, indexes and bracketed keys', () => {
    assert.deepEqual(parseFieldPath('spec.containers[1].ports[0].name'), [
      { key: 'spec' }, { key: 'containers' }, { index: 1 }, { key: 'ports' }, { index: 0 }, { key: 'name' },
    ]);
    assert.deepEqual(parseFieldPath('metadata.labels[app.kubernetes.io/name]'), [
      { key: 'metadata' }, { key: 'labels' }, { key: 'app.kubernetes.io/name' },
    ]);
    assert.deepEqual(parseFieldPath(''), []);
  });
});

describe('createLocator', () => {
  const text = yaml`
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      labels: {app.kubernetes.io/name: web}
    spec:
      containers:
      - name: a
      - name: b
        env: &env
        - {name: X, value: "1"}
      - name: c
        env: *env
      volumes:
  `;
  const res = decodeManifest(text, 'f');
  assert.ok(res.ok);
  const locate = res.objects[0]!.locate;

  it('finds scalars at their value', () => {
    assert.deepEqual(locate('metadata.name'), { line: 4, column: 9 });
    assert.deepEqual(locate('spec.containers[1].name'), { line: 9, column: 11 });
    assert.deepEqual(locate('metadata.labels[app.kubernetes.io/name]'), { line: 5, column: 36 });
  });
  it('finds block collections at their key, flow collections at their bracket', () => {
    assert.deepEqual(locate('spec.containers'), { line: 7, column: 3 });
    assert.deepEqual(locate('metadata.labels'), { line: 5, column: 11 });
  });
  it('finds list items at their first character', () => {
    assert.deepEqual(locate('spec.containers[2]'), { line: 12, column: 5 });
  });
  it('follows aliases to their anchor', () => {
    assert.deepEqual(locate('spec.containers[2].env[0].name'), { line: 11, column: 14 });
  });
  it('points a missing field at its nearest ancestor', () => {
    assert.deepEqual(locate('spec.containers[1].image'), { line: 9, column: 5 });
    assert.deepEqual(locate('spec.containers[7].name'), { line: 7, column: 3 });
    assert.deepEqual(locate('spec.hostNetwork'), { line: 6, column: 1 });
    assert.deepEqual(locate('status.phase'), { line: 1, column: 1 });
  });
  it('points an empty value at its key', () => {
    assert.deepEqual(locate('spec.volumes'), { line: 14, column: 3 });
  });
  it('looks up every key of a 30,000-key map in linear time', () => {
    const n = 30_000;
    const big = decodeManifest(Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n'), 'f');
    assert.ok(big.ok);
    const started = performance.now();
    for (let i = 0; i < n; i += 1) assert.equal(big.objects[0]!.locate(`k${i}`)?.line, i + 1);
    // A scan of the map per lookup took about 5 s here.
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });
});

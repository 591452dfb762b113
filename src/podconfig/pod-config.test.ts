import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { PodConfig } from './pod-config.js';

const pod = (name: string, uid: string, file = `/m/${name}.yaml`, labels?: Record<string, string>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid, labels, annotations: { 'nodelet.io/config.file': file } },
  spec: { containers: [{ name: 'c', command: ['true'] }] },
});
const ops = (r: { operations: { op: string; pod: Pod }[] }) => r.operations.map((o) => `${o.op} ${o.pod.metadata!.uid}`);

test('a new pod is added, a vanished pod removed', () => {
  const c = new PodConfig();
  assert.deepEqual(ops(c.apply('file', [pod('a', '1')])), ['ADD 1']);
  assert.deepEqual(ops(c.apply('file', [pod('a', '1')])), []);
  assert.deepEqual(ops(c.apply('file', [])), ['REMOVE 1']);
});

test('an edit is the old pod removed and the new one added, removals first', () => {
  const c = new PodConfig();
  c.apply('file', [pod('a', '1')]);
  assert.deepEqual(ops(c.apply('file', [pod('a', '2')])), ['REMOVE 1', 'ADD 2']);
});

test('a label change with the same UID is an update', () => {
  const c = new PodConfig();
  c.apply('file', [pod('a', '1')]);
  assert.deepEqual(ops(c.apply('file', [pod('a', '1', '/m/a.yaml', { x: 'y' })])), ['UPDATE 1']);
});

test('two pods with one name: the first wins and the other is reported', () => {
  const c = new PodConfig();
  const r = c.apply('file', [pod('a', '1', '/m/1.yaml'), pod('a', '2', '/m/2.yaml')]);
  assert.deepEqual(ops(r), ['ADD 1']);
  assert.equal(r.duplicates.length, 1);
  assert.equal(r.duplicates[0]!.keptFrom, '/m/1.yaml');
});

test('a running pod keeps its name against a newcomer that sorts first', () => {
  const c = new PodConfig();
  c.apply('file', [pod('a', '2', '/m/2.yaml')]);
  const r = c.apply('file', [pod('a', '1', '/m/1.yaml'), pod('a', '2', '/m/2.yaml')]);
  assert.deepEqual(ops(r), []);
  assert.equal(r.duplicates[0]!.pod.metadata!.uid, '1');
});

test('the loser takes over once the winner goes', () => {
  const c = new PodConfig();
  c.apply('file', [pod('a', '1', '/m/1.yaml'), pod('a', '2', '/m/2.yaml')]);
  assert.deepEqual(ops(c.apply('file', [pod('a', '2', '/m/2.yaml')])), ['REMOVE 1', 'ADD 2']);
});

test('sources are independent', () => {
  const c = new PodConfig();
  c.apply('file', [pod('a', '1')]);
  assert.deepEqual(ops(c.apply('http', [pod('b', '2')])), ['ADD 2']);
  assert.deepEqual(ops(c.apply('http', [])), ['REMOVE 2']);
  assert.equal(c.pods().length, 1);
});

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ContainerConfig, ContainerInfo } from '../types.js';
import { CheckpointStore } from './checkpoint-store.js';

const root = mkdtempSync(path.join(tmpdir(), 'nodelet-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, String(n++));

const info = (id: string, state: ContainerInfo['state'] = 'running'): ContainerInfo => ({
  id, sandboxId: 'sb', name: 'main', attempt: 0, state, image: '', createdAt: 1, startedAt: 2, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '/l', pid: 42,
});
const config: ContainerConfig = { name: 'main', attempt: 0, image: '', command: ['sleep'], args: ['1'], env: [], workingDir: '', logPath: 'main/0.log', labels: {}, annotations: {} };

test('records written are loaded back, the last write of a record winning', async () => {
  const store = new CheckpointStore(freshDir());
  await store.saveSandbox({ info: { id: 'sb', uid: 'u', name: 'p', namespace: 'default', attempt: 0, ready: true, createdAt: 1, logDirectory: '/l', annotations: {} }, config: { uid: 'u', name: 'p', namespace: 'default', attempt: 0, logDirectory: '/l', hostname: '', hostNetwork: true, labels: {}, annotations: {} } });
  void store.saveContainer({ info: info('c1'), config, pidStartTime: '100' });
  void store.saveContainer({ info: info('c1', 'exited'), config, pidStartTime: '100' });
  await store.flush();
  const loaded = await store.load();
  assert.deepEqual(loaded.problems, []);
  assert.equal(loaded.sandboxes[0]!.info.uid, 'u');
  assert.equal(loaded.containers.length, 1);
  assert.equal(loaded.containers[0]!.info.state, 'exited');
  assert.equal(loaded.containers[0]!.pidStartTime, '100');
});

test('a deleted record is gone, and deleting one never written is not an error', async () => {
  const store = new CheckpointStore(freshDir());
  await store.saveContainer({ info: info('c1'), config });
  await store.deleteContainer('c1');
  await store.deleteContainer('never');
  assert.deepEqual((await store.load()).containers, []);
});

test('a damaged record is set aside and named; the others load; a temp file left by a crash is removed', async () => {
  const dir = freshDir();
  const store = new CheckpointStore(dir);
  await store.saveContainer({ info: info('good'), config });
  const containers = path.join(dir, 'containers');
  writeFileSync(path.join(containers, 'cut.json'), '{"version":1,"info":{"id":"cu');
  writeFileSync(path.join(containers, 'old.json'), JSON.stringify({ version: 0, info: info('old'), config }));
  writeFileSync(path.join(containers, 'good.json.1a2b3c4d.tmp'), 'half');
  mkdirSync(path.join(dir, 'sandboxes'), { recursive: true });
  const loaded = await store.load();
  assert.deepEqual(loaded.containers.map((c) => c.info.id), ['good']);
  assert.equal(loaded.problems.length, 2);
  assert.match(loaded.problems.join('\n'), /cut\.json: .*JSON/);
  assert.match(loaded.problems.join('\n'), /old\.json: not a version 1 container checkpoint/);
  assert.deepEqual(readdirSync(containers).sort(), ['cut.json.corrupt', 'good.json', 'old.json.corrupt']);
  assert.equal(existsSync(path.join(containers, 'good.json.1a2b3c4d.tmp')), false);
});

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NodeletError } from '../errors.js';
import { INVALID_LOG_PATH, containerLogDir, containerLogPath, listContainerLogFiles, removePodLogs } from './paths.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'nodelet-logs-paths-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const invalid = (err: unknown) => err instanceof NodeletError && err.code === INVALID_LOG_PATH;

describe('log paths', () => {
  it('follow the kubelet layout', () => {
    assert.equal(containerLogDir('/var/log/pods', 'kube-system', 'etcd-n1', 'abc123', 'etcd'), '/var/log/pods/kube-system_etcd-n1_abc123/etcd');
    assert.equal(
      containerLogPath('/var/log/pods', 'kube-system', 'etcd-n1', 'abc123', 'etcd', 3),
      '/var/log/pods/kube-system_etcd-n1_abc123/etcd/3.log',
    );
  });

  it('refuse names that would leave the pod log directory', () => {
    assert.throws(() => containerLogDir('/p', '..', 'x', 'u', 'c'), invalid);
    assert.throws(() => containerLogDir('/p', 'ns', 'x', 'u', '../../etc'), invalid);
    assert.throws(() => containerLogDir('/p', 'ns', '', 'u', 'c'), invalid);
    assert.throws(() => containerLogPath('/p', 'ns', 'x', 'u', 'c', -1), invalid);
    assert.throws(() => containerLogPath('/p', 'ns', 'x', 'u', 'c', 1.5), invalid);
  });
});

describe('listContainerLogFiles', () => {
  it('lists restart-count files in numeric order, without rotations', async () => {
    const dir = join(root, 'list');
    mkdirSync(dir);
    for (const name of ['10.log', '2.log', '0.log', '2.log.20260101-000000', '2.log.20260101-000000.gz', 'x.log', '01.log']) {
      writeFileSync(join(dir, name), '');
    }
    assert.deepEqual(await listContainerLogFiles(dir), [
      { restartCount: 0, path: join(dir, '0.log') },
      { restartCount: 2, path: join(dir, '2.log') },
      { restartCount: 10, path: join(dir, '10.log') },
    ]);
  });

  it('finds nothing in a missing directory', async () => {
    assert.deepEqual(await listContainerLogFiles(join(root, 'nope')), []);
  });
});

describe('removePodLogs', () => {
  it('removes the pod directory, and a missing one is fine', async () => {
    const dir = containerLogDir(root, 'default', 'web', 'uid1', 'app');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0.log'), 'x');
    await removePodLogs(root, 'default', 'web', 'uid1');
    assert.equal(existsSync(join(root, 'default_web_uid1')), false);
    await removePodLogs(root, 'default', 'web', 'uid1');
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { containerMounts, createVolumeManager } from './volume-manager.js';

const node = { nodeName: 'n', hostIP: '10.0.0.1', podIP: '10.0.0.1', memoryCapacityBytes: 1, hostDns: { servers: [], searches: [], options: [] } };

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nodelet-volumes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('emptyDir and downwardAPI live under the pod dir; subPath is created inside the volume; teardown removes them', async (t) => {
  const root = await tempDir(t);
  const vm = createVolumeManager(root, node);
  const pod = {
    metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
    spec: {
      containers: [{ name: 'a', volumeMounts: [{ name: 'scratch', mountPath: '/scratch', subPath: 'sub/dir' }, { name: 'info', mountPath: '/info', readOnly: true }] }],
      volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }],
    },
  } as Pod;
  const volumes = await vm.setUp(pod);
  const info = volumes.get('info')!;
  assert.equal(await readFile(path.join(info, 'labels'), 'utf8'), 'app="web"');
  assert.equal(await readFile(path.join(info, 'name'), 'utf8'), 'web');
  const mounts = await containerMounts(pod.spec!.containers[0]!, volumes);
  assert.deepEqual(mounts.map((m) => [m.containerPath, path.relative(root, m.hostPath), m.readonly]), [
    ['/scratch', 'pods/u1/volumes/kubernetes.io~empty-dir/scratch/sub/dir', false],
    ['/info', 'pods/u1/volumes/kubernetes.io~downward-api/info', true],
  ]);
  assert.ok((await stat(mounts[0]!.hostPath)).isDirectory());

  pod.metadata!.labels = { app: 'web', tier: 'front' };
  await vm.setUp(pod);
  assert.equal(await readFile(path.join(info, 'labels'), 'utf8'), 'app="web"\ntier="front"');

  await vm.tearDown('u1');
  await assert.rejects(stat(path.join(root, 'pods', 'u1')));
});

test('hostPath types are checked: DirectoryOrCreate creates, Directory and File must match', async (t) => {
  const root = await tempDir(t);
  const vm = createVolumeManager(root, node);
  const made = path.join(root, 'host', 'made');
  const file = path.join(root, 'file');
  await writeFile(file, 'x');
  const pod = (volumes: NonNullable<Pod['spec']>['volumes']) => ({ metadata: { name: 'p', uid: 'u2' }, spec: { containers: [], volumes } }) as Pod;
  const v = await vm.setUp(pod([{ name: 'a', hostPath: { path: made, type: 'DirectoryOrCreate' } }, { name: 'b', hostPath: { path: file, type: 'File' } }]));
  assert.equal(v.get('a'), made);
  assert.ok((await stat(made)).isDirectory());
  await assert.rejects(vm.setUp(pod([{ name: 'c', hostPath: { path: file, type: 'Directory' } }])), /volume "c" : hostPath type check failed: .*file is not a directory/);
  await assert.rejects(vm.setUp(pod([{ name: 'd', hostPath: { path: path.join(root, 'missing'), type: 'File' } }])), /does not exist/);
});

test('a subPath that climbs out of its volume is refused', async () => {
  await assert.rejects(
    containerMounts({ name: 'a', volumeMounts: [{ name: 'v', mountPath: '/x', subPath: '../../etc' }] }, new Map([['v', '/tmp/vol']])),
    /subPath \.\.\/\.\.\/etc leaves volume "v"/,
  );
});

test('emptyDir medium Memory is a tmpfs of sizeLimit that refuses writes past it, unmounted at teardown', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('mounting a tmpfs needs root');
  const root = await tempDir(t);
  const vm = createVolumeManager(root, node);
  const pod = {
    metadata: { name: 'cache', namespace: 'default', uid: 'u3' },
    spec: { containers: [{ name: 'a' }], volumes: [{ name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }] },
  } as Pod;
  const dir = (await vm.setUp(pod)).get('ram')!;
  const mounted = () => readFile('/proc/self/mountinfo', 'utf8').then((m) => m.split('\n').find((l) => l.split(' ')[4] === dir));
  assert.match((await mounted()) ?? '', / - tmpfs tmpfs .*size=1024k/);
  await vm.setUp(pod); // a second set-up (a restarted nodelet) does not stack a second tmpfs
  assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4] === dir).length, 1);
  await writeFile(path.join(dir, 'small'), Buffer.alloc(512 * 1024));
  await assert.rejects(writeFile(path.join(dir, 'big'), Buffer.alloc(2 * 1024 * 1024)), /ENOSPC/);
  await vm.tearDown('u3');
  assert.equal(await mounted(), undefined);
  await assert.rejects(stat(path.join(root, 'pods', 'u3')), /ENOENT/);
});

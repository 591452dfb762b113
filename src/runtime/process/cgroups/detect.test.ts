import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { NodeletError } from '../../../errors.js';
import { detectCgroups, parseProcCgroup } from './detect.js';
import { createFakeCgroup2Root } from './testing.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-cgroup-detect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function v1Tree(name: string, controllers: string[]): string {
  const root = path.join(dir, name);
  for (const c of controllers) {
    mkdirSync(path.join(root, c), { recursive: true });
    writeFileSync(path.join(root, c, 'cgroup.procs'), '');
  }
  return root;
}

test('/proc/<pid>/cgroup is read per controller, co-mounted and named hierarchies included', () => {
  const parsed = parseProcCgroup('12:pids:/a\n4:cpu,cpuacct:/b\n1:name=systemd:/user.slice\n0::/c\n');
  assert.equal(parsed.get('pids'), '/a');
  assert.equal(parsed.get('cpu'), '/b');
  assert.equal(parsed.get('cpuacct'), '/b');
  assert.equal(parsed.get('name=systemd'), '/user.slice');
  assert.equal(parsed.get(''), '/c');
});

test('a root with cgroup.controllers is cgroup v2, with the controllers nodelet uses that it offers', async () => {
  const root = path.join(dir, 'v2');
  await createFakeCgroup2Root(root, ['cpuset', 'cpu', 'io', 'memory', 'hugetlb']);
  assert.deepEqual(await detectCgroups({ root }), { version: 2, root, hierarchies: [{ controllers: ['cpu', 'memory'], mount: root }] });
});

test('cgroup v2 without the memory controller is refused with the reason', async () => {
  const root = path.join(dir, 'v2-nomem');
  await createFakeCgroup2Root(root, ['cpu', 'pids']);
  await assert.rejects(detectCgroups({ root }), (e: NodeletError) => e.code === 'CgroupsUnavailable' && /lacks the memory controller/.test(e.message));
});

test('cgroup v1: one hierarchy per mount, co-mounted cpu,cpuacct counted once, pids optional', async () => {
  const root = v1Tree('v1', ['memory', 'cpu,cpuacct']);
  symlinkSync('cpu,cpuacct', path.join(root, 'cpu'));
  symlinkSync('cpu,cpuacct', path.join(root, 'cpuacct'));
  const host = await detectCgroups({ root });
  assert.equal(host.version, 1);
  assert.deepEqual(host.hierarchies, [
    { controllers: ['memory'], mount: path.join(root, 'memory') },
    { controllers: ['cpu', 'cpuacct'], mount: path.join(root, 'cpu,cpuacct') },
  ]);
});

test('cgroup v1 without a memory hierarchy is refused, naming where it was looked for', async () => {
  const root = v1Tree('v1-nomem', ['cpu', 'cpuacct', 'pids']);
  await assert.rejects(detectCgroups({ root }), (e: NodeletError) => e.code === 'CgroupsUnavailable' && e.message.includes(path.join(root, 'memory')));
});

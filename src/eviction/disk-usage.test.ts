import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, lstat, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { diskUsage } from './disk-usage.js';

const MiB = 2 ** 20;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nodelet-du-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** What GNU du says (`-s -x -B1`: allocated bytes, one filesystem, hard links once). */
function du(dir: string): number {
  return Number(execFileSync('du', ['-s', '-x', '-B1', dir], { encoding: 'utf8' }).split('\t')[0]);
}

test('allocated blocks are summed as du does: sparse files count what they hold, hard links once, symlinks not followed', async (t) => {
  const root = await tempDir(t);
  const vol = path.join(root, 'vol');
  await mkdir(path.join(vol, 'a', 'b'), { recursive: true });
  await writeFile(path.join(vol, 'a', 'b', 'data'), Buffer.alloc(MiB, 7));
  await link(path.join(vol, 'a', 'b', 'data'), path.join(vol, 'hardlink'));
  const sparse = await open(path.join(vol, 'sparse'), 'w');
  await sparse.truncate(64 * MiB);
  await sparse.close();
  // A big file outside the volume, reached by a symlink: not the volume's usage.
  await writeFile(path.join(root, 'outside'), Buffer.alloc(4 * MiB, 1));
  await symlink(path.join(root, 'outside'), path.join(vol, 'link'));
  await symlink(root, path.join(vol, 'dirlink'));

  const u = await diskUsage(vol);
  assert.equal(u.partial, false);
  assert.equal(u.bytes, du(vol));
  assert.ok(u.bytes >= MiB && u.bytes < 2 * MiB, `1 MiB of data counted once, the sparse file and the link's target not: ${u.bytes}`);
  // vol, a, a/b, data (= hardlink), sparse, link, dirlink
  assert.equal(u.inodes, 7);
  const st = await lstat(path.join(vol, 'a', 'b', 'data'));
  assert.ok(u.bytes >= st.blocks * 512);
});

test('stopAbove ends the walk as soon as the total passes it', async (t) => {
  const vol = await tempDir(t);
  for (let i = 0; i < 50; i++) await writeFile(path.join(vol, `f${i}`), Buffer.alloc(64 * 1024, 1));
  const full = await diskUsage(vol);
  const early = await diskUsage(vol, { stopAbove: 256 * 1024 });
  assert.equal(early.partial, true);
  assert.ok(early.bytes > 256 * 1024 && early.bytes < full.bytes);
  assert.ok(early.inodes < full.inodes);
  const under = await diskUsage(vol, { stopAbove: full.bytes });
  assert.deepEqual(under, full);
});

test('a big tree is walked without holding up the event loop, and an abort stops it', async (t) => {
  const vol = await tempDir(t);
  for (let d = 0; d < 20; d++) {
    await mkdir(path.join(vol, `d${d}`));
    await Promise.all(Array.from({ length: 100 }, (_, i) => writeFile(path.join(vol, `d${d}`, `f${i}`), '')));
  }
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  t.after(() => clearInterval(ticker));
  const u = await diskUsage(vol, { yieldEvery: 32 });
  assert.equal(u.inodes, 1 + 20 + 2000);
  assert.ok(turns > 0, 'timers ran during the walk');

  const ac = new AbortController();
  const walk = diskUsage(vol, { signal: ac.signal });
  ac.abort();
  await assert.rejects(walk, { name: 'AbortError' });
});

test('a filesystem mounted inside the volume is not counted', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('mounting a tmpfs needs root');
  const vol = await tempDir(t);
  const inner = path.join(vol, 'mnt');
  await mkdir(inner);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', inner]);
  } catch (err) {
    return t.skip(`cannot mount a tmpfs here: ${(err as Error).message}`);
  }
  try {
    await writeFile(path.join(inner, 'big'), Buffer.alloc(4 * MiB, 1));
    const u = await diskUsage(vol);
    assert.ok(u.bytes < MiB, `the tmpfs's 4 MiB are not the volume's: ${u.bytes}`);
    assert.equal(u.bytes, du(vol));
  } finally {
    // Before the temp dir goes: rm would stop at the mount point (EBUSY).
    execFileSync('umount', ['-l', inner]);
  }
});

test('a missing directory is an error (no usage is not zero usage)', async (t) => {
  const vol = await tempDir(t);
  await assert.rejects(diskUsage(path.join(vol, 'missing')), { code: 'ENOENT' });
});

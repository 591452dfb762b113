/**
 * `emptyDir.medium: Memory` as a tmpfs, as the kubelet's empty_dir.go setupTmpfs does: mounted on the
 * volume's directory with `size=<sizeLimit>` when a limit is set (the kernel then refuses writes past
 * it), unmounted before the pod directory is removed. Mounting needs root; a nodelet without it keeps
 * a plain directory (docs/process-runtime.md says so).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NodeletError } from '../errors.js';
import { parseQuantity } from '../manifest/index.js';

const run = promisify(execFile);

/** Mounts a tmpfs on `dir` unless one is there already (a restarted nodelet sets volumes up again). */
export async function mountMemoryMedium(volume: string, dir: string, sizeLimit: string | number | undefined): Promise<void> {
  if (process.getuid?.() !== 0) return;
  if ((await mountPointsUnder(dir)).includes(path.resolve(dir))) return;
  const size = sizeLimit === undefined ? undefined : bytesOf(sizeLimit);
  const options = ['mode=1777', ...(size ? [`size=${size}`] : [])].join(',');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  } catch (err) {
    const why = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new NodeletError('FailedMount', `MountVolume.SetUp failed for volume "${volume}": cannot mount a tmpfs for medium Memory: ${why}`);
  }
}

/** Unmounts every mount below `dir` (deepest first), so that removing it removes only our files. */
export async function unmountAllUnder(dir: string): Promise<void> {
  // Only root mounts (mountMemoryMedium): without it there is nothing to look for.
  if (process.getuid?.() !== 0) return;
  const points = (await mountPointsUnder(dir)).sort((a, b) => b.length - a.length);
  for (const p of points) await run('umount', [p]).catch(() => run('umount', ['-l', p]));
}

/** Mount points at or below `dir`, from /proc/self/mountinfo (field 5, octal escapes decoded). */
async function mountPointsUnder(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point === root || point.startsWith(`${root}/`)) out.push(point);
  }
  return out;
}

function bytesOf(q: string | number): number | undefined {
  const parsed = parseQuantity(q);
  if (!parsed || parsed.num <= 0n) return undefined;
  return Number((parsed.num + parsed.den - 1n) / parsed.den);
}

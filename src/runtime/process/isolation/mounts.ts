import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, NodeletError } from '../../../errors.js';
import type { Mount } from '../../types.js';

/** Directories a sandbox gets fresh (bwrap `--dev`, `--proc`): nothing under them is the host's. */
const FRESH_DIRS = ['/dev', '/proc'];

/**
 * The mounts in the order they must be made: parents before children (by the number of path
 * components, as runc sorts them), so `/data/sub` lands inside `/data` and is not hidden by it.
 */
export function sortMounts(mounts: readonly Mount[]): Mount[] {
  const depth = (m: Mount) => path.resolve(m.containerPath).split('/').filter(Boolean).length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}

/**
 * Where `containerPath` is on the host, seen through `mounts` (the deepest mount containing it wins)
 * and the host root bound at `/`; undefined under /dev and /proc, which a sandbox gets fresh.
 */
export function hostPathOf(containerPath: string, mounts: readonly Mount[]): string | undefined {
  const p = path.resolve('/', containerPath);
  let best: Mount | undefined;
  for (const m of mounts) {
    const at = path.resolve('/', m.containerPath);
    if ((p === at || p.startsWith(`${at}/`)) && (!best || at.length > path.resolve('/', best.containerPath).length)) best = m;
  }
  if (best) return path.join(best.hostPath, path.relative(path.resolve('/', best.containerPath), p));
  if (FRESH_DIRS.some((d) => p === d || p.startsWith(`${d}/`))) return undefined;
  return p;
}

/**
 * What a plain host process cannot honour of these mounts: a volume seen at another path than where
 * it is on the host, and a read-only mount (nothing would stop a write). One line each.
 */
export function hostProcessMountProblems(mounts: readonly Mount[]): string[] {
  const out: string[] = [];
  for (const m of mounts) {
    const at = path.resolve('/', m.containerPath);
    if (at !== path.resolve('/', m.hostPath)) out.push(`a volume mounted at ${at} is ${m.hostPath} on this host`);
    else if (m.readonly) out.push(`the read-only mount at ${at} cannot be made read-only`);
  }
  return out;
}

/**
 * Creates on the host what a sandbox's mounts need: a missing source directory (as containerd does
 * for a hostPath), and each mount point, an empty directory or file where the host root has none.
 * bwrap would create mount points in the bound host root itself; doing it first keeps a read-only
 * root (which bwrap cannot create them in) working and turns a failure into a clear error.
 */
export async function prepareMountPoints(mounts: readonly Mount[]): Promise<void> {
  const sorted = sortMounts(mounts);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i]!;
    const fail = (what: string, err: unknown) =>
      new NodeletError('CreateContainerError', `cannot create ${what} of the volume mounted at ${m.containerPath}: ${errorMessage(err)}`, { cause: err });
    let source = await stat(m.hostPath).catch(() => undefined);
    if (!source) {
      try {
        await mkdir(m.hostPath, { recursive: true, mode: 0o755 });
      } catch (err) {
        throw fail(`the source ${m.hostPath}`, err);
      }
      source = await stat(m.hostPath);
    }
    const target = hostPathOf(m.containerPath, sorted.slice(0, i));
    if (target === undefined || (await stat(target).catch(() => undefined))) continue;
    try {
      if (source.isDirectory()) {
        await mkdir(target, { recursive: true, mode: 0o755 });
      } else {
        await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
        await (await open(target, 'a', 0o644)).close();
      }
    } catch (err) {
      throw fail(`the mount point ${target}`, err);
    }
  }
}

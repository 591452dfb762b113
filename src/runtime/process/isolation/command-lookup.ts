import path from 'node:path';
import type { Mount } from '../../types.js';
import { hostPathOf } from './mounts.js';
import { isExecutableFile } from './tools.js';

/**
 * Whether `file` would be found and executable by execvp inside a container whose root is the host's
 * with `mounts` on top: looked up in the container's PATH (or relative to its working directory when
 * it holds a slash), each candidate seen through the mounts. A command run through bwrap or setpriv is
 * exec'd by them, not by us: checking first keeps "executable file not found" a start error instead of
 * an exit. A path the host cannot show (under /dev, /proc) counts as found: the sandbox decides.
 */
export async function commandExists(file: string, opts: { pathEnv: string | undefined; cwd: string; mounts: readonly Mount[] }): Promise<boolean> {
  const candidates = file.includes('/')
    ? [path.resolve(opts.cwd, file)]
    : (opts.pathEnv ?? '/usr/local/bin:/usr/bin:/bin')
        .split(':')
        .filter(Boolean)
        .map((dir) => path.resolve(opts.cwd, dir, file));
  for (const c of candidates) {
    const onHost = hostPathOf(c, opts.mounts);
    if (onHost === undefined || (await isExecutableFile(onHost))) return true;
  }
  return false;
}

import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

/** `--process-isolation`: `auto` is bwrap when it is installed and works here, else none. */
export type IsolationSetting = 'auto' | 'bwrap' | 'none';

/** The isolation a runtime actually applies to containers that are not privileged. */
export type IsolationMode = 'bwrap' | 'none';

/** Whether bubblewrap can isolate containers on this host, as its supervisor found out. */
export interface IsolationSupport {
  available: boolean;
  /** The bwrap binary and version when available; else why not (not installed, or the kernel's refusal). */
  detail: string;
}

/** The helper binaries the process runtime runs containers through; undefined = not found in PATH. */
export interface IsolationTools {
  bwrap?: string;
  /** util-linux setpriv: uid, gid, supplementary groups, bounding set, no_new_privs before the command. */
  setpriv?: string;
  /** util-linux nsenter: exec (probes, hooks) inside a sandboxed container's namespaces. */
  nsenter?: string;
}

/** The first executable file called `name` in the directories of `pathEnv`, or undefined. */
export async function findExecutable(name: string, pathEnv: string | undefined): Promise<string | undefined> {
  for (const dir of (pathEnv ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (await isExecutableFile(file)) return file;
  }
  return undefined;
}

/** Whether `file` is a regular file this process may execute. */
export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds bwrap, setpriv and nsenter in `pathEnv`. */
export async function findIsolationTools(pathEnv: string | undefined): Promise<IsolationTools> {
  const [bwrap, setpriv, nsenter] = await Promise.all(['bwrap', 'setpriv', 'nsenter'].map((n) => findExecutable(n, pathEnv)));
  return { bwrap, setpriv, nsenter };
}

/**
 * The namespaces and mounts every sandboxed container gets, tried once with `true`: inside a container
 * or with user namespaces restricted, the kernel may refuse some of them, and then we say which.
 */
const PROBE_ARGS = [
  '--die-with-parent',
  '--new-session',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--hostname',
  'nodelet-probe',
  '--bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '--',
  'true',
];

/**
 * Whether bwrap works here: found in `pathEnv`, and able to create the namespaces and mounts a
 * container needs (run once with `true`). When it is not, `detail` says why in bwrap's own words
 * (the kernel's refusal, e.g. "Creating new namespace failed: Operation not permitted").
 */
export async function probeBwrap(pathEnv: string | undefined, timeoutMs = 10_000): Promise<IsolationSupport> {
  const bwrap = await findExecutable('bwrap', pathEnv);
  if (!bwrap) return { available: false, detail: 'bwrap was not found in PATH (apt-get install bubblewrap)' };
  const run = (args: string[]) =>
    new Promise<{ ok: boolean; out: string }>((resolve) => {
      execFile(bwrap, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ ok: !err, out: (stderr || stdout || (err ? err.message : '')).trim() }),
      );
    });
  const probe = await run(PROBE_ARGS);
  if (!probe.ok) return { available: false, detail: `${bwrap} cannot create a sandbox here: ${probe.out || 'it failed'}` };
  const version = await run(['--version']);
  return { available: true, detail: `${bwrap} (${version.ok ? version.out : 'unknown version'})` };
}

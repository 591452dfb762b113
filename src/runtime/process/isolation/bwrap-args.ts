import path from 'node:path';
import type { Mount } from '../../types.js';
import { sortMounts } from './mounts.js';

/** The namespaces a sandboxed container gets of its own (the network stays the host's). */
export interface SandboxNamespaces {
  pid: boolean;
  ipc: boolean;
  uts: boolean;
}

/** Everything {@link bwrapArgs} needs to sandbox one container. */
export interface BwrapSpec {
  bwrap: string;
  namespaces: SandboxNamespaces;
  /** With `namespaces.uts`: the pod's hostname. */
  hostname: string;
  readonlyRoot: boolean;
  mounts: readonly Mount[];
  /** '' = bwrap's default (the caller's working directory, which the sandbox shares). */
  workingDir: string;
  /** Canonical names or `ALL`, for a root container: dropped first, then added (containerd's order). */
  capDrop: string[];
  capAdd: string[];
  /** The descriptor bwrap writes its JSON status lines to (child-pid, then exit-code). */
  statusFd: number;
}

/**
 * The bwrap argv up to and including `--`; the command follows. bwrap applies its options in order:
 * the host root first, then a fresh /dev and /proc over it, then each volume (parents first).
 *
 * - `--die-with-parent`: the sandbox dies with its bwrap, and bwrap with its parent, the supervisor.
 *   nodelet is never that parent, so a kill -9 of nodelet leaves it running; a supervisor that dies
 *   loses these containers at once instead of at its successor's recovery, the same end (invariant 18).
 * - `--new-session`: the sandbox (bwrap's init, pid 1 inside, and the command) is a session and
 *   process group of its own, without the bwrap monitor: a SIGTERM to that group reaches the command
 *   and everything it started, never the monitor that reports its exit status.
 * - No `--as-pid-1`: bwrap's init is pid 1 and reaps orphans; the command is pid 2 and keeps the
 *   signal behaviour it has as a host process (a pid 1 ignores a SIGTERM it has no handler for).
 */
export function bwrapArgs(s: BwrapSpec): string[] {
  const args = [s.bwrap, '--die-with-parent', '--new-session'];
  if (s.namespaces.pid) args.push('--unshare-pid');
  if (s.namespaces.ipc) args.push('--unshare-ipc');
  if (s.namespaces.uts) args.push('--unshare-uts', '--hostname', s.hostname);
  args.push(s.readonlyRoot ? '--ro-bind' : '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
  for (const m of sortMounts(s.mounts)) args.push(m.readonly ? '--ro-bind' : '--bind', m.hostPath, path.resolve('/', m.containerPath));
  if (s.workingDir) args.push('--chdir', s.workingDir);
  for (const c of s.capDrop) args.push('--cap-drop', bwrapCap(c));
  for (const c of s.capAdd) args.push('--cap-add', bwrapCap(c));
  args.push('--json-status-fd', String(s.statusFd), '--');
  return args;
}

function bwrapCap(c: string): string {
  return c === 'ALL' ? c : `CAP_${c}`;
}

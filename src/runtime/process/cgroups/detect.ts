// Which cgroup version the host runs and where its hierarchies are mounted. The kubelet asks
// libcontainer (cgroups.IsCgroup2UnifiedMode: statfs of /sys/fs/cgroup is cgroup2); we look for the
// unified hierarchy's root file instead, so a test can point `root` at a directory of its own.

import path from 'node:path';
import { NodeletError } from '../../../errors.js';
import { nodeCgroupFs, type CgroupFs } from './cgroup-fs.js';

/** The default mount point of the cgroup filesystem. */
export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup v1 controllers nodelet uses: memory and CPU limits, CPU accounting, and (when mounted) pids. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;
const V1_REQUIRED = ['memory', 'cpu', 'cpuacct'];

/** The cgroup v2 controllers nodelet enables for its subtree (pids when the kernel has it). */
export const V2_CONTROLLERS = ['cpu', 'memory', 'pids'] as const;
const V2_REQUIRED = ['cpu', 'memory'];

/** One mounted cgroup hierarchy. */
export interface Hierarchy {
  /**
   * The controllers it carries that nodelet uses: `['memory']`, or `['cpu', 'cpuacct']` where those
   * are co-mounted (v1); on v2 the one unified hierarchy carries them all.
   */
  controllers: string[];
  /** Its mount point: `/sys/fs/cgroup/memory` (v1), `/sys/fs/cgroup` (v2). */
  mount: string;
}

/** What the host offers: the cgroup version and the hierarchies nodelet writes to. */
export interface CgroupHost {
  version: 1 | 2;
  root: string;
  /** v1: one per distinct mount of the controllers used; v2: exactly one. */
  hierarchies: Hierarchy[];
}

/**
 * Detects the cgroup version under `root` (default /sys/fs/cgroup): v2 when `root/cgroup.controllers`
 * exists (the unified hierarchy is mounted there), else v1 with one mount per controller at
 * `root/<controller>` (a hybrid host's `root/unified` is ignored, as runc and the kubelet ignore it).
 * Throws a NodeletError `CgroupsUnavailable` naming what is missing.
 */
export async function detectCgroups(opts: { root?: string; fs?: CgroupFs } = {}): Promise<CgroupHost> {
  const root = opts.root ?? DEFAULT_CGROUP_ROOT;
  const fs = opts.fs ?? nodeCgroupFs;
  if (await fs.exists(path.join(root, 'cgroup.controllers'))) {
    const available = (await fs.read(path.join(root, 'cgroup.controllers'))).trim().split(/\s+/);
    const missing = V2_REQUIRED.filter((c) => !available.includes(c));
    if (missing.length > 0) {
      throw new NodeletError('CgroupsUnavailable', `cgroup v2 at ${root} lacks the ${missing.join(' and ')} controller (cgroup.controllers: ${available.join(' ')})`);
    }
    return { version: 2, root, hierarchies: [{ controllers: V2_CONTROLLERS.filter((c) => available.includes(c)), mount: root }] };
  }
  const byMount = new Map<string, Hierarchy>();
  for (const controller of V1_CONTROLLERS) {
    const dir = path.join(root, controller);
    if (!(await fs.exists(path.join(dir, 'cgroup.procs')))) {
      if (V1_REQUIRED.includes(controller)) {
        throw new NodeletError('CgroupsUnavailable', `no cgroup v2 at ${root} and the cgroup v1 ${controller} controller is not mounted at ${dir}`);
      }
      continue;
    }
    // cpu and cpuacct are often one hierarchy (`cpu,cpuacct`, with `cpu` and `cpuacct` symlinks to it):
    // a cgroup is created, joined and removed once per mount, not once per name.
    const mount = await fs.realpath(dir);
    const h = byMount.get(mount);
    if (h) h.controllers.push(controller);
    else byMount.set(mount, { controllers: [controller], mount });
  }
  return { version: 1, root, hierarchies: [...byMount.values()] };
}

/**
 * Parses /proc/<pid>/cgroup (`hierarchy-ID:controller-list:path` lines) into the path per controller;
 * the v2 line (`0::/path`) is under the key `''`, a named v1 hierarchy under `name=systemd`.
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const controllers = m[1] === '' ? [''] : m[1]!.split(',');
    for (const c of controllers) out.set(c, m[2]!);
  }
  return out;
}

/** The cgroup path of a hierarchy in a parsed /proc/<pid>/cgroup: by its first controller on v1, the `0::` line on v2. */
export function pathIn(procCgroup: Map<string, string>, host: CgroupHost, h: Hierarchy): string | undefined {
  return procCgroup.get(host.version === 2 ? '' : (h.controllers[0] ?? ''));
}

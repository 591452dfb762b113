// The process runtime's use of cgroups (the mechanics are in cgroups/): where its parent cgroup goes,
// opening it once at the supervisor's start, the limits of a pod and of a container, and the sweep of
// what a previous supervisor left behind. The kubelet's side of the same work is
// pkg/kubelet/cm/pod_container_manager_linux.go (pod cgroups: EnsureExists, Destroy, and
// GetAllPodsFromCgroups for the orphans cleanupOrphanedPodCgroups removes); the container side is runc's.

import path from 'node:path';
import { errorMessage } from '../../errors.js';
import { ownerOf } from '../owner.js';
import type { ContainerConfig, PodSandboxConfig } from '../types.js';
import { createCgroupManager, syncCgroupFs, type CgroupLimits, type CgroupManager } from './cgroups/index.js';

/**
 * What a supervisor says of its cgroups in `hello` (added within protocol 1, as isolation was): a
 * supervisor without it predates cgroups and enforces no limits.
 */
export interface CgroupSupport {
  /** Whether containers get cgroups (limits, OOM kills, usage). */
  available: boolean;
  /** `cgroup v1 /nodelet-1a2b…`, or why there are none (the kernel's reason). */
  detail: string;
  version?: 1 | 2;
  /** Where the cgroup filesystem is mounted (/sys/fs/cgroup). */
  root?: string;
  /** The parent of every pod cgroup, in each hierarchy: `/nodelet-1a2b…` (under `cgroupRoot`). */
  parent?: string;
  /** The `--cgroup-root` the supervisor was started with ('' = the hierarchies' root). */
  cgroupRoot: string;
}

/** A runtime's cgroups: the manager when they work, and what to say about them either way. */
export interface RuntimeCgroups {
  manager: CgroupManager | undefined;
  support: CgroupSupport;
}

/**
 * The parent cgroup of the process runtime whose state is in `stateDir`: `<cgroupRoot>/nodelet-<hash>`,
 * the hash a short one of the state directory's absolute path, as the CRI runtime's owner label
 * hashes the root dir (runtime/owner.ts ownerOf): two nodelets on one host (tests, a node and a sandbox)
 * never share or sweep each other's cgroups.
 */
export function runtimeCgroupParent(stateDir: string, cgroupRoot = ''): string {
  return path.posix.join('/', cgroupRoot, `nodelet-${ownerOf(stateDir)}`);
}

/**
 * Opens (and creates) the runtime's parent cgroup. Never throws: where cgroups are not usable (no
 * cgroupfs, read-only in a container, not root) the runtime runs without them and `support` says why.
 */
export async function openRuntimeCgroups(opts: { stateDir: string; cgroupRoot: string; root?: string }): Promise<RuntimeCgroups> {
  const parent = runtimeCgroupParent(opts.stateDir, opts.cgroupRoot);
  try {
    // Synchronous file calls: a few per container start and exit, each microseconds (see syncCgroupFs).
    const manager = await createCgroupManager({ parent, fs: syncCgroupFs, ...(opts.root !== undefined ? { root: opts.root } : {}) });
    return {
      manager,
      support: { available: true, detail: `cgroup v${manager.host.version} ${parent}`, version: manager.host.version, root: manager.host.root, parent, cgroupRoot: opts.cgroupRoot },
    };
  } catch (err) {
    return { manager: undefined, support: { available: false, detail: errorMessage(err), cgroupRoot: opts.cgroupRoot } };
  }
}

const UNSET: CgroupLimits = { cpuShares: 0, cpuQuota: 0, cpuPeriod: 0, memoryLimitBytes: 0 };

/** The limits of a pod's cgroup: what the sandbox config carries (the kubelet's ResourceConfigForPod), else none. */
export function podLimits(config: PodSandboxConfig): CgroupLimits {
  return limitsOf(config.linux?.resources);
}

/** The limits of a container's cgroup (the kubelet's calculateLinuxResources), else none. */
export function containerLimits(config: ContainerConfig): CgroupLimits {
  return limitsOf(config.resources);
}

function limitsOf(r: CgroupLimits | undefined): CgroupLimits {
  // Only the four cgroup values: a config also carries oomScoreAdj, which is no cgroup file.
  return r ? { cpuShares: r.cpuShares, cpuQuota: r.cpuQuota, cpuPeriod: r.cpuPeriod, memoryLimitBytes: r.memoryLimitBytes } : UNSET;
}

/** Whether a config asks for a hard limit (a CPU quota or a memory limit), which only cgroups enforce. */
export function hasHardLimits(r: CgroupLimits | undefined): boolean {
  return !!r && (r.cpuQuota > 0 || r.memoryLimitBytes > 0);
}

// Removals at once: each may wait for killed processes to leave, so they overlap, within reason.
const SWEEP_CONCURRENCY = 16;

/**
 * Removes what a previous supervisor left under the parent: container cgroups that are not in
 * `keepContainers`, and pod cgroups of pods not in `keepPods` (with whatever is inside). Whatever
 * still runs in them is killed: no checkpoint names it, so nothing could report its exit. Returns
 * one note per removal that failed, and one line counting those that did not.
 */
export async function sweepCgroups(manager: CgroupManager, keepPods: ReadonlySet<string>, keepContainers: ReadonlySet<string>): Promise<string[]> {
  const work: { what: string; remove: () => Promise<void> }[] = [];
  for (const entry of await manager.list()) {
    if (!keepPods.has(entry.podUID)) {
      work.push({ what: `pod ${entry.podUID}`, remove: () => manager.pod(entry.podUID).remove() });
      continue;
    }
    for (const id of entry.containerIds) {
      if (!keepContainers.has(id)) work.push({ what: `container ${id}`, remove: () => manager.container(entry.podUID, id).remove() });
    }
  }
  const notes: string[] = [];
  let removed = 0;
  for (let i = 0; i < work.length; i += SWEEP_CONCURRENCY) {
    await Promise.all(
      work.slice(i, i + SWEEP_CONCURRENCY).map((w) =>
        w.remove().then(
          () => void removed++,
          (err) => void notes.push(`the cgroup of ${w.what} could not be removed: ${errorMessage(err)}`),
        ),
      ),
    );
  }
  if (removed > 0) notes.push(`${removed} cgroup(s) of pods or containers this runtime no longer has: removed`);
  return notes;
}

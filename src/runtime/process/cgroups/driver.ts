// What differs between cgroup v1 and v2: the files a limit, a reading or a kill goes through.
// v1.ts and v2.ts implement it; cgroup-manager.ts does the naming, creation order and removal.

import type { AppliedLimits, CgroupLimits, CgroupUsage, OomEvents } from './types.js';

/** Where a cgroup's files are: the directory of the hierarchy that carries `controller`. */
export type ControllerDir = (controller: string) => string;

/** Whether a cgroup is nodelet's parent, a pod's or a container's: containers get a few settings more. */
export type CgroupKind = 'parent' | 'pod' | 'container';

/** The version-specific file work on one cgroup. */
export interface CgroupDriver {
  /**
   * Lets the children of `dir` use the controllers (v2 cgroup.subtree_control; v1 has nothing to do).
   * Skips the write when they already are, so an ancestor nodelet does not own is left as it is.
   */
  enableControllers(dir: string): Promise<void>;
  /** Writes the limits; 0 values reset to "unlimited" or leave the default, so this is also an update. */
  setLimits(dirOf: ControllerDir, limits: CgroupLimits, kind: CgroupKind): Promise<void>;
  readLimits(dirOf: ControllerDir): Promise<AppliedLimits>;
  usage(dirOf: ControllerDir): Promise<CgroupUsage>;
  oomEvents(dirOf: ControllerDir): Promise<OomEvents>;
  /** SIGKILLs everything in the cgroup and below in one write, where the kernel can (v2 cgroup.kill, Linux ≥ 5.14). */
  killAll(dir: string): Promise<boolean>;
}

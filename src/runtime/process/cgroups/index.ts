/**
 * cgroups for the process runtime: a parent cgroup for nodelet, one per pod, one per container, on
 * cgroup v1 or v2; limits from the kubelet's computations (src/container/linux-resources.ts); usage
 * for /stats/summary; OOM kills for the `OOMKilled` reason; joining before exec.
 */
export { createCgroupManager, DEFAULT_CGROUP_PARENT, DEFAULT_REMOVE_TIMEOUT_MS } from './cgroup-manager.js';
export type { Cgroup, CgroupManager, CgroupManagerOptions, CgroupPlacement, PodCgroupEntry } from './cgroup-manager.js';
export { nodeCgroupFs, syncCgroupFs, type CgroupFs } from './cgroup-fs.js';
export { cpuMaxLine, cpuSharesToWeight, parseCpuMax, wasOomKilled } from './conversions.js';
export { DEFAULT_CGROUP_ROOT, detectCgroups, parseProcCgroup, type CgroupHost, type Hierarchy } from './detect.js';
export type { CgroupKind } from './driver.js';
export { JOIN_ARGV0, JOIN_FAILED_EXIT_CODE, joinThenExecArgv } from './join-argv.js';
export type { AppliedLimits, CgroupLimits, CgroupUsage, OomEvents } from './types.js';

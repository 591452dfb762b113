// The shapes the cgroup module reads and writes, the same for cgroup v1 and v2.

/**
 * The limits of a cgroup, in cgroup v1 units as the kubelet computes them (src/container/linux-resources.ts:
 * `containerResources` for a container, `podCgroupResources` for a pod; both fit this shape). On v2
 * they are converted when written. 0 means unset: default shares, no quota, no memory limit.
 */
export interface CgroupLimits {
  /** cpu.shares (v1); cpu.weight on v2 through {@link cpuSharesToWeight}. 0 = leave the default. */
  cpuShares: number;
  /** CFS quota in µs per period; 0 = unlimited. */
  cpuQuota: number;
  /** CFS period in µs; 0 = leave the default (100 ms). */
  cpuPeriod: number;
  /** 0 = unlimited. */
  memoryLimitBytes: number;
}

/** The limits a cgroup has, read back from its files. 0 means unlimited. */
export interface AppliedLimits {
  /** cpu.shares (v1 only). */
  cpuShares?: number;
  /** cpu.weight (v2 only). */
  cpuWeight?: number;
  cpuQuota: number;
  cpuPeriod: number;
  memoryLimitBytes: number;
  /**
   * Whether the cgroup may not swap (v1: memory.memsw.limit_in_bytes equals the memory limit; v2:
   * memory.swap.max is 0); undefined when the kernel does not account swap.
   */
  noSwap?: boolean;
}

/**
 * What a cgroup uses, in the shapes of the kubelet's Summary API (pkg/kubelet/apis/stats/v1alpha1
 * CPUStats, MemoryStats), computed as cAdvisor computes them. usageNanoCores is a rate: take two
 * samples of usageCoreNanoSeconds.
 */
export interface CgroupUsage {
  cpu: {
    /** Cumulative CPU time of every process that ever ran in the cgroup, in ns. */
    usageCoreNanoSeconds: number;
  };
  memory: {
    /** All memory charged to the cgroup, page cache included (v1 memory.usage_in_bytes, v2 memory.current). */
    usageBytes: number;
    /** usageBytes less the inactive page cache, floored at 0: what the kubelet evicts and OOM-ranks by. */
    workingSetBytes: number;
    /** Anonymous memory and swap cache (v1 total_rss, v2 anon). */
    rssBytes: number;
    pageFaults: number;
    majorPageFaults: number;
    /** The memory limit less the working set, when there is a limit. */
    availableBytes?: number;
  };
}

/** What the kernel counted of a cgroup's memory limit. */
export interface OomEvents {
  /**
   * Processes of this cgroup the OOM killer killed, whichever limit forced it (the container's, the
   * pod's): v1 memory.oom_control `oom_kill` (kernel ≥ 4.13; this cgroup's own processes only), v2
   * memory.events `oom_kill` (this cgroup and below). undefined when the kernel does not count them.
   */
  oomKills: number | undefined;
  /**
   * Times usage hit this cgroup's own limit (v1 the larger of memory.failcnt and memory.memsw.failcnt,
   * v2 memory.events `max`). Reclaim usually makes room, so a hit alone is not a kill; and v1 does not
   * always count (see v1.ts): a weak hint, for kernels without an OOM kill counter.
   */
  limitHits: number;
}

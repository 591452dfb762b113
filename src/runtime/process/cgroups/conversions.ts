// cgroup v1 values to cgroup v2 values. The kubelet keeps computing in v1 units (cpu.shares, CFS quota)
// and converts at the last moment: pkg/kubelet/cm/cgroup_manager_linux.go getCPUWeight for its own
// cgroups, and runc/crun (libcontainer, opencontainers/cgroups utils.go) for the containers'.

import type { OomEvents } from './types.js';

const MIN_SHARES = 2;
const MAX_SHARES = 262_144;
const MIN_WEIGHT = 1;
const MAX_WEIGHT = 10_000;
const DEFAULT_PERIOD_US = 100_000;

/**
 * cgroup v1 cpu.shares [2, 262144] to cgroup v2 cpu.weight [1, 10000] (opencontainers/cgroups
 * ConvertCPUSharesToCgroupV2Value, runc ≥ 1.3.2, crun ≥ 1.23). The curve maps the minimum, the
 * default (1024 → 100) and the maximum onto each other; the linear formula used before,
 * `1 + (shares - 2) × 9999 / 262142`, gave a one-CPU container 39, below every system service
 * (kubernetes/kubernetes#131216). 0 stays 0: unset.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= MIN_SHARES) return MIN_WEIGHT;
  if (shares >= MAX_SHARES) return MAX_WEIGHT;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** The cgroup v2 cpu.max line: `<quota> <period>`, or `max <period>` for no quota. */
export function cpuMaxLine(quotaUs: number, periodUs: number): string {
  return `${quotaUs > 0 ? quotaUs : 'max'} ${periodUs > 0 ? periodUs : DEFAULT_PERIOD_US}`;
}

/** Parses a cgroup v2 cpu.max line into quota (0 = none) and period, in µs. */
export function parseCpuMax(line: string): { cpuQuota: number; cpuPeriod: number } {
  const [quota, period] = line.trim().split(/\s+/);
  return { cpuQuota: quota === 'max' ? 0 : Number(quota), cpuPeriod: Number(period ?? DEFAULT_PERIOD_US) };
}

/**
 * Whether a container whose process ended was OOM-killed, to report the terminated reason `OOMKilled`.
 * Like containerd, any OOM kill in the container's cgroup counts, even of a child process: the main
 * process usually dies of the same shortage. A kernel that does not count kills (before 4.13 on v1)
 * falls back to "died of SIGKILL (137) after hitting its limit", which is a guess.
 */
export function wasOomKilled(events: OomEvents, exitCode: number): boolean {
  if (events.oomKills !== undefined) return events.oomKills > 0;
  return exitCode === 137 && events.limitHits > 0;
}

// The kubelet's /stats/summary (the Summary API, pkg/kubelet/apis/stats/v1alpha1/types.go) for the
// process runtime: CPU and memory per container, per pod and for the node. Where the runtime puts
// containers in cgroups, a container's and a pod's usage is its cgroup's, computed as cAdvisor computes
// it (cgroups/v1.ts, v2.ts); a container without one (cgroups not usable, or started before) is its
// process group, read from /proc, and its pod the sum of its containers. usageNanoCores is a rate: it
// needs two samples, so it appears from the second request on.

import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import type { CgroupManager, CgroupUsage } from '../runtime/process/cgroups/index.js';
import { kubeTime } from '../util/kube-time.js';
import { CLOCK_TICKS_PER_SECOND, readNodeUsage, readProcessGroups, residentBytes, type ProcStat } from './proc.js';

/** The process runtime's cgroups opened for reading; resolves undefined where containers have none. */
export type CgroupReader = () => Promise<CgroupManager | undefined>;

/** CPUStats of the Summary API. */
export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds: number;
}

/** MemoryStats of the Summary API (the fields we can know). */
export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** ContainerStats of the Summary API. */
export interface ContainerStats {
  name: string;
  startTime: string;
  cpu: CPUStats;
  memory: MemoryStats;
}

/** PodStats of the Summary API. */
export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime?: string;
  containers: ContainerStats[];
  cpu: CPUStats;
  memory: MemoryStats;
}

/** The Summary API's answer. */
export interface Summary {
  node: { nodeName: string; startTime: string; cpu: CPUStats; memory: MemoryStats };
  pods: PodStats[];
}

/** Computes summaries, remembering the previous CPU sample of each container and of the node for rates. */
export interface StatsProvider {
  summary(nodeName: string, pods: WorkerSnapshot[]): Promise<Summary>;
}

interface Sample {
  cpuNs: number;
  at: number;
}

/** Options of {@link createStatsProvider}. */
export interface StatsProviderOptions {
  /** /proc, for the node and for containers without a cgroup. */
  procRoot?: string;
  /** The clock, in ms. */
  now?: () => number;
  /** The runtime's cgroups, read on each summary (never on /pods). */
  cgroups?: CgroupReader;
}

// Pods read at once: a summary of 1,000 pods reads a few thousand small cgroup files.
const POD_CONCURRENCY = 32;

/** Creates a stats provider reading the runtime's cgroups, and `procRoot` (default /proc) for the rest. */
export function createStatsProvider(opts: StatsProviderOptions = {}): StatsProvider {
  const now = opts.now ?? Date.now;
  let samples = new Map<string, Sample>();
  let nodeSample: Sample | undefined;
  const rate = (prev: Sample | undefined, cur: Sample) =>
    prev && cur.at > prev.at && cur.cpuNs >= prev.cpuNs ? Math.round(((cur.cpuNs - prev.cpuNs) / ((cur.at - prev.at) * 1e6)) * 1e9) : undefined;

  return {
    async summary(nodeName, pods) {
      const [cgroups, nodeUsage] = await Promise.all([opts.cgroups?.().catch(() => undefined), readNodeUsage(opts.procRoot)]);
      const at = now();
      const time = kubeTime(at);
      const next = new Map<string, Sample>();
      // /proc is walked whole, so only once, and only when some container has no cgroup to read.
      let groups: Promise<Map<number, ProcStat[]>> | undefined;
      const processGroups = () => (groups ??= readProcessGroups(opts.procRoot));
      const cpu = (key: string, cpuNs: number): CPUStats => {
        const sample = { cpuNs, at };
        next.set(key, sample);
        const nano = rate(samples.get(key), sample);
        return { time, usageCoreNanoSeconds: Math.round(cpuNs), ...(nano !== undefined ? { usageNanoCores: nano } : {}) };
      };
      const fromCgroup = (u: CgroupUsage): MemoryStats => ({
        time,
        ...(u.memory.availableBytes !== undefined ? { availableBytes: u.memory.availableBytes } : {}),
        usageBytes: u.memory.usageBytes,
        workingSetBytes: u.memory.workingSetBytes,
        rssBytes: u.memory.rssBytes,
        pageFaults: u.memory.pageFaults,
        majorPageFaults: u.memory.majorPageFaults,
      });

      const podSummary = async (s: WorkerSnapshot): Promise<PodStats> => {
        const meta = s.pod.metadata ?? {};
        const uid = meta.uid ?? '';
        const containers: ContainerStats[] = [];
        let allInCgroups = true;
        for (const c of s.containers) {
          const cur = c.current;
          if (cur?.state !== 'running' || !cur.pid) continue;
          const usage = cgroups && uid ? await readUsage(() => cgroups.container(uid, cur.id).usage()) : undefined;
          const stats = { name: c.name, startTime: kubeTime(cur.startedAt) };
          if (usage) {
            containers.push({ ...stats, cpu: cpu(cur.id, usage.cpu.usageCoreNanoSeconds), memory: fromCgroup(usage) });
            continue;
          }
          allInCgroups = false;
          const members = (await processGroups()).get(cur.pid) ?? [];
          const cpuNs = (members.reduce((a, m) => a + m.cpuTicks, 0) * 1e9) / CLOCK_TICKS_PER_SECOND;
          const rss = await residentBytes(
            members.map((m) => m.pid),
            opts.procRoot,
          );
          containers.push({ ...stats, cpu: cpu(cur.id, cpuNs), memory: { time, usageBytes: rss, workingSetBytes: rss, rssBytes: rss } });
        }
        const podRef = { name: meta.name ?? '', namespace: meta.namespace ?? 'default', uid };
        const head = { podRef, ...(s.status.startTime ? { startTime: s.status.startTime } : {}), containers };
        // The pod's cgroup holds all its containers (and what ran and exited there): the kubelet's pod
        // stats are that cgroup's. A pod with a container outside it is the sum of its containers.
        const podUsage = cgroups && uid && allInCgroups ? await readUsage(() => cgroups.pod(uid).usage()) : undefined;
        if (podUsage) return { ...head, cpu: cpu(`pod/${uid}`, podUsage.cpu.usageCoreNanoSeconds), memory: fromCgroup(podUsage) };
        const sum = (f: (c: ContainerStats) => number | undefined) => containers.reduce((a, c) => a + (f(c) ?? 0), 0);
        const allRates = containers.every((c) => c.cpu.usageNanoCores !== undefined);
        return {
          ...head,
          cpu: {
            time,
            usageCoreNanoSeconds: sum((c) => c.cpu.usageCoreNanoSeconds),
            ...(allRates ? { usageNanoCores: sum((c) => c.cpu.usageNanoCores) } : {}),
          },
          memory: { time, usageBytes: sum((c) => c.memory.usageBytes), workingSetBytes: sum((c) => c.memory.workingSetBytes), rssBytes: sum((c) => c.memory.rssBytes) },
        };
      };

      const podStats: PodStats[] = [];
      for (let i = 0; i < pods.length; i += POD_CONCURRENCY) podStats.push(...(await Promise.all(pods.slice(i, i + POD_CONCURRENCY).map(podSummary))));
      // Only containers and pods still running are remembered, so the map never outgrows the node.
      samples = next;
      const nodeCur = { cpuNs: nodeUsage.cpuBusyNs, at };
      const nodeNano = rate(nodeSample, nodeCur);
      nodeSample = nodeCur;
      const used = nodeUsage.memTotalBytes - nodeUsage.memFreeBytes;
      return {
        node: {
          nodeName,
          startTime: kubeTime(nodeUsage.bootTimeMs),
          cpu: { time, usageCoreNanoSeconds: Math.round(nodeUsage.cpuBusyNs), ...(nodeNano !== undefined ? { usageNanoCores: nodeNano } : {}) },
          memory: {
            time,
            availableBytes: nodeUsage.memAvailableBytes,
            usageBytes: used,
            workingSetBytes: nodeUsage.memTotalBytes - nodeUsage.memAvailableBytes,
            rssBytes: used,
          },
        },
        pods: podStats,
      };
    },
  };
}

/** A cgroup's usage, or undefined when it cannot be read (no such cgroup: the container has none). */
async function readUsage(read: () => Promise<CgroupUsage>): Promise<CgroupUsage | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

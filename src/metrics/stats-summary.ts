// The kubelet's /stats/summary (the Summary API, pkg/kubelet/apis/stats/v1alpha1/types.go) for host-process
// containers: CPU and memory per container (its process group, read from /proc), per pod (the sum) and
// for the node. usageNanoCores is a rate: it needs two samples, so it appears from the second request on.

import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import { kubeTime } from '../server/kubeapi/human-duration.js';
import { CLOCK_TICKS_PER_SECOND, readNodeUsage, readProcessGroups, residentBytes } from './proc.js';

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

/** Creates a stats provider reading `procRoot` (default /proc) with the given clock (ms). */
export function createStatsProvider(opts: { procRoot?: string; now?: () => number } = {}): StatsProvider {
  const now = opts.now ?? Date.now;
  let samples = new Map<string, Sample>();
  let nodeSample: Sample | undefined;
  const rate = (prev: Sample | undefined, cur: Sample) =>
    prev && cur.at > prev.at && cur.cpuNs >= prev.cpuNs ? Math.round(((cur.cpuNs - prev.cpuNs) / ((cur.at - prev.at) * 1e6)) * 1e9) : undefined;

  return {
    async summary(nodeName, pods) {
      const [groups, nodeUsage] = await Promise.all([readProcessGroups(opts.procRoot), readNodeUsage(opts.procRoot)]);
      const at = now();
      const time = kubeTime(at);
      const next = new Map<string, Sample>();
      const podStats: PodStats[] = [];
      for (const s of pods) {
        const meta = s.pod.metadata ?? {};
        const containers: ContainerStats[] = [];
        for (const c of s.containers) {
          const cur = c.current;
          if (cur?.state !== 'running' || !cur.pid) continue;
          const members = groups.get(cur.pid) ?? [];
          const cpuNs = (members.reduce((a, m) => a + m.cpuTicks, 0) * 1e9) / CLOCK_TICKS_PER_SECOND;
          const rss = await residentBytes(
            members.map((m) => m.pid),
            opts.procRoot,
          );
          const sample = { cpuNs, at };
          next.set(cur.id, sample);
          const nano = rate(samples.get(cur.id), sample);
          containers.push({
            name: c.name,
            startTime: kubeTime(cur.startedAt),
            cpu: { time, usageCoreNanoSeconds: Math.round(cpuNs), ...(nano !== undefined ? { usageNanoCores: nano } : {}) },
            memory: { time, usageBytes: rss, workingSetBytes: rss, rssBytes: rss },
          });
        }
        const sum = (f: (c: ContainerStats) => number | undefined) => containers.reduce((a, c) => a + (f(c) ?? 0), 0);
        const allRates = containers.every((c) => c.cpu.usageNanoCores !== undefined);
        podStats.push({
          podRef: { name: meta.name ?? '', namespace: meta.namespace ?? 'default', uid: meta.uid ?? '' },
          ...(s.status.startTime ? { startTime: s.status.startTime } : {}),
          containers,
          cpu: {
            time,
            usageCoreNanoSeconds: sum((c) => c.cpu.usageCoreNanoSeconds),
            ...(allRates ? { usageNanoCores: sum((c) => c.cpu.usageNanoCores) } : {}),
          },
          memory: { time, usageBytes: sum((c) => c.memory.usageBytes), workingSetBytes: sum((c) => c.memory.workingSetBytes), rssBytes: sum((c) => c.memory.rssBytes) },
        });
      }
      // Only containers still running are remembered, so the map never outgrows the node.
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

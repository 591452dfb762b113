// Reading process and node usage from /proc (proc(5)): what cAdvisor would give the kubelet, for host
// processes that have no cgroup of their own. A container is its process group (the process runtime
// starts each container as a group leader), so its usage is the sum over the group's processes.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** USER_HZ: the unit of the times in /proc/<pid>/stat and /proc/stat (100 on every Linux we run on). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** What one process uses, from /proc/<pid>/stat. */
export interface ProcStat {
  pid: number;
  pgrp: number;
  /** utime + stime, plus cutime + cstime (its children that have exited and been waited for), in clock ticks. */
  cpuTicks: number;
  /** Resident pages. */
  rssPages: number;
}

/** Parses /proc/<pid>/stat. The command sits in parentheses and may hold spaces: fields count from the last `)`. */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After the name: field 3 (state) is index 0, so field n is index n - 3.
  const f = text.slice(close + 2).split(' ');
  const num = (n: number) => Number(f[n - 3]);
  // A shell's short-lived children count too once reaped: the container's CPU is the whole group's.
  const stat = { pid, pgrp: num(5), cpuTicks: num(14) + num(15) + num(16) + num(17), rssPages: num(24) };
  return Number.isFinite(stat.pgrp) && Number.isFinite(stat.cpuTicks) ? stat : undefined;
}

/** Resident memory in bytes from /proc/<pid>/status (`VmRSS: 1234 kB`), 0 for a kernel thread or zombie. */
export function parseVmRSS(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

// Bounded so that a host with many thousands of processes never runs out of file descriptors.
const READ_BATCH = 256;

/** Reads every process's stat, grouped by process group. Processes that vanish while read are skipped. */
export async function readProcessGroups(procRoot = '/proc'): Promise<Map<number, ProcStat[]>> {
  const names = (await readdir(procRoot)).filter((n) => /^\d+$/.test(n));
  const groups = new Map<number, ProcStat[]>();
  for (let i = 0; i < names.length; i += READ_BATCH) {
    const batch = await Promise.all(
      names.slice(i, i + READ_BATCH).map(async (n) => {
        const text = await readFile(path.join(procRoot, n, 'stat'), 'utf8').catch(() => undefined);
        return text === undefined ? undefined : parseProcStat(Number(n), text);
      }),
    );
    for (const s of batch) {
      if (!s) continue;
      const g = groups.get(s.pgrp);
      if (g) g.push(s);
      else groups.set(s.pgrp, [s]);
    }
  }
  return groups;
}

/** The resident memory of some processes, summed from their /proc/<pid>/status. */
export async function residentBytes(pids: number[], procRoot = '/proc'): Promise<number> {
  const sizes = await Promise.all(
    pids.map((pid) =>
      readFile(path.join(procRoot, String(pid), 'status'), 'utf8').then(
        (t) => parseVmRSS(t),
        () => 0,
      ),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** The node's CPU and memory, from /proc/stat and /proc/meminfo. */
export interface NodeUsage {
  /** Busy CPU time of all CPUs (everything but idle and iowait), in ns. */
  cpuBusyNs: number;
  /** Boot time, ms since the epoch. */
  bootTimeMs: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  memFreeBytes: number;
}

/** Reads the node's usage; fields the kernel does not report are 0. */
export async function readNodeUsage(procRoot = '/proc'): Promise<NodeUsage> {
  const [stat, meminfo] = await Promise.all([
    readFile(path.join(procRoot, 'stat'), 'utf8').catch(() => ''),
    readFile(path.join(procRoot, 'meminfo'), 'utf8').catch(() => ''),
  ]);
  const cpu = /^cpu\s+(.+)$/m.exec(stat)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal: busy is the sum without idle (3) and iowait (4).
  const busyTicks = cpu.slice(0, 8).reduce((a, v, i) => (i === 3 || i === 4 ? a : a + (v || 0)), 0);
  const btime = Number(/^btime\s+(\d+)/m.exec(stat)?.[1] ?? 0);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  return {
    cpuBusyNs: (busyTicks * 1e9) / CLOCK_TICKS_PER_SECOND,
    bootTimeMs: btime * 1000,
    memTotalBytes: kb('MemTotal'),
    memAvailableBytes: kb('MemAvailable'),
    memFreeBytes: kb('MemFree'),
  };
}

// cgroup v2: one unified hierarchy; controllers are enabled for children through the parent's
// cgroup.subtree_control. File names and values follow runc's libcontainer/cgroups/fs2 (cpu.go,
// memory.go) and the kubelet's v2 settings (kuberuntime_container_linux.go: memory.oom.group,
// memory.swap.max).

import path from 'node:path';
import { parseFlatKeyed, readIntFile, readLimitFile, writeControl, type CgroupFs } from './cgroup-fs.js';
import { cpuMaxLine, cpuSharesToWeight, parseCpuMax } from './conversions.js';
import type { CgroupDriver } from './driver.js';
import type { AppliedLimits, CgroupUsage, OomEvents } from './types.js';

/** The cgroup v2 driver over `fs`, enabling `controllers` (those the root offers) for nodelet's subtree. */
export function createV2Driver(fs: CgroupFs, controllers: readonly string[]): CgroupDriver {
  return {
    async enableControllers(dir) {
      const enabled = (await fs.read(path.join(dir, 'cgroup.subtree_control'))).trim().split(/\s+/);
      const missing = controllers.filter((c) => !enabled.includes(c));
      if (missing.length === 0) return;
      // EBUSY here is the "no internal processes" rule: a cgroup with processes of its own cannot
      // hand controllers to children (only the root may). Put nodelet's parent where no process lives.
      await writeControl(fs, dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    },

    async setLimits(dirOf, limits, kind) {
      const cpu = dirOf('cpu');
      const mem = dirOf('memory');
      if (limits.cpuShares > 0) await writeControl(fs, cpu, 'cpu.weight', cpuSharesToWeight(limits.cpuShares));
      await writeControl(fs, cpu, 'cpu.max', cpuMaxLine(limits.cpuQuota, limits.cpuPeriod));
      await writeControl(fs, mem, 'memory.max', limits.memoryLimitBytes > 0 ? limits.memoryLimitBytes : 'max');
      if (kind !== 'container') return;
      // The kubelet's NoSwap (swapConfigurationHelper.ConfigureNoSwap): no swap for containers, and
      // the OOM killer takes the whole container, not one of its processes (memory.oom.group, unless
      // singleProcessOOMKill). Both files exist only with swap / kernel support.
      if (await fs.exists(path.join(mem, 'memory.swap.max'))) await writeControl(fs, mem, 'memory.swap.max', 0);
      if (await fs.exists(path.join(mem, 'memory.oom.group'))) await writeControl(fs, mem, 'memory.oom.group', 1);
    },

    async readLimits(dirOf): Promise<AppliedLimits> {
      const cpu = dirOf('cpu');
      const mem = dirOf('memory');
      const swapFile = path.join(mem, 'memory.swap.max');
      const swap = (await fs.exists(swapFile)) ? await readLimitFile(fs, swapFile) : null;
      return {
        cpuWeight: await readIntFile(fs, path.join(cpu, 'cpu.weight')),
        ...parseCpuMax(await fs.read(path.join(cpu, 'cpu.max'))),
        memoryLimitBytes: (await readLimitFile(fs, path.join(mem, 'memory.max'))) ?? 0,
        ...(swap !== null ? { noSwap: swap === 0 } : {}),
      };
    },

    async usage(dirOf): Promise<CgroupUsage> {
      const mem = dirOf('memory');
      const [cpuStat, usage, stat, limit] = await Promise.all([
        fs.read(path.join(dirOf('cpu'), 'cpu.stat')).then(parseFlatKeyed),
        readIntFile(fs, path.join(mem, 'memory.current')),
        fs.read(path.join(mem, 'memory.stat')).then(parseFlatKeyed),
        readLimitFile(fs, path.join(mem, 'memory.max')),
      ]);
      // cAdvisor for v2: working set = memory.current - inactive_file; rss = anon. memory.stat is
      // hierarchical on v2 (no `total_` prefix).
      const workingSet = Math.max(0, usage - (stat.get('inactive_file') ?? 0));
      return {
        cpu: { usageCoreNanoSeconds: (cpuStat.get('usage_usec') ?? 0) * 1000 },
        memory: {
          usageBytes: usage,
          workingSetBytes: workingSet,
          rssBytes: stat.get('anon') ?? 0,
          pageFaults: stat.get('pgfault') ?? 0,
          majorPageFaults: stat.get('pgmajfault') ?? 0,
          ...(limit !== undefined ? { availableBytes: Math.max(0, limit - workingSet) } : {}),
        },
      };
    },

    async oomEvents(dirOf): Promise<OomEvents> {
      // memory.events counts this cgroup and its descendants (unless mounted with memory_localevents).
      const events = parseFlatKeyed(await fs.read(path.join(dirOf('memory'), 'memory.events')));
      return { oomKills: events.get('oom_kill') ?? 0, limitHits: events.get('max') ?? 0 };
    },

    async killAll(dir) {
      const file = path.join(dir, 'cgroup.kill');
      if (!(await fs.exists(file))) return false;
      await writeControl(fs, dir, 'cgroup.kill', 1);
      return true;
    },
  };
}

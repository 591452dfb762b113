// A directory tree that imitates a cgroup v2 filesystem, for testing the v2 code on hosts that run
// cgroup v1 (or none). It keeps the rules the v2 code depends on: a new cgroup gets the control files
// of the controllers its parent enabled in cgroup.subtree_control (and no others), a cgroup can only
// enable controllers it has, control files cannot be created, and rmdir fails while the cgroup has
// children or processes. What the kernel computes (usage, OOM counters) the test writes itself.

import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nodeCgroupFs, type CgroupFs } from './cgroup-fs.js';

// Initial values as a 6.x kernel shows them, per controller ('' = every cgroup).
const CONTROL_FILES: Record<string, Record<string, string>> = {
  '': {
    'cgroup.procs': '',
    'cgroup.subtree_control': '',
    'cgroup.kill': '',
    'cgroup.events': 'populated 0\nfrozen 0\n',
  },
  cpu: { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n' },
  memory: {
    'memory.max': 'max\n',
    'memory.current': '0\n',
    'memory.stat': 'anon 0\nfile 0\nactive_file 0\ninactive_file 0\npgfault 0\npgmajfault 0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
    'memory.swap.max': 'max\n',
    'memory.oom.group': '0\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
};

/** Creates the root of an imitation cgroup v2 tree in `dir`, offering `controllers`. */
export async function createFakeCgroup2Root(dir: string, controllers = ['cpuset', 'cpu', 'io', 'memory', 'pids']): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'cgroup.controllers'), `${controllers.join(' ')}\n`);
  await writeFile(path.join(dir, 'cgroup.subtree_control'), '\n');
  await writeFile(path.join(dir, 'cgroup.procs'), '');
}

/** A {@link CgroupFs} over an imitation cgroup v2 tree made by {@link createFakeCgroup2Root}. */
export function fakeCgroup2Fs(): CgroupFs {
  const fail = (code: string, what: string) => Object.assign(new Error(`${code}: ${what}`), { code });
  const words = async (file: string) => (await readFile(file, 'utf8')).trim().split(/\s+/).filter(Boolean);
  return {
    ...nodeCgroupFs,
    async write(file, data) {
      if (!(await nodeCgroupFs.exists(file))) throw fail('ENOENT', file);
      const dir = path.dirname(file);
      switch (path.basename(file)) {
        case 'cgroup.subtree_control': {
          const have = await words(path.join(dir, 'cgroup.controllers'));
          const enabled = new Set(await words(file));
          for (const token of data.trim().split(/\s+/)) {
            const name = token.slice(1);
            if (!have.includes(name)) throw fail('ENOENT', `${name} is not in ${dir}/cgroup.controllers`);
            if (token.startsWith('+')) enabled.add(name);
            else enabled.delete(name);
          }
          await writeFile(file, `${[...enabled].join(' ')}\n`);
          return;
        }
        case 'cgroup.procs': {
          const pids = await words(file);
          await writeFile(file, [...pids, data.trim()].map((p) => `${p}\n`).join(''));
          return;
        }
        default:
          await writeFile(file, data.endsWith('\n') ? data : `${data}\n`);
      }
    },
    async mkdir(dir) {
      if (await nodeCgroupFs.exists(dir)) return false;
      const parent = path.dirname(dir);
      if (!(await nodeCgroupFs.exists(parent))) await this.mkdir(parent);
      const inherited = await words(path.join(parent, 'cgroup.subtree_control'));
      await mkdir(dir);
      await writeFile(path.join(dir, 'cgroup.controllers'), `${inherited.join(' ')}\n`);
      for (const controller of ['', ...inherited]) {
        for (const [name, value] of Object.entries(CONTROL_FILES[controller] ?? {})) await writeFile(path.join(dir, name), value);
      }
      return true;
    },
    async rmdir(dir) {
      const entries = await readdir(dir, { withFileTypes: true });
      if (entries.some((e) => e.isDirectory())) throw fail('EBUSY', `${dir} has child cgroups`);
      if ((await words(path.join(dir, 'cgroup.procs'))).length > 0) throw fail('EBUSY', `${dir} has processes`);
      // The control files vanish with the cgroup.
      for (const e of entries) await rm(path.join(dir, e.name));
      await rmdir(dir);
    },
  };
}

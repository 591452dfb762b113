// nodelet's cgroups: one parent, a cgroup per pod inside it, a cgroup per container inside that.
//
//   <hierarchy>/<parent>/pod<uid>/<container id>        e.g. /sys/fs/cgroup/memory/nodelet/pod1f2e…/9ab3…
//
// The kubelet's cgroupfs driver names pod cgroups the same way (pkg/kubelet/cm/pod_container_manager_linux.go
// GetPodContainerName: "pod" + UID) but puts them under QoS tiers (/kubepods/burstable/pod<uid>) whose
// shares it keeps adjusting (qos_container_manager_linux.go). We keep one level less: every pod sits
// directly under the parent with its own shares, so a BestEffort pod (2 shares) competes with each
// Burstable pod rather than its tier competing with theirs; node allocatable is not enforced. A container's cgroup
// is named by its container ID, as CRI runtimes name theirs, so a restarted container gets a fresh
// cgroup (and fresh OOM counters) while the previous attempt's is being removed.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeletError } from '../../../errors.js';
import { cgroupError, nodeCgroupFs, type CgroupFs } from './cgroup-fs.js';
import { detectCgroups, parseProcCgroup, pathIn, type CgroupHost, type Hierarchy } from './detect.js';
import type { CgroupDriver, CgroupKind } from './driver.js';
import type { AppliedLimits, CgroupLimits, CgroupUsage, OomEvents } from './types.js';
import { createV1Driver } from './v1.js';
import { createV2Driver } from './v2.js';

/** The default parent cgroup of nodelet's pods, in every hierarchy. */
export const DEFAULT_CGROUP_PARENT = 'nodelet';

/** How long {@link Cgroup.remove} waits for killed processes to leave before it gives up. */
export const DEFAULT_REMOVE_TIMEOUT_MS = 5_000;

/** Options of {@link createCgroupManager}. */
export interface CgroupManagerOptions {
  /** Where the cgroup filesystem is mounted; default /sys/fs/cgroup. */
  root?: string;
  /**
   * The parent cgroup of every pod, relative to each hierarchy's root (or to this process's own
   * cgroup with `relativeToSelf`): default `nodelet`. Give each nodelet sharing a host (one per
   * --root-dir) a parent of its own.
   */
  parent?: string;
  /**
   * Place the parent under the cgroup this process is in (per hierarchy, from /proc/self/cgroup)
   * instead of the hierarchy's root: for a delegated subtree (systemd `Delegate=yes`, a container
   * with its own cgroup namespace) and for tests, whose cgroups then stay inside whatever limits
   * the test runner has. On cgroup v2 the process must not sit in the cgroup it delegates from (the
   * no-internal-processes rule): move it to a leaf first.
   */
  relativeToSelf?: boolean;
  /** The content of /proc/self/cgroup, for `relativeToSelf` (tests); read from /proc by default. */
  selfCgroup?: string;
  /** File access; a test imitating cgroupfs passes its own. */
  fs?: CgroupFs;
  /**
   * `false`: create nothing, not even the parent (whose existence is then not checked either): for a
   * reader of the cgroups another process manages (nodelet reading usage for /stats/summary while the
   * runtime supervisor owns them). Default true.
   */
  create?: boolean;
}

/** Where one cgroup lives in one hierarchy. */
export interface CgroupPlacement {
  /** The controllers of that hierarchy (see {@link Hierarchy.controllers}). */
  controllers: string[];
  /** The cgroup's path as /proc/<pid>/cgroup shows it: `/nodelet/pod<uid>/<id>`. */
  path: string;
  /** Its directory: `/sys/fs/cgroup/memory/nodelet/pod<uid>/<id>`. */
  dir: string;
}

/** One cgroup (nodelet's parent, a pod's, a container's) across the hierarchies. Creating the handle touches nothing. */
export interface Cgroup {
  readonly kind: CgroupKind;
  readonly placements: readonly CgroupPlacement[];
  /**
   * The `cgroup.procs` files a process writes its pid to, to join this cgroup: one per v1 hierarchy,
   * one on v2. For a spawn wrapper that joins before exec ({@link joinThenExecArgv}).
   */
  readonly procsFiles: readonly string[];
  /** Creates the cgroup (missing parents too) and writes `limits`. Creating one that exists only writes the limits. */
  create(limits?: CgroupLimits): Promise<void>;
  /** Writes limits: 0 values mean unlimited, so this also lifts a previous limit. */
  setLimits(limits: CgroupLimits): Promise<void>;
  readLimits(): Promise<AppliedLimits>;
  /** Moves process `pid` (all its threads) into this cgroup in every hierarchy. Its children forked later follow. */
  join(pid: number): Promise<void>;
  /** The processes in this cgroup itself (not its children's). */
  pids(): Promise<number[]>;
  usage(): Promise<CgroupUsage>;
  oomEvents(): Promise<OomEvents>;
  /** Signals every process in this cgroup and below; resolves how many were signalled. */
  kill(signal?: NodeJS.Signals): Promise<number>;
  /**
   * Removes this cgroup and every cgroup below it, deepest first. Processes still inside are killed
   * (SIGKILL), since a cgroup with processes cannot be removed; their exit is waited for (they leave
   * the cgroup when they exit, even before their parent reaps them) up to `timeoutMs`, then a
   * `CgroupError` says what is still busy. A cgroup already gone is fine.
   */
  remove(opts?: { timeoutMs?: number }): Promise<void>;
  exists(): Promise<boolean>;
}

/** A pod cgroup found under the parent, with its container cgroups. */
export interface PodCgroupEntry {
  podUID: string;
  containerIds: string[];
}

/** nodelet's cgroups on this host. */
export interface CgroupManager {
  readonly host: CgroupHost;
  readonly parent: Cgroup;
  /** The cgroup of pod `podUID`: `<parent>/pod<uid>`. */
  pod(podUID: string): Cgroup;
  /** The cgroup of a container: `<parent>/pod<uid>/<containerId>`. */
  container(podUID: string, containerId: string): Cgroup;
  /** The pod cgroups under the parent and their containers' (in the first hierarchy): what to sweep after a crash. */
  list(): Promise<PodCgroupEntry[]>;
}

/**
 * Detects the host's cgroups and creates nodelet's parent cgroup, which also proves they are writable
 * here. Throws a NodeletError `CgroupsUnavailable` with the kernel's reason (no cgroupfs, read-only
 * inside a container, permission denied) when nodelet cannot use them.
 */
export async function createCgroupManager(opts: CgroupManagerOptions = {}): Promise<CgroupManager> {
  const fs = opts.fs ?? nodeCgroupFs;
  const host = await detectCgroups({ ...(opts.root !== undefined ? { root: opts.root } : {}), fs });
  const driver = host.version === 2 ? createV2Driver(fs, host.hierarchies[0]!.controllers) : createV1Driver(fs);
  const parentPath = cleanRelative(opts.parent ?? DEFAULT_CGROUP_PARENT);
  const self = opts.relativeToSelf ? parseProcCgroup(opts.selfCgroup ?? (await readFile('/proc/self/cgroup', 'utf8'))) : undefined;
  const bases = host.hierarchies.map((h) => {
    const base = self ? pathIn(self, host, h) : '/';
    if (base === undefined) throw new NodeletError('CgroupsUnavailable', `this process is in no cgroup of the ${h.controllers.join(',')} hierarchy`);
    return path.posix.join(base, parentPath);
  });
  const handle = (kind: CgroupKind, ...names: string[]) => new HostCgroup(fs, driver, host.hierarchies, kind, bases, names);
  const parent = handle('parent');
  if (opts.create === false) return manager(fs, parent, handle, host);
  try {
    if (host.version === 2) {
      // Every cgroup from the hierarchy's root down to the parent itself must pass the controllers
      // on, top first: a cgroup can only hand on what it was given.
      for (const dir of ancestorsFrom(host.root, parent.placements[0]!.dir)) {
        await fs.mkdir(dir);
        await driver.enableControllers(dir);
      }
    } else {
      await parent.create();
    }
  } catch (err) {
    throw new NodeletError('CgroupsUnavailable', `cgroups are not usable here: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return manager(fs, parent, handle, host);
}

function manager(fs: CgroupFs, parent: Cgroup, handle: (kind: CgroupKind, ...names: string[]) => Cgroup, host: CgroupHost): CgroupManager {
  return {
    host,
    parent,
    pod: (uid) => handle('pod', `pod${safeName(uid, 'pod UID')}`),
    container: (uid, id) => handle('container', `pod${safeName(uid, 'pod UID')}`, safeName(id, 'container ID')),
    async list() {
      const dir = parent.placements[0]!.dir;
      const out: PodCgroupEntry[] = [];
      for (const name of await fs.subdirs(dir).catch(() => [] as string[])) {
        if (!name.startsWith('pod')) continue;
        out.push({ podUID: name.slice(3), containerIds: await fs.subdirs(path.join(dir, name)).catch(() => []) });
      }
      return out;
    },
  };
}

class HostCgroup implements Cgroup {
  readonly placements: CgroupPlacement[];
  readonly procsFiles: string[];

  constructor(
    private readonly fs: CgroupFs,
    private readonly driver: CgroupDriver,
    hierarchies: Hierarchy[],
    readonly kind: CgroupKind,
    bases: string[],
    names: string[],
  ) {
    this.placements = hierarchies.map((h, i) => {
      const p = path.posix.join(bases[i]!, ...names);
      return { controllers: h.controllers, path: p, dir: path.join(h.mount, p) };
    });
    this.procsFiles = this.placements.map((p) => path.join(p.dir, 'cgroup.procs'));
  }

  private readonly dirOf = (controller: string): string => {
    const p = this.placements.find((x) => x.controllers.includes(controller));
    if (!p) throw new NodeletError('CgroupError', `cgroup: the ${controller} controller is not mounted`);
    return p.dir;
  };

  async create(limits?: CgroupLimits): Promise<void> {
    // v2: a container's cgroup gets the controllers its pod's cgroup hands on, so the pod's comes
    // first even when nobody created it (the parent's are enabled by createCgroupManager).
    if (this.kind === 'container') await this.mkdirs([path.dirname(this.placements[0]!.dir)], true);
    await this.mkdirs(
      this.placements.map((p) => p.dir),
      this.kind === 'pod',
    );
    if (limits) await this.setLimits(limits);
  }

  private async mkdirs(dirs: string[], enable: boolean): Promise<void> {
    for (const dir of dirs) {
      try {
        await this.fs.mkdir(dir);
      } catch (err) {
        throw cgroupError(`mkdir ${dir}`, err);
      }
    }
    if (enable) await this.driver.enableControllers(dirs[0]!);
  }

  setLimits(limits: CgroupLimits): Promise<void> {
    return this.driver.setLimits(this.dirOf, limits, this.kind);
  }

  readLimits(): Promise<AppliedLimits> {
    return this.driver.readLimits(this.dirOf);
  }

  async join(pid: number): Promise<void> {
    for (const file of this.procsFiles) {
      try {
        await this.fs.write(file, String(pid));
      } catch (err) {
        throw cgroupError(`move process ${pid} into ${file}`, err);
      }
    }
  }

  async pids(): Promise<number[]> {
    return readPids(this.fs, this.placements[0]!.dir);
  }

  usage(): Promise<CgroupUsage> {
    return this.driver.usage(this.dirOf);
  }

  oomEvents(): Promise<OomEvents> {
    return this.driver.oomEvents(this.dirOf);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const pids = new Set<number>();
    for (const p of this.placements) {
      for (const dir of await subtree(this.fs, p.dir)) for (const pid of await readPids(this.fs, dir)) pids.add(pid);
    }
    if (pids.size > 0 && signal === 'SIGKILL' && (await this.driver.killAll(this.placements[0]!.dir))) return pids.size;
    // A pid read from cgroup.procs is a process in the cgroup right now; it could exit and its pid be
    // reused between the read and the kill, a window as narrow as runc's when it has no freezer.
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // ESRCH: it exited meanwhile.
      }
    }
    return pids.size;
  }

  async remove(opts: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_REMOVE_TIMEOUT_MS);
    let delay = 5;
    for (;;) {
      // Killing again each round also catches what forked while the previous round's kill landed.
      const left = await this.kill('SIGKILL');
      const busy = left === 0 ? await this.rmdirAll() : undefined;
      if (left === 0 && busy === undefined) return;
      if (Date.now() >= deadline) {
        throw new NodeletError('CgroupError', `cgroup: ${this.placements[0]!.path} is still busy after ${opts.timeoutMs ?? DEFAULT_REMOVE_TIMEOUT_MS} ms: ${busy ?? `${left} process(es) still inside`}`);
      }
      // Waiting for killed processes to leave: poll with backoff, there is no portable event for it on v1.
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(100, delay * 2);
    }
  }

  /** rmdir of the subtree in every hierarchy, deepest first; returns what is still busy, undefined when all is gone. */
  private async rmdirAll(): Promise<string | undefined> {
    for (const p of this.placements) {
      const dirs = await subtree(this.fs, p.dir);
      for (const dir of dirs.reverse()) {
        try {
          await this.fs.rmdir(dir);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') continue;
          if (code === 'EBUSY' || code === 'ENOTEMPTY') return `rmdir ${dir}: ${code}`;
          throw cgroupError(`rmdir ${dir}`, err);
        }
      }
    }
    return undefined;
  }

  async exists(): Promise<boolean> {
    return this.fs.exists(this.placements[0]!.dir);
  }
}

/** A cgroup directory and every cgroup below it, parents before children; [] when it does not exist. */
async function subtree(fs: CgroupFs, dir: string): Promise<string[]> {
  if (!(await fs.exists(dir))) return [];
  const out = [dir];
  for (let i = 0; i < out.length; i++) {
    const children = await fs.subdirs(out[i]!).catch(() => [] as string[]);
    out.push(...children.map((c) => path.join(out[i]!, c)));
  }
  return out;
}

async function readPids(fs: CgroupFs, dir: string): Promise<number[]> {
  const text = await fs.read(path.join(dir, 'cgroup.procs')).catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/** `root`, then each directory below it down to and including `dir`. */
function ancestorsFrom(root: string, dir: string): string[] {
  const rel = path.relative(root, dir);
  const out = [root];
  let cur = root;
  for (const part of rel.split(path.sep).filter(Boolean)) out.push((cur = path.join(cur, part)));
  return out;
}

function cleanRelative(p: string): string {
  const parts = p.split('/').filter(Boolean);
  if (parts.length === 0 || parts.some((x) => x === '..' || x === '.')) {
    throw new NodeletError('CgroupError', `cgroup parent ${JSON.stringify(p)} must be a relative path without . or ..`);
  }
  return parts.join('/');
}

// A cgroup name comes from a pod UID or a container ID: keep it to one plain path component.
function safeName(name: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name)) throw new NodeletError('CgroupError', `cgroup: ${what} ${JSON.stringify(name)} is not a valid cgroup name`);
  return name;
}

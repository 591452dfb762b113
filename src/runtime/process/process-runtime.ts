import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { NodeletError } from '../../errors.js';
import { CheckpointStore, type ContainerRecord } from './checkpoint-store.js';
import { processGroup, processStartTime } from './proc-stat.js';
import { createCriLogWriter, type CriLogWriter, type LogRotator } from '../../logs/index.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../util/log.js';
import { readOomScoreAdj } from '../../util/oom-score-adj.js';
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerInfo,
  ExecResult,
  PodSandboxConfig,
  Runtime,
  SandboxInfo,
} from '../types.js';
import { JOIN_ARGV0, JOIN_FAILED_EXIT_CODE, joinThenExecArgv, wasOomKilled, type Cgroup } from './cgroups/index.js';
import { readBwrapStatus } from './isolation/bwrap-status.js';
import { ownCapabilities } from './isolation/capabilities.js';
import { commandExists } from './isolation/command-lookup.js';
import { execArgv, planLaunch, STATUS_FD, type LaunchPlan } from './isolation/launch-plan.js';
import { hostPathOf, prepareMountPoints } from './isolation/mounts.js';
import { findIsolationTools, probeBwrap, type IsolationMode, type IsolationSupport, type IsolationTools } from './isolation/tools.js';
import { oomScorePlan } from './oom-score.js';
import { containerLimits, podLimits, sweepCgroups, type CgroupSupport, type RuntimeCgroups } from './runtime-cgroups.js';
import { runBounded } from './run-bounded.js';
import { SpawnQueue } from './spawn-queue.js';

/** Options of {@link createProcessRuntime}. */
export interface ProcessRuntimeOptions {
  clock: Clock;
  logger: Logger;
  /** Variables every container starts with (PATH, HOME), before its own `env`. */
  baseEnv: Record<string, string>;
  rotator?: LogRotator;
  /** Where sandboxes and containers are checkpointed; without it the runtime's state dies with it. */
  store?: CheckpointStore;
  /** A container's log could not be written (disk full): the container keeps running, output is dropped. */
  onLogError?: (containerId: string, podUID: string, err: unknown) => void;
  /**
   * An environment variable set in every container (`NODELET_RUNTIME=<state dir>`): it lets
   * {@link ProcessRuntime.recover} find processes of ours that no checkpoint names (a damaged file, a
   * crash between spawn and checkpoint) and stop them, so nothing is left orphaned.
   */
  ownerTag?: string;
  /**
   * The runtime's cgroups (see runtime-cgroups.ts openRuntimeCgroups): a cgroup per pod and per
   * container with the limits of their configs, OOM kills reported as `OOMKilled`. Without a
   * manager, containers run without cgroups of their own.
   */
  cgroups?: RuntimeCgroups;
}

/** The variable carrying {@link ProcessRuntimeOptions.ownerTag}. */
export const OWNER_ENV = 'NODELET_RUNTIME';

interface Sandbox {
  info: SandboxInfo;
  config: PodSandboxConfig;
}

interface Container {
  info: ContainerInfo;
  config: ContainerConfig;
  /** How it runs (decided at create); undefined for a container recovered from a checkpoint. */
  launch?: LaunchPlan;
  /**
   * The start of the stderr of a container started through a wrapper (bwrap, the cgroup join): their
   * own error when the sandbox or the cgroup could not be set up.
   */
  stderrHead?: string;
  /** Its cgroup, from its start until it has been removed after the exit. */
  cgroup?: Cgroup;
  /** The removal of its cgroup after the exit (it kills what is left in it), once under way. */
  cgroupRemoved?: Promise<void>;
  child?: ChildProcess;
  pidStartTime?: string;
  log?: CriLogWriter;
  exited: Promise<void>;
  markExited: () => void;
}

/** Bytes of a wrapped container's stderr kept to explain a sandbox or cgroup that could not be set up. */
const STDERR_HEAD_BYTES = 2048;

/**
 * The embedded runtime: each container is its command run as a host process in its own process group,
 * stdout/stderr framed into CRI log files. No images, no daemon. With isolation (`setIsolation('bwrap')`)
 * a container that is not privileged runs in a bubblewrap sandbox: mount, pid, IPC and UTS namespaces
 * of its own over the host's root, its volumes bound where its spec says (see isolation/).
 */
export function createProcessRuntime(opts: ProcessRuntimeOptions): ProcessRuntime {
  return new ProcessRuntime(opts);
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private readonly spawns = new SpawnQueue();

  private rotator: LogRotator | undefined;
  private isolation: IsolationMode = 'none';
  /** The last probe of bwrap: what messages about isolation say. */
  private support: IsolationSupport | undefined;
  private tools: Promise<IsolationTools> | undefined;
  private capabilities: ReadonlySet<string> | undefined;
  /**
   * This process's own OOM score, which a container inherits unless the wrapper writes another. Read
   * once: nothing changes it after start, and a start must not read /proc for it each time.
   */
  private ownOomScore: { value: number | undefined } | undefined;
  /** Pods already told (in the log) that their containers keep the runtime's higher OOM score. */
  private readonly oomRefusedLogged = new Set<string>();

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.rotator = opts.rotator;
  }

  /**
   * Whether bwrap can sandbox containers here. Probed again while it cannot (it may be installed
   * meanwhile); once it works the answer is kept.
   */
  async isolationSupport(): Promise<IsolationSupport> {
    if (this.support?.available) return this.support;
    this.support = await probeBwrap(this.opts.baseEnv.PATH);
    this.tools = undefined;
    return this.support;
  }

  /**
   * Sets the isolation of containers created from now on (running ones keep theirs). Throws
   * IsolationUnavailable for `bwrap` when bwrap cannot sandbox here.
   */
  async setIsolation(mode: IsolationMode): Promise<void> {
    if (mode === 'bwrap') {
      const support = await this.isolationSupport();
      if (!support.available) throw new NodeletError('IsolationUnavailable', support.detail);
    }
    this.isolation = mode;
  }

  /** Whether containers get cgroups here, and why not (for hello and the start-up line). */
  cgroupSupport(): CgroupSupport {
    return this.opts.cgroups?.support ?? { available: false, detail: 'cgroups are not in use', cgroupRoot: '' };
  }

  /**
   * Removes the runtime's parent cgroup and everything below it, killing what is left inside: for a
   * supervisor that exits with its containers stopped. Sandboxes that remain get their pod cgroups
   * back from the next supervisor's {@link recover}.
   */
  async removeCgroups(): Promise<void> {
    const manager = this.opts.cgroups?.manager;
    if (!manager) return;
    await Promise.all([...this.containers.values()].map((c) => c.cgroupRemoved));
    await manager.parent.remove().catch((err) => this.opts.logger.warn({ err: errorMessage(err) }, 'Cannot remove the runtime cgroups'));
  }

  private isolationTools(): Promise<IsolationTools> {
    return (this.tools ??= findIsolationTools(this.opts.baseEnv.PATH));
  }

  /**
   * Loads the checkpoints of a previous run of this runtime. Its containers are no longer our children:
   * their exit codes cannot be known and their output has no reader any more, so one still running is
   * stopped, and each is reported exited with ContainerStatusUnknown (137), as the kubelet reports a
   * container it lost. The pod workers then restart them per policy. Returns what was set aside.
   */
  async recover(): Promise<string[]> {
    const store = this.opts.store;
    if (!store) return [];
    const { sandboxes, containers, problems } = await store.load();
    for (const r of sandboxes) this.sandboxes.set(r.info.id, { info: r.info, config: r.config });
    const now = this.opts.clock.now();
    for (const r of containers) {
      if (!this.sandboxes.has(r.info.sandboxId)) {
        await this.killIfSame(r);
        problems.push(`container ${r.info.id} (${r.info.name}) belongs to no known sandbox: removed`);
        await store.deleteContainer(r.info.id);
        continue;
      }
      const c = this.track(r.info, r.config);
      if (r.info.state === 'running') {
        const wasAlive = await this.killIfSame(r);
        c.info.state = 'exited';
        c.info.exitCode = 137;
        c.info.reason = 'ContainerStatusUnknown';
        c.info.message = wasAlive
          ? 'The container was stopped because the runtime supervisor that captured its output had died'
          : 'The container exited while the runtime supervisor was down; its exit code is unknown';
        c.info.finishedAt = now;
        this.persist(c);
      }
      if (c.info.state !== 'created') c.markExited();
    }
    // Strays first: a process no checkpoint names is reported by its pid before the sweep of the
    // cgroups it may sit in kills it silently.
    problems.push(...(await this.stopStrays()));
    problems.push(...(await this.recoverCgroups()));
    return problems;
  }

  /**
   * Gives each known sandbox its pod cgroup with its limits again (it may have been removed with the
   * previous supervisor's parent, or made before cgroups were in use), then sweeps the cgroups no
   * running container or known sandbox owns: what a supervisor killed with -9 left behind.
   */
  private async recoverCgroups(): Promise<string[]> {
    const manager = this.opts.cgroups?.manager;
    if (!manager) return [];
    const problems: string[] = [];
    const sandboxes = [...this.sandboxes.values()];
    for (let i = 0; i < sandboxes.length; i += 16) {
      await Promise.all(
        sandboxes.slice(i, i + 16).map((s) =>
          manager
            .pod(s.info.uid)
            .create(podLimits(s.config))
            .catch((err) => void problems.push(`the cgroup of pod ${s.info.uid} could not be created: ${errorMessage(err)}`)),
        ),
      );
    }
    const running = [...this.containers.values()].filter((c) => c.info.state === 'running').map((c) => c.info.id);
    problems.push(...(await sweepCgroups(manager, new Set(sandboxes.map((s) => s.info.uid)), new Set(running))));
    return problems;
  }

  /** Kills the process groups that carry our owner tag but belong to no container we know running. */
  private async stopStrays(): Promise<string[]> {
    const tag = this.opts.ownerTag;
    if (!tag) return [];
    const known = new Set([...this.containers.values()].filter((c) => c.info.state === 'running').map((c) => c.info.pid));
    const needle = Buffer.from(`\0${OWNER_ENV}=${tag}\0`);
    const out: string[] = [];
    for (const name of await readdir('/proc').catch(() => [] as string[])) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      const env = await readFile(`/proc/${name}/environ`).catch(() => undefined);
      if (!env || !Buffer.concat([Buffer.from([0]), env]).includes(needle)) continue;
      const pgid = await processGroup(pid);
      if (pgid === undefined || known.has(pgid)) continue;
      killGroup(pgid, 'SIGKILL');
      killQuietly(pid);
      out.push(`process ${pid} (group ${pgid}) ran for this runtime but no checkpoint named it: stopped`);
    }
    return out;
  }

  /** Replaces the log rotator (new limits); every open log moves to it. */
  setRotator(rotator: LogRotator): void {
    const old = this.rotator;
    this.rotator = rotator;
    for (const c of this.containers.values()) {
      if (!c.log) continue;
      old?.unregister(c.log);
      rotator.register(c.log);
    }
    old?.stop();
  }

  /** Stops every running container with grace (SIGTERM, then SIGKILL after `graceSeconds`). */
  async stopEverything(graceSeconds: number): Promise<void> {
    const running = [...this.containers.values()].filter((c) => c.info.state === 'running');
    await Promise.all(running.map((c) => this.stopContainer(c.info.id, graceSeconds)));
    await this.opts.store?.flush();
  }

  /** Whether nothing at all is left: no sandbox, no container. */
  isEmpty(): boolean {
    return this.sandboxes.size === 0 && this.containers.size === 0;
  }

  async version() {
    return { runtimeName: 'nodelet-process', runtimeVersion: process.version };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    await mkdir(config.logDirectory, { recursive: true });
    const cgroups = this.opts.cgroups?.manager;
    if (cgroups) {
      // The pod's cgroup first, with the pod's limits, as the kubelet's pod container manager
      // (EnsureExists) before the sandbox: its containers' cgroups go inside. Creating it again for a
      // new sandbox of the same pod only writes the limits.
      try {
        await cgroups.pod(config.uid).create(podLimits(config));
      } catch (err) {
        throw new NodeletError('CreatePodSandboxError', `cannot create the pod's cgroup: ${errorMessage(err)}`, { cause: err });
      }
    }
    const id = newId();
    const sandbox: Sandbox = {
      config,
      info: {
        id,
        uid: config.uid,
        name: config.name,
        namespace: config.namespace,
        attempt: config.attempt,
        ready: true,
        createdAt: this.opts.clock.now(),
        logDirectory: config.logDirectory,
        annotations: { ...config.annotations },
      },
    };
    this.sandboxes.set(id, sandbox);
    await this.opts.store?.saveSandbox(sandbox);
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    if (sandbox.info.ready) {
      sandbox.info.ready = false;
      await this.opts.store?.saveSandbox(sandbox);
    }
    const mine = [...this.containers.values()].filter((c) => c.info.sandboxId === sandboxId);
    await Promise.all(mine.map((c) => this.stopContainer(c.info.id, 0)));
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    await this.stopPodSandbox(sandboxId);
    for (const c of [...this.containers.values()]) {
      if (c.info.sandboxId === sandboxId) await this.removeContainer(c.info.id);
    }
    this.sandboxes.delete(sandboxId);
    await this.opts.store?.deleteSandbox(sandboxId);
    const uid = sandbox?.info.uid;
    const cgroups = this.opts.cgroups?.manager;
    // Another sandbox of the same pod (a new attempt) still uses the pod's cgroup.
    if (cgroups && uid && ![...this.sandboxes.values()].some((s) => s.info.uid === uid)) {
      await cgroups
        .pod(uid)
        .remove()
        .catch((err) => this.opts.logger.warn({ err: errorMessage(err), podUID: uid }, 'Cannot remove the pod cgroup'));
    }
  }

  async listPodSandboxes(): Promise<SandboxInfo[]> {
    return [...this.sandboxes.values()].map((s) => ({ ...s.info, annotations: { ...s.info.annotations } }));
  }

  async podSandboxStatus(sandboxId: string): Promise<SandboxInfo | undefined> {
    const s = this.sandboxes.get(sandboxId);
    return s && { ...s.info, annotations: { ...s.info.annotations } };
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) throw new NodeletError('CreateContainerError', `pod sandbox ${sandboxId} not found`);
    if (config.command.length === 0) {
      throw new NodeletError(
        'CreateContainerConfigError',
        `container ${config.name} has no command: the process runtime runs commands and does not pull images; ` +
          `set "command", or use a CRI runtime (--container-runtime-endpoint) to run the image's entrypoint`,
      );
    }
    const launch = planLaunch({
      config,
      sandbox: sandbox.config,
      mode: this.isolation,
      support: this.support,
      tools: await this.isolationTools(),
      self: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
      ownCapabilities: (this.capabilities ??= ownCapabilities()),
    });
    const mounts = config.mounts ?? [];
    if (launch.kind === 'bwrap') await prepareMountPoints(mounts);
    if (config.workingDir) {
      // In a sandbox the directory may be inside a volume; under /dev or /proc the sandbox alone can tell.
      const onHost = launch.kind === 'bwrap' ? hostPathOf(config.workingDir, mounts) : config.workingDir;
      const st = onHost === undefined ? undefined : await stat(onHost).catch(() => undefined);
      if (onHost !== undefined && !st?.isDirectory()) {
        throw new NodeletError('CreateContainerError', `workingDir ${config.workingDir} is not a directory on this host`);
      }
    }
    const id = newId();
    const c = this.track(
      {
        id,
        sandboxId,
        name: config.name,
        attempt: config.attempt,
        state: 'created',
        image: config.image,
        createdAt: this.opts.clock.now(),
        startedAt: 0,
        finishedAt: 0,
        exitCode: 0,
        reason: '',
        message: '',
        logPath: path.join(sandbox.config.logDirectory, config.logPath),
      },
      config,
    );
    c.launch = launch;
    // Not checkpointed until it starts: a container that never ran is garbage after a crash anyway.
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const c = this.mustGet(containerId);
    if (c.info.state !== 'created') throw new NodeletError('RunContainerError', `container ${containerId} was already started`);
    await mkdir(path.dirname(c.info.logPath), { recursive: true });
    c.log = await createCriLogWriter(c.info.logPath, {
      clock: this.opts.clock,
      onError: (err) => this.opts.onLogError?.(containerId, this.podUID(c), err),
    });
    this.rotator?.register(c.log);
    const command = [...c.config.command, ...c.config.args];
    const env = this.containerEnv(c);
    const launch = c.launch;
    const sandboxed = launch?.kind === 'bwrap';
    const podUID = this.podUID(c);
    const cgroup = podUID ? this.opts.cgroups?.manager?.container(podUID, containerId) : undefined;
    const oomScoreAdj = this.oomScoreToWrite(c, true);
    // The join wrapper joins the cgroup and sets the OOM score; without either, no wrapper.
    const wrapped = cgroup !== undefined || oomScoreAdj !== undefined;
    // bwrap, setpriv and the join wrapper exec the command themselves: a missing one would be their
    // exit, not a start error.
    if ((launch && launch.prefix.length > 0) || wrapped) {
      const found = await commandExists(command[0]!, {
        pathEnv: env.PATH,
        cwd: c.config.workingDir || process.cwd(),
        mounts: sandboxed ? (c.config.mounts ?? []) : [],
      });
      if (!found) {
        const err = new NodeletError('RunContainerError', startErrorMessage(command[0]!, Object.assign(new Error('not found'), { code: 'ENOENT' })));
        this.finish(c, 128, 'StartError', err.message);
        throw err;
      }
    }
    if (cgroup) {
      // Created, with its limits, before anything of the container runs (runc creates the cgroup
      // before its init execs the process).
      try {
        await cgroup.create(containerLimits(c.config));
      } catch (err) {
        const e = new NodeletError('RunContainerError', `cannot create the container's cgroup: ${errorMessage(err)}`, { cause: err });
        c.cgroup = cgroup; // removed again by finish
        this.finish(c, 128, 'StartError', e.message);
        throw e;
      }
      c.cgroup = cgroup;
    }
    const inner = [...(launch?.prefix ?? []), ...command];
    // The join wrapper is the outermost layer: it writes its own pid, which in a new pid namespace
    // (inside bwrap) would not be the host's; bwrap and all it forks then start inside the cgroup.
    // It leaves descriptor 3 (bwrap's status) alone. The OOM score it sets is inherited through bwrap
    // and setpriv by the command and all it forks.
    const [file, ...argv] = wrapped ? joinThenExecArgv(cgroup?.procsFiles ?? [], inner, { oomScoreAdj }) : inner;
    const keepStderrHead = sandboxed || wrapped;

    const child = await this.spawns.run(() =>
      spawn(file!, argv, {
        // A sandbox gets its working directory from bwrap (--chdir): it may exist only inside.
        cwd: sandboxed ? undefined : c.config.workingDir || undefined,
        env,
        detached: true, // own process group: the whole group is signalled on stop
        stdio: sandboxed ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      }),
    );
    c.child = child;
    // Listened for before any await: an exit while we wait for bwrap or checkpoint must not be missed.
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (...a) => resolve(a)));
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (...a) => resolve(a)));
    child.once('close', () => void this.closeLog(c));
    const status = sandboxed ? readBwrapStatus(child.stdio[STATUS_FD] as Readable) : undefined;
    // Through `c.log`: once the container is removed its writer is gone and late output is dropped.
    child.stdout!.on('data', (chunk: Buffer) => c.log?.write('stdout', chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      if (keepStderrHead && (c.stderrHead ?? '').length < STDERR_HEAD_BYTES) c.stderrHead = (c.stderrHead ?? '') + chunk.toString('utf8');
      c.log?.write('stderr', chunk);
    });

    const started = await new Promise<NodeletError | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err: NodeJS.ErrnoException) => {
        resolve(
          new NodeletError('RunContainerError', startErrorMessage(file!, err), {
            cause: err,
          }),
        );
      });
    });
    if (started) {
      this.finish(c, 128, 'StartError', started.message);
      throw started;
    }
    // A sandboxed container is the sandbox's process group: bwrap's init (pid 1 inside) and what it runs.
    let pid = child.pid!;
    if (status) {
      const sandboxPid = await status.childPid;
      if (sandboxPid === undefined) {
        await closed;
        const err = new NodeletError('RunContainerError', setupErrorMessage(c.stderrHead));
        this.finish(c, 128, 'StartError', err.message);
        throw err;
      }
      pid = sandboxPid;
    }
    c.info.state = 'running';
    c.info.pid = pid;
    c.info.startedAt = this.opts.clock.now();
    c.pidStartTime = await processStartTime(pid);
    // Checkpointed before anyone hears of the start: a crash from here on finds the process again.
    await this.persistNow(c);
    this.emit({ type: 'started', containerId, sandboxId: c.info.sandboxId, podUID: this.podUID(c) });
    void exited.then(() => {
      // A container is its whole process group: children left behind by the main process die with it.
      killGroup(child.pid!, 'SIGKILL');
      if (sandboxed) killGroup(pid, 'SIGKILL');
    });
    const exitedWith = async (code: number | null, signal: NodeJS.Signals | null) => {
      const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      if (exitCode === JOIN_FAILED_EXIT_CODE && joinFailure(c.stderrHead)) {
        this.finish(c, 128, 'StartError', setupErrorMessage(c.stderrHead));
        return;
      }
      this.finish(c, exitCode, await this.exitReason(c, exitCode), '');
    };
    if (!status) {
      void exited.then(([code, signal]) => exitedWith(code, signal));
      return;
    }
    // Once bwrap's status is read to its end: it says whether the command was exec'd at all.
    void Promise.all([closed, status.exitCode]).then(async ([[code, signal], ran]) => {
      if (ran === undefined && signal === null) this.finish(c, 128, 'StartError', setupErrorMessage(c.stderrHead));
      else await exitedWith(code, signal);
      c.stderrHead = undefined;
    });
  }

  /**
   * `OOMKilled` when the kernel's OOM killer killed a process of the container's cgroup (read before
   * the cgroup goes, as containerd reports a TaskOOM event), else `Completed` or `Error`.
   */
  private async exitReason(c: Container, exitCode: number): Promise<string> {
    const events = await c.cgroup?.oomEvents().catch((err) => {
      this.opts.logger.warn({ err: errorMessage(err), container: c.info.id }, 'Cannot read the OOM events of a container');
      return undefined;
    });
    if (events && wasOomKilled(events, exitCode)) return 'OOMKilled';
    return exitCode === 0 ? 'Completed' : 'Error';
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c || c.info.state !== 'running' || !c.info.pid) return;
    const pid = c.info.pid;
    killGroup(pid, 'SIGTERM');
    if (timeoutSeconds > 0) {
      let timer: { cancel(): void } | undefined;
      await Promise.race([c.exited, new Promise<void>((r) => (timer = this.opts.clock.setTimeout(r, timeoutSeconds * 1000)))]);
      timer?.cancel();
    }
    if (c.info.state === 'running') killGroup(pid, 'SIGKILL');
    await c.exited;
  }

  async removeContainer(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) return;
    if (c.info.state === 'running') await this.stopContainer(containerId, 0);
    await this.closeLog(c);
    await c.cgroupRemoved;
    this.containers.delete(containerId);
    await this.opts.store?.deleteContainer(containerId);
    // CRI RemoveContainer removes the container's log with it.
    await unlink(c.info.logPath).catch(() => undefined);
  }

  async listContainers(filter?: { sandboxId?: string }): Promise<ContainerInfo[]> {
    const out: ContainerInfo[] = [];
    for (const c of this.containers.values()) {
      if (filter?.sandboxId && c.info.sandboxId !== filter.sandboxId) continue;
      out.push({ ...c.info });
    }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerInfo | undefined> {
    const c = this.containers.get(containerId);
    return c ? { ...c.info } : undefined;
  }

  async execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecResult> {
    const c = this.mustGet(containerId);
    if (c.info.state !== 'running') throw new NodeletError('ExecError', `container ${c.info.name} is not running`);
    const launch = c.launch;
    // In a sandbox: through nsenter into its namespaces, as the container's user.
    const inner = launch ? execArgv(launch, c.info.pid!, c.config.workingDir, command, (await this.isolationTools()).nsenter) : command;
    // Inside the container's cgroup and with its OOM score, as runc exec starts a process: a probe's
    // memory and CPU count against the container, and are limited with it.
    const cgroup = c.cgroup && !c.cgroupRemoved ? c.cgroup : undefined;
    const oomScoreAdj = this.oomScoreToWrite(c, false);
    const argv = cgroup || oomScoreAdj !== undefined ? joinThenExecArgv(cgroup?.procsFiles ?? [], inner, { oomScoreAdj }) : inner;
    return runBounded(argv, {
      cwd: launch?.kind === 'bwrap' ? undefined : c.config.workingDir || undefined,
      env: this.containerEnv(c),
      timeoutMs: timeoutSeconds * 1000,
      spawns: this.spawns,
    });
  }

  onContainerEvent(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => this.closeLog(c)));
    await this.opts.store?.flush();
  }

  /**
   * The OOM score the join wrapper must write for a container's processes (its config's, from the
   * kubelet's QoS rules), or undefined when they inherit it anyway or cannot be given it: see
   * oom-score.ts. The latter is logged once per pod when `log`.
   */
  private oomScoreToWrite(c: Container, log: boolean): number | undefined {
    const wanted = c.config.resources?.oomScoreAdj;
    if (wanted === undefined) return undefined;
    const inherited = (this.ownOomScore ??= { value: readOomScoreAdj() }).value;
    const plan = oomScorePlan(wanted, inherited, (this.capabilities ??= ownCapabilities()).has('SYS_RESOURCE'));
    const uid = this.podUID(c);
    if (plan.refused && log && !this.oomRefusedLogged.has(uid)) {
      // Bounded: a node that churns through pods must not grow this forever.
      if (this.oomRefusedLogged.size >= 4096) this.oomRefusedLogged.clear();
      this.oomRefusedLogged.add(uid);
      const pod = `${c.config.labels['io.kubernetes.pod.namespace'] ?? ''}/${c.config.labels['io.kubernetes.pod.name'] ?? ''}`;
      this.opts.logger.warn(
        { pod, podUID: uid, container: c.config.name, oomScoreAdj: wanted, kept: inherited },
        "Cannot lower this pod's OOM score without CAP_SYS_RESOURCE: its containers keep the runtime's",
      );
    }
    return plan.write;
  }

  private track(info: ContainerInfo, config: ContainerConfig): Container {
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const c: Container = { info, config, exited, markExited };
    this.containers.set(info.id, c);
    return c;
  }

  private record(c: Container): ContainerRecord {
    return { info: c.info, config: c.config, pidStartTime: c.pidStartTime };
  }

  private persistNow(c: Container): Promise<void> {
    return this.opts.store?.saveContainer(this.record(c)) ?? Promise.resolve();
  }

  /** Checkpoints in the background; a failure is logged (the in-memory state stays right). */
  private persist(c: Container): void {
    this.persistNow(c).catch((err) =>
      this.opts.logger.error({ err: errorMessage(err), container: c.info.id }, 'Failed to checkpoint container'),
    );
  }

  /** Kills the recorded process group if it is still the same process (pid and start time). */
  private async killIfSame(r: ContainerRecord): Promise<boolean> {
    if (r.info.state !== 'running' || !r.info.pid || !r.pidStartTime) return false;
    if ((await processStartTime(r.info.pid)) !== r.pidStartTime) return false;
    killGroup(r.info.pid, 'SIGKILL');
    return true;
  }

  private finish(c: Container, exitCode: number, reason: string, message: string): void {
    if (c.info.state === 'exited') return;
    c.info.state = 'exited';
    c.info.exitCode = exitCode;
    c.info.reason = reason;
    c.info.message = message;
    c.info.finishedAt = this.opts.clock.now();
    this.persist(c);
    this.releaseCgroup(c);
    c.markExited();
    this.emit({ type: 'exited', containerId: c.info.id, sandboxId: c.info.sandboxId, podUID: this.podUID(c) });
  }

  /**
   * Removes an exited container's cgroup, killing what is left in it: children that left the process
   * group (setsid, a daemon) die with their container, as in a CRI runtime. In the background; a
   * removal of the container waits for it.
   */
  private releaseCgroup(c: Container): void {
    const cgroup = c.cgroup;
    if (!cgroup || c.cgroupRemoved) return;
    c.cgroupRemoved = cgroup.remove().then(
      () => void (c.cgroup = undefined),
      (err) => this.opts.logger.warn({ err: errorMessage(err), container: c.info.id }, 'Cannot remove the container cgroup'),
    );
  }

  private async closeLog(c: Container): Promise<void> {
    const log = c.log;
    if (!log) return;
    c.log = undefined;
    this.rotator?.unregister(log);
    await log.close().catch((err) => this.opts.logger.warn({ err, path: log.path }, 'Failed to close container log'));
  }

  private containerEnv(c: Container): Record<string, string> {
    const env: Record<string, string> = { ...this.opts.baseEnv };
    for (const e of c.config.env) env[e.name] = e.value;
    if (this.opts.ownerTag) env[OWNER_ENV] = this.opts.ownerTag;
    return env;
  }

  private podUID(c: Container): string {
    return this.sandboxes.get(c.info.sandboxId)?.info.uid ?? '';
  }

  private mustGet(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new NodeletError('RunContainerError', `container ${id} not found`);
    return c;
  }

  private emit(event: ContainerEvent): void {
    for (const l of this.listeners) l(event);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * Why a container could not be set up, in the wrapper's words: the cgroup join's line, else bwrap's
 * last `bwrap: …` line on stderr.
 */
function setupErrorMessage(stderr: string | undefined): string {
  const lines = (stderr ?? '').split('\n');
  const join = joinFailure(stderr);
  if (join) return `the container's cgroup could not be joined: ${join}`;
  const line = lines.filter((l) => l.startsWith('bwrap: ')).at(-1);
  return line ? `the container's sandbox could not be set up: ${line}` : "the container's sandbox could not be set up";
}

/** The cgroup join wrapper's own error line, when it failed before exec'ing anything. */
function joinFailure(stderr: string | undefined): string | undefined {
  return (stderr ?? '').split('\n').find((l) => l.startsWith(`${JOIN_ARGV0}: cannot join cgroup`));
}

function startErrorMessage(file: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return `exec: "${file}": executable file not found in $PATH`;
  if (err.code === 'EACCES') return `exec: "${file}": permission denied`;
  return `exec: "${file}": ${err.message}`;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAsNonRootViolation } from '../../../container/security-context.js';
import { errorMessage, NodeletError } from '../../../errors.js';
import type { Logger } from '../../../util/log.js';
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerInfo,
  ExecResult,
  PodSandboxConfig,
  Runtime,
  SandboxInfo,
} from '../../types.js';
import { hostProcessMountProblems } from '../isolation/mounts.js';
import type { IsolationMode, IsolationSetting } from '../isolation/tools.js';
import { createCgroupManager, type CgroupManager } from '../cgroups/index.js';
import { hasHardLimits, type CgroupSupport } from '../runtime-cgroups.js';
import { SUPERVISOR_LOG, SUPERVISOR_SOCKET } from './paths.js';
import {
  jsonLines,
  messageWriter,
  PROTOCOL_VERSION,
  type ConfigureSettings,
  type Hello,
  type LogSettings,
  type Notice,
  type Request,
  type Response,
} from './protocol.js';

/** Options of {@link connectProcessRuntime}. */
export interface SupervisedRuntimeOptions {
  /** `<root-dir>/process-runtime`: the supervisor's socket, pid file, log and checkpoints. */
  stateDir: string;
  logger: Logger;
  /** The environment containers start with; the supervisor is started with exactly this. */
  baseEnv: Record<string, string>;
  logs: LogSettings;
  /**
   * `--process-isolation`: `bwrap` sandboxes every container that is not privileged and refuses to
   * start without a working bwrap; `auto` does so when bwrap works here; `none` (the default here)
   * runs plain host processes.
   */
  isolation?: IsolationSetting;
  /**
   * `--cgroup-root`: the cgroup under which the supervisor makes its parent cgroup (`nodelet-<hash>`);
   * '' = each hierarchy's root. Taken by a supervisor when it starts.
   */
  cgroupRoot?: string;
  /** How long to wait for a supervisor just started to answer (generous: a busy 2-core machine). */
  startTimeoutMs?: number;
}

/** A container log could not be written (the disk is full): reported, the container keeps running. */
export interface LogErrorNotice {
  containerId: string;
  podUID: string;
  message: string;
}

/**
 * Connects to the node's runtime supervisor, starting it if none runs, and returns the process runtime
 * it serves. Containers live in the supervisor: closing this runtime, or nodelet dying, leaves them be.
 */
export async function connectProcessRuntime(opts: SupervisedRuntimeOptions): Promise<SupervisedRuntime> {
  const rt = new SupervisedRuntime(opts);
  // A supervisor may be exiting (idle) at the very moment we connect: then the next one is started.
  for (let attempt = 1; ; attempt++) {
    try {
      await rt.connect();
      return rt;
    } catch (err) {
      if (attempt >= 3 || (err as NodeletError).code !== 'RuntimeUnavailable') throw err;
    }
  }
}

export class SupervisedRuntime implements Runtime {
  readonly name = 'process';
  private socket: Socket | undefined;
  /** Writes to {@link socket}, batched per event-loop turn. */
  private send: ((msg: Request) => void) | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private readonly logErrorListeners = new Set<(n: LogErrorNotice) => void>();
  /** The supervisor predates podSandboxStatus: answer it from listPodSandboxes. */
  private legacySupervisor = false;
  /** The supervisor predates isolation: it must not be sent what it would silently ignore. */
  private legacyIsolation = false;
  /** The isolation containers created now get: set at every connection, from the setting and the supervisor. */
  isolation: IsolationMode = 'none';
  /** Why {@link isolation} is what it is (the bwrap found, or why none), for logs and messages. */
  isolationDetail = '';
  private isolationLogged = false;
  /** What the supervisor said of its cgroups at the last handshake; undefined: it predates them. */
  private cgroups: CgroupSupport | undefined;
  private cgroupsLogged: string | undefined;
  /** Pods already told (in the log) that their limits are not enforced. */
  private readonly unenforcedLogged = new Set<string>();
  private reader: { key: string; manager: Promise<CgroupManager | undefined> } | undefined;
  /** Set while {@link handshake} runs on a new connection. */
  private handshaking: Promise<void> | undefined;
  private closed = false;
  private reconnecting: Promise<void> | undefined;
  /** What the supervisor reported when this client connected (pid, recovery notes). */
  hello: Hello | undefined;

  constructor(private readonly opts: SupervisedRuntimeOptions) {}

  private get socketPath(): string {
    return path.join(this.opts.stateDir, SUPERVISOR_SOCKET);
  }

  /** Connects, starting the supervisor first when none answers. */
  async connect(): Promise<void> {
    await mkdir(this.opts.stateDir, { recursive: true });
    let socket = await tryConnect(this.socketPath);
    if (!socket) {
      if (this.closed) throw new NodeletError('RuntimeUnavailable', 'the runtime client is closed');
      this.opts.logger.info({ stateDir: this.opts.stateDir }, 'Starting the runtime supervisor');
      this.spawnSupervisor();
      const deadline = Date.now() + (this.opts.startTimeoutMs ?? 30_000);
      while (!socket && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        socket = await tryConnect(this.socketPath);
      }
      if (!socket) {
        throw new NodeletError(
          'RuntimeUnavailable',
          `the runtime supervisor did not start: see ${path.join(this.opts.stateDir, SUPERVISOR_LOG)}`,
        );
      }
    }
    this.attach(socket);
    let handshakeDone!: () => void;
    this.handshaking = new Promise<void>((resolve) => (handshakeDone = resolve));
    try {
      await this.handshake();
    } finally {
      this.handshaking = undefined;
      handshakeDone();
    }
  }

  /** Says hello (the protocol must match) and configures the supervisor: logs, and isolation where it has it. */
  private async handshake(): Promise<void> {
    const hello = (await this.call('hello')) as Hello;
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.closed = true;
      this.socket?.destroy();
      throw new NodeletError(
        'RuntimeVersionMismatch',
        `the running supervisor (pid ${hello.pid}) speaks protocol ${hello.protocol}, this nodelet ${PROTOCOL_VERSION}: ` +
          `stop it (kill -TERM ${hello.pid} stops its containers) or run the matching nodelet`,
      );
    }
    this.hello = hello;
    const isolation = this.chooseIsolation(hello);
    this.legacyIsolation = hello.isolation === undefined;
    const settings: ConfigureSettings = this.legacyIsolation ? this.opts.logs : { ...this.opts.logs, isolation: isolation.mode };
    await this.call('configure', settings);
    if (isolation.mode !== this.isolation || isolation.detail !== this.isolationDetail || !this.isolationLogged) {
      this.isolationLogged = true;
      this.opts.logger.info({ isolation: isolation.mode, setting: this.opts.isolation ?? 'none', detail: isolation.detail }, isolation.message);
    }
    this.isolation = isolation.mode;
    this.isolationDetail = isolation.detail;
    this.cgroups = hello.cgroups;
    this.logCgroups(hello);
  }

  /** One line per change of what the supervisor says of cgroups (a new supervisor may say otherwise). */
  private logCgroups(hello: Hello): void {
    const c = hello.cgroups;
    const line = JSON.stringify(c ?? null);
    if (line === this.cgroupsLogged) return;
    this.cgroupsLogged = line;
    const restart = `it takes effect once it is restarted (kill -TERM ${hello.pid} stops its containers)`;
    if (!c) {
      this.opts.logger.warn({ supervisor: hello.pid }, `Resource limits are not enforced: the running runtime supervisor predates cgroups; ${restart}`);
      return;
    }
    if (c.available) this.opts.logger.info({ cgroups: c.detail }, 'Resource limits: each pod and container in a cgroup of its own');
    else this.opts.logger.warn({ reason: c.detail }, 'Resource limits are not enforced: cgroups are not usable here');
    const wanted = this.opts.cgroupRoot ?? '';
    if (c.cgroupRoot !== wanted) {
      this.opts.logger.warn({ running: c.cgroupRoot, configured: wanted, supervisor: hello.pid }, `The runtime supervisor runs with another cgroupRoot; ${restart}`);
    }
  }

  /** Whether the supervisor puts containers in cgroups, so resources are worth sending. */
  private get cgroupsAvailable(): boolean {
    return this.cgroups?.available === true;
  }

  /**
   * The supervisor's cgroups opened for reading (usage for /stats/summary), or undefined when it has
   * none. nodelet reads the files itself: the supervisor stays small and a summary costs no socket hop.
   */
  cgroupReader(): Promise<CgroupManager | undefined> {
    const c = this.cgroups;
    const key = JSON.stringify(c ?? null);
    if (this.reader?.key !== key) {
      const manager =
        c?.available && c.parent
          ? createCgroupManager({ parent: c.parent, create: false, ...(c.root ? { root: c.root } : {}) }).catch((err) => {
              this.opts.logger.warn({ err: errorMessage(err) }, 'Cannot read the runtime cgroups: usage comes from /proc');
              return undefined;
            })
          : Promise.resolve(undefined);
      this.reader = { key, manager };
    }
    return this.reader.manager;
  }

  /** The isolation to ask of this supervisor; throws IsolationUnavailable when `bwrap` was asked and cannot be had. */
  private chooseIsolation(hello: Hello): { mode: IsolationMode; detail: string; message: string } {
    const setting = this.opts.isolation ?? 'none';
    if (setting === 'none') return { mode: 'none', detail: 'off', message: 'Process isolation: none (containers are plain host processes)' };
    const support = hello.isolation ?? {
      available: false,
      detail: `the running runtime supervisor (pid ${hello.pid}) predates process isolation; it takes effect once it is restarted (kill -TERM ${hello.pid} stops its containers)`,
    };
    if (support.available) return { mode: 'bwrap', detail: support.detail, message: 'Process isolation: bwrap (each container in a sandbox of its own)' };
    if (setting === 'bwrap') {
      this.closed = true;
      this.socket?.destroy();
      throw new NodeletError('IsolationUnavailable', `--process-isolation=bwrap: ${support.detail}`);
    }
    return { mode: 'none', detail: support.detail, message: 'Process isolation: none, bwrap is not usable here (containers are plain host processes)' };
  }

  onLogError(listener: (n: LogErrorNotice) => void): () => void {
    this.logErrorListeners.add(listener);
    return () => this.logErrorListeners.delete(listener);
  }

  version = () => this.call('version') as Promise<{ runtimeName: string; runtimeVersion: string }>;
  runPodSandbox = (config: PodSandboxConfig) =>
    this.call('runPodSandbox', processSandboxConfig(config, !this.legacyIsolation, this.cgroupsAvailable)) as Promise<string>;
  stopPodSandbox = (id: string) => this.call('stopPodSandbox', id) as Promise<void>;
  removePodSandbox = (id: string) => this.call('removePodSandbox', id) as Promise<void>;
  listPodSandboxes = () => this.call('listPodSandboxes') as Promise<SandboxInfo[]>;
  podSandboxStatus = async (id: string): Promise<SandboxInfo | undefined> => {
    if (!this.legacySupervisor) {
      try {
        return ((await this.call('podSandboxStatus', id)) ?? undefined) as SandboxInfo | undefined;
      } catch (err) {
        if (!(err instanceof NodeletError && err.code === 'UnknownMethod')) throw err;
        // A supervisor from before this call existed (it outlives nodelet upgrades): ask its whole list.
        this.legacySupervisor = true;
      }
    }
    return (await this.listPodSandboxes()).find((s) => s.id === id);
  };
  createContainer = async (sandboxId: string, config: ContainerConfig): Promise<string> => {
    if (this.legacyIsolation) {
      // An old supervisor ignores mounts and identity: refuse here what it would silently not honour.
      const problem = legacySupervisorProblem(config, this.hello?.pid ?? 0);
      if (problem) throw new NodeletError('CreateContainerConfigError', problem);
    }
    if (!this.cgroupsAvailable && hasHardLimits(config.resources)) this.logUnenforced(config);
    return (await this.call('createContainer', sandboxId, processContainerConfig(config, !this.legacyIsolation, this.cgroups !== undefined))) as string;
  };
  /**
   * Limits that cannot be enforced do not stop a pod (the kubelet runs it too where it cannot enforce
   * them), but the log says so, once per pod.
   */
  private logUnenforced(config: ContainerConfig): void {
    const uid = config.labels['io.kubernetes.pod.uid'] ?? '';
    if (this.unenforcedLogged.has(uid)) return;
    // Bounded: a node that churns through pods must not grow this forever.
    if (this.unenforcedLogged.size >= 4096) this.unenforcedLogged.clear();
    this.unenforcedLogged.add(uid);
    const pod = `${config.labels['io.kubernetes.pod.namespace'] ?? ''}/${config.labels['io.kubernetes.pod.name'] ?? ''}`;
    const why = this.cgroups ? this.cgroups.detail : `the running runtime supervisor (pid ${this.hello?.pid}) predates cgroups`;
    this.opts.logger.warn({ pod, podUID: uid, container: config.name, reason: why }, 'CPU and memory limits of this pod are not enforced');
  }

  startContainer = (id: string) => this.call('startContainer', id) as Promise<void>;
  stopContainer = (id: string, timeoutSeconds: number) => this.call('stopContainer', id, timeoutSeconds) as Promise<void>;
  removeContainer = (id: string) => this.call('removeContainer', id) as Promise<void>;
  listContainers = (filter?: { sandboxId?: string }) => this.call('listContainers', filter ?? {}) as Promise<ContainerInfo[]>;
  containerStatus = async (id: string) => ((await this.call('containerStatus', id)) ?? undefined) as ContainerInfo | undefined;
  execSync = (id: string, command: string[], timeoutSeconds: number) => this.call('execSync', id, command, timeoutSeconds) as Promise<ExecResult>;

  onContainerEvent(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Disconnects; containers keep running. A supervisor left with nothing to supervise is asked to exit,
   * so a node with no pods leaves no process behind.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A reconnection under way must not start a supervisor after we are gone.
    await this.reconnecting;
    const socket = this.socket;
    if (socket) await this.call('exitIfIdle').catch(() => undefined);
    this.socket = undefined;
    socket?.end();
  }

  private spawnSupervisor(): void {
    const here = fileURLToPath(import.meta.url);
    // Under tsx (tests) this module is .ts and the supervisor must be too; built, both are .js.
    const main = path.join(path.dirname(here), `main${path.extname(here)}`);
    const log = openSync(path.join(this.opts.stateDir, SUPERVISOR_LOG), 'a');
    try {
      const child = spawn(
        process.execPath,
        [
          ...process.execArgv,
          // A small young generation: the supervisor's heap is mostly short-lived log chunks.
          '--max-semi-space-size=1',
          main,
          `--state-dir=${this.opts.stateDir}`,
          `--log-max-size=${this.opts.logs.maxSizeBytes}`,
          `--log-max-files=${this.opts.logs.maxFiles}`,
          `--cgroup-root=${this.opts.cgroupRoot ?? ''}`,
        ],
        // Its own session: a signal to nodelet's process group (Ctrl-C, a kill of the group) spares it.
        // cwd '/': a daemon must not keep a directory busy. Under tsx the loader is found from the cwd.
        { detached: true, stdio: ['ignore', log, log], env: this.opts.baseEnv, cwd: here.endsWith('.ts') ? process.cwd() : '/' },
      );
      child.unref();
    } finally {
      closeSync(log);
    }
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    this.send = messageWriter(socket);
    socket.on(
      'data',
      jsonLines(
        (msg) => this.receive(msg as Response | Notice),
        (line) => this.opts.logger.warn({ line }, 'Unreadable message from the runtime supervisor'),
      ),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const lost = new NodeletError('RuntimeUnavailable', 'the connection to the runtime supervisor was lost');
      for (const p of this.pending.values()) p.reject(lost);
      this.pending.clear();
      // Before the first hello, connect()'s caller retries; after it, we reconnect by ourselves.
      if (!this.closed && this.hello) void this.reconnect();
    });
  }

  /** The supervisor died (or was killed): start a new one, which recovers from its checkpoints. */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      this.opts.logger.error({}, 'Lost the runtime supervisor: restarting it');
      for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5_000)) {
        try {
          await this.connect();
          this.opts.logger.info({ pid: this.hello?.pid, recovery: this.hello?.recovery }, 'Runtime supervisor back');
          // Workers converge on the next sync; tell them now rather than at the next resync.
          const uids = new Map((await this.listPodSandboxes()).map((s) => [s.id, s.uid]));
          for (const c of await this.listContainers()) {
            const podUID = uids.get(c.sandboxId) ?? '';
            this.emit({ type: c.state === 'running' ? 'started' : 'exited', containerId: c.id, sandboxId: c.sandboxId, podUID });
          }
          return;
        } catch (err) {
          this.opts.logger.error({ err: errorMessage(err) }, 'Cannot reach the runtime supervisor, retrying');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private receive(msg: Response | Notice): void {
    if ('notice' in msg) {
      if (msg.notice === 'container') this.emit(msg.event);
      else if (msg.notice === 'logError') for (const l of this.logErrorListeners) l(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new NodeletError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  }

  private emit(event: ContainerEvent): void {
    for (const l of this.listeners) l(event);
  }

  private call(method: Request['method'], ...params: unknown[]): Promise<unknown> {
    // Nothing but the handshake reaches a supervisor before it is configured: a container created by a
    // worker during a reconnection would not get the isolation asked for.
    if (this.handshaking && method !== 'hello' && method !== 'configure') return this.handshaking.then(() => this.call(method, ...params));
    const send = this.socket && this.send;
    if (!send) return Promise.reject(new NodeletError('RuntimeUnavailable', 'the runtime supervisor is not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      send({ id, method, params });
    });
  }
}

function tryConnect(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', () => resolve(undefined));
  });
}

/**
 * What the process runtime uses of a sandbox config: host processes get no DNS or ports of their own,
 * so those are not sent (nor checkpointed) for every pod; of the Linux settings the namespaces
 * (hostPID, hostIPC), for a supervisor that sandboxes, and the pod cgroup's limits, for one with cgroups.
 */
function processSandboxConfig(c: PodSandboxConfig, isolation: boolean, cgroups: boolean): PodSandboxConfig {
  const { dnsConfig: _dns, portMappings: _ports, linux, ...used } = c;
  if (!isolation || !linux) return used;
  return {
    ...used,
    linux: {
      namespaces: linux.namespaces,
      supplementalGroups: [],
      privileged: linux.privileged,
      sysctls: {},
      ...(cgroups && linux.resources ? { resources: linux.resources } : {}),
    },
  };
}

/**
 * What the process runtime uses of a container config: mounts and the security context (without the
 * /proc paths a sandbox does not mask) for a supervisor that knows them, resources for one that knows
 * cgroups; stdin and tty are the CRI's. Resources go also to a supervisor whose cgroups are not
 * usable: it enforces no limit, but the OOM score among them is each container's own, not the
 * runtime's (nodelet's -999) inherited.
 */
function processContainerConfig(c: ContainerConfig, isolation: boolean, resourcesKnown: boolean): ContainerConfig {
  const { mounts, resources, security, stdin: _i, stdinOnce: _o, tty: _t, ...used } = c;
  if (!isolation) return used;
  return {
    ...used,
    ...(mounts && mounts.length > 0 ? { mounts } : {}),
    ...(security ? { security: { ...security, maskedPaths: [], readonlyPaths: [] } } : {}),
    ...(resourcesKnown && resources ? { resources } : {}),
  };
}

/** What a supervisor from before isolation would run otherwise than the spec says, or undefined. */
function legacySupervisorProblem(c: ContainerConfig, pid: number): string | undefined {
  const sec = c.security;
  const violation = sec && runAsNonRootViolation(sec, String(process.getuid?.() ?? 0), c.labels['io.kubernetes.pod.name'] ?? '', c.name);
  if (violation) return violation;
  const problems = hostProcessMountProblems(c.mounts ?? []);
  if (sec && (sec.runAsUser !== undefined || sec.runAsGroup !== undefined || sec.supplementalGroups.length > 0)) {
    problems.push('runAsUser, runAsGroup and supplementalGroups cannot be applied');
  }
  if (problems.length === 0) return undefined;
  return (
    `container ${c.name}: ${problems.join('; ')}: the running runtime supervisor (pid ${pid}) predates process isolation ` +
    `and runs containers as plain host processes; it takes effect once the supervisor is restarted (kill -TERM ${pid} stops its containers)`
  );
}

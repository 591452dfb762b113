import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, stat, unlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { NodeletError } from '../../errors.js';
import { createCriLogWriter, type CriLogWriter, type LogRotator } from '../../logs/index.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerInfo,
  ExecResult,
  PodSandboxConfig,
  Runtime,
  SandboxInfo,
} from '../types.js';
import { runBounded } from './run-bounded.js';
import { SpawnQueue } from './spawn-queue.js';

/** Options of {@link createProcessRuntime}. */
export interface ProcessRuntimeOptions {
  clock: Clock;
  logger: Logger;
  /** Variables every container starts with (PATH, HOME), before its own `env`. */
  baseEnv: Record<string, string>;
  rotator?: LogRotator;
}

interface Sandbox {
  info: SandboxInfo;
  config: PodSandboxConfig;
}

interface Container {
  info: ContainerInfo;
  config: ContainerConfig;
  child?: ChildProcess;
  log?: CriLogWriter;
  exited: Promise<void>;
  markExited: () => void;
}

/**
 * The embedded runtime: each container is its command run as a host process in its own process group,
 * stdout/stderr framed into CRI log files. No images, no daemon.
 */
export function createProcessRuntime(opts: ProcessRuntimeOptions): Runtime {
  return new ProcessRuntime(opts);
}

class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private readonly spawns = new SpawnQueue();

  constructor(private readonly opts: ProcessRuntimeOptions) {}

  async version() {
    return { runtimeName: 'nodelet-process', runtimeVersion: process.version };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    await mkdir(config.logDirectory, { recursive: true });
    const id = newId();
    this.sandboxes.set(id, {
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
      },
    });
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    sandbox.info.ready = false;
    const mine = [...this.containers.values()].filter((c) => c.info.sandboxId === sandboxId);
    await Promise.all(mine.map((c) => this.stopContainer(c.info.id, 0)));
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    await this.stopPodSandbox(sandboxId);
    for (const c of [...this.containers.values()]) {
      if (c.info.sandboxId === sandboxId) await this.removeContainer(c.info.id);
    }
    this.sandboxes.delete(sandboxId);
  }

  async listPodSandboxes(): Promise<SandboxInfo[]> {
    return [...this.sandboxes.values()].map((s) => ({ ...s.info }));
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
    if (config.workingDir) {
      const st = await stat(config.workingDir).catch(() => undefined);
      if (!st?.isDirectory()) {
        throw new NodeletError('CreateContainerError', `workingDir ${config.workingDir} is not a directory on this host`);
      }
    }
    const id = newId();
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    this.containers.set(id, {
      config,
      exited,
      markExited,
      info: {
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
    });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const c = this.mustGet(containerId);
    if (c.info.state !== 'created') throw new NodeletError('RunContainerError', `container ${containerId} was already started`);
    await mkdir(path.dirname(c.info.logPath), { recursive: true });
    c.log = await createCriLogWriter(c.info.logPath, { clock: this.opts.clock });
    this.opts.rotator?.register(c.log);
    const [file, ...argv] = [...c.config.command, ...c.config.args];
    const env = this.containerEnv(c);

    const child = await this.spawns.run(() =>
      spawn(file!, argv, {
        cwd: c.config.workingDir || undefined,
        env,
        detached: true, // own process group: the whole group is signalled on stop
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    c.child = child;
    // Through `c.log`: once the container is removed its writer is gone and late output is dropped.
    child.stdout!.on('data', (chunk: Buffer) => c.log?.write('stdout', chunk));
    child.stderr!.on('data', (chunk: Buffer) => c.log?.write('stderr', chunk));

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
    c.info.state = 'running';
    c.info.pid = child.pid;
    c.info.startedAt = this.opts.clock.now();
    child.once('exit', (code, signal) => {
      // A container is its whole process group: children left behind by the main process die with it.
      killGroup(child.pid!, 'SIGKILL');
      const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      this.finish(c, exitCode, exitCode === 0 ? 'Completed' : 'Error', '');
    });
    child.once('close', () => void this.closeLog(c));
    this.emit({ type: 'started', containerId, sandboxId: c.info.sandboxId, podUID: this.podUID(c) });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c || c.info.state !== 'running' || !c.child?.pid) return;
    const pid = c.child.pid;
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
    this.containers.delete(containerId);
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
    return runBounded(command, {
      cwd: c.config.workingDir || undefined,
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
  }

  private finish(c: Container, exitCode: number, reason: string, message: string): void {
    if (c.info.state === 'exited') return;
    c.info.state = 'exited';
    c.info.exitCode = exitCode;
    c.info.reason = reason;
    c.info.message = message;
    c.info.finishedAt = this.opts.clock.now();
    c.markExited();
    this.emit({ type: 'exited', containerId: c.info.id, sandboxId: c.info.sandboxId, podUID: this.podUID(c) });
  }

  private async closeLog(c: Container): Promise<void> {
    const log = c.log;
    if (!log) return;
    c.log = undefined;
    this.opts.rotator?.unregister(log);
    await log.close().catch((err) => this.opts.logger.warn({ err, path: log.path }, 'Failed to close container log'));
  }

  private containerEnv(c: Container): Record<string, string> {
    const env: Record<string, string> = { ...this.opts.baseEnv };
    for (const e of c.config.env) env[e.name] = e.value;
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

function startErrorMessage(file: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return `exec: "${file}": executable file not found in $PATH`;
  if (err.code === 'EACCES') return `exec: "${file}": permission denied`;
  return `exec: "${file}": ${err.message}`;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, NodeletError } from '../../errors.js';
import { createLogRotator, type LogRotator, type RotatableLog } from '../../logs/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerInfo,
  ExecResult,
  ImageInfo,
  ImageService,
  PodSandboxConfig,
  Runtime,
  SandboxInfo,
} from '../types.js';
import type * as cri from './api-types.js';
import { createCriClient, isNotFound, isUnavailable, type CriClient } from './cri-client.js';
import { containerInfo, containerState, imageInfo, sandboxInfo } from './from-cri.js';
import { criContainerConfig, criSandboxConfig, LOG_DIRECTORY_ANNOTATION, OWNER_LABEL } from './to-cri.js';

/** How often the runtime is relisted for container state changes (the kubelet's PLEG relist period). */
export const RELIST_PERIOD_MS = 1_000;
/** How often RuntimeReady/NetworkReady are read (the kubelet's runtime status check). */
const STATUS_PERIOD_MS = 5_000;
/** How long an ImageStatus answer is reused. */
const IMAGE_STATUS_REUSE_MS = 1_000;
/** Version check back-off while the runtime cannot be reached at start. */
const CONNECT_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** Whether the runtime can be used right now, for /healthz and logs. */
export interface RuntimeHealth {
  ok: boolean;
  /** Why not, when not: the last error or the failing runtime condition. */
  message: string;
}

/** Options of {@link connectCriRuntime}. */
export interface CriRuntimeOptions {
  /** `unix:///run/containerd/containerd.sock` (--container-runtime-endpoint). */
  endpoint: string;
  /** Marks what this nodelet created (a hash of its root dir): several nodelets may share one containerd. */
  owner: string;
  clock: Clock;
  logger: Logger;
  /** --runtime-request-timeout (2 min). */
  requestTimeoutMs?: number;
  relistPeriodMs?: number;
  /** containerLogMaxSize / containerLogMaxFiles: containerd writes the logs, nodelet rotates them (as the kubelet). */
  logs?: { maxSizeBytes: number; maxFiles: number };
}

/**
 * The runtime over the CRI: sandboxes, containers and images are containerd's; nodelet only asks
 * (kuberuntime's role in the kubelet). Container exits are found by relisting every second, as the
 * kubelet's PLEG does, and turned into container events.
 */
export class CriRuntime implements Runtime {
  readonly name = 'remote';
  readonly podNetwork = true;
  readonly images: ImageService;
  private readonly client: CriClient;
  /** What each of our sandboxes was created with: CreateContainer and PullImage must send it again. */
  private readonly sandboxConfigs = new Map<string, cri.PodSandboxConfig>();
  /** Last state seen of each container, for relist diffs: id → state, sandbox, pod UID. */
  private readonly seen = new Map<string, { state: cri.ContainerState; sandboxId: string; podUID: string }>();
  /** Readiness of each of our sandboxes at the last relist. */
  private sandboxReady = new Map<string, boolean>();
  /** Sandboxes stopped through this runtime and not yet removed. */
  private readonly stoppedSandboxes = new Set<string>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private readonly rotator: LogRotator | undefined;
  /** The log file of each running container, while the rotator watches it. */
  private readonly logs = new Map<string, RotatableLog>();
  /** Recent ImageStatus answers, by image. */
  private readonly imageStatuses = new Map<string, { at: number; answer: Promise<ImageInfo | undefined> }>();
  /** Log paths of the containers this nodelet created, until they are removed. */
  private readonly logPaths = new Map<string, string>();
  private health: RuntimeHealth = { ok: false, message: 'not connected yet' };
  private versionInfo: { runtimeName: string; runtimeVersion: string } | undefined;
  private timer: TimerHandle | undefined;
  private ticks = 0;
  private closed = false;
  private seeded = false;
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;

  constructor(private readonly opts: CriRuntimeOptions) {
    this.client = createCriClient(opts.endpoint, { timeoutMs: opts.requestTimeoutMs });
    this.readyPromise = new Promise((resolve) => (this.markReady = resolve));
    if (opts.logs) {
      this.rotator = createLogRotator({
        ...opts.logs,
        clock: opts.clock,
        onError: (err) => opts.logger.warn({ err: errorMessage(err) }, 'Cannot rotate container log'),
      });
    }
    this.images = {
      imageStatus: (image) => this.imageStatus(image),
      pullImage: (image, sandbox) => this.pullImage(image, sandbox),
    };
  }

  /** The runtime's health as last seen (version reachable, RuntimeReady and NetworkReady true). */
  currentHealth(): RuntimeHealth {
    return this.health;
  }

  /** Resolves once the runtime has answered the version check and the first relist. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Checks the runtime's version and starts the relist loop. A runtime that does not answer is not
   * fatal: the check is retried with back-off and the health says why, so static pods start as soon
   * as containerd does.
   */
  async start(): Promise<void> {
    await this.checkVersion(0);
    this.schedule();
  }

  private async checkVersion(attempt: number): Promise<void> {
    if (this.closed) return;
    try {
      const v = await this.client.version({ version: 'v1' }, { timeoutMs: 10_000 });
      this.versionInfo = { runtimeName: v.runtime_name, runtimeVersion: v.runtime_version };
      this.setHealth({ ok: true, message: '' });
      this.opts.logger.info({ runtime: v.runtime_name, version: v.runtime_version, api: v.runtime_api_version, endpoint: this.opts.endpoint }, 'Connected to the container runtime');
      await this.relist();
      this.markReady();
    } catch (err) {
      this.versionInfo = undefined;
      const message = /UNIMPLEMENTED/.test(errorMessage(err))
        ? `the runtime at ${this.opts.endpoint} does not serve the CRI v1 API (runtime.v1.RuntimeService)`
        : `cannot reach the container runtime at ${this.opts.endpoint}: ${errorMessage(err)}`;
      this.setHealth({ ok: false, message });
      const wait = CONNECT_BACKOFF_MS[Math.min(attempt, CONNECT_BACKOFF_MS.length - 1)]!;
      this.opts.clock.setTimeout(() => void this.checkVersion(attempt + 1), wait);
    }
  }

  private setHealth(h: RuntimeHealth): void {
    if (h.ok !== this.health.ok || h.message !== this.health.message) {
      if (h.ok) this.opts.logger.info({}, 'Container runtime is ready');
      else this.opts.logger.warn({ err: h.message }, 'Container runtime is not ready: will retry');
    }
    this.health = h;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = this.opts.clock.setTimeout(async () => {
      this.ticks++;
      try {
        if (!this.versionInfo) return;
        await this.relist();
        if (this.ticks % Math.round(STATUS_PERIOD_MS / this.period) === 0) await this.checkStatus();
        else if (!this.health.ok) await this.checkStatus();
      } catch (err) {
        this.setHealth({ ok: false, message: `container runtime relist failed: ${errorMessage(err)}` });
      } finally {
        this.schedule();
      }
    }, this.period);
  }

  private get period(): number {
    return this.opts.relistPeriodMs ?? RELIST_PERIOD_MS;
  }

  private async checkStatus(): Promise<void> {
    const res = await this.client.status({});
    const down = (res.status?.conditions ?? []).find((c) => c.type === 'RuntimeReady' && !c.status);
    this.setHealth(down ? { ok: false, message: `RuntimeReady is false: ${down.reason} ${down.message}`.trim() } : { ok: true, message: '' });
  }

  /** The PLEG relist: diffs sandbox and container states and emits events. */
  private async relist(): Promise<void> {
    await this.relistSandboxes();
    await this.relistContainers();
    this.seeded = true;
  }

  /** A sandbox that stops being ready (its pause process died) is news for its pod's worker. */
  private async relistSandboxes(): Promise<void> {
    const { items } = await this.client.listPodSandbox({ filter: { label_selector: { [OWNER_LABEL]: this.opts.owner } } });
    const ready = new Map(items.map((s) => [s.id, s.state === 'SANDBOX_READY']));
    for (const s of items) {
      const was = this.sandboxReady.get(s.id);
      // A sandbox made and dead between two relists was never seen ready: news too.
      if (this.seeded && was !== false && s.state !== 'SANDBOX_READY') {
        this.emit({ type: 'sandbox', containerId: '', sandboxId: s.id, podUID: s.metadata?.uid ?? '' });
      }
    }
    this.sandboxReady = ready;
  }

  private async relistContainers(): Promise<void> {
    const { containers } = await this.client.listContainers({ filter: { label_selector: { [OWNER_LABEL]: this.opts.owner } } });
    const present = new Set<string>();
    for (const c of containers) {
      present.add(c.id);
      const prev = this.seen.get(c.id);
      const podUID = c.labels['io.kubernetes.pod.uid'] ?? '';
      this.seen.set(c.id, { state: c.state, sandboxId: c.pod_sandbox_id, podUID });
      if (c.state === 'CONTAINER_RUNNING') await this.watchLog(c.id);
      else this.unwatchLog(c.id);
      // The first relist only learns what is there: a restarted nodelet must not count old starts again.
      if (!this.seeded || prev?.state === c.state) continue;
      if (c.state === 'CONTAINER_RUNNING') this.emit({ type: 'started', containerId: c.id, sandboxId: c.pod_sandbox_id, podUID });
      if (c.state === 'CONTAINER_EXITED' || (c.state === 'CONTAINER_UNKNOWN' && prev?.state === 'CONTAINER_RUNNING')) {
        this.emit({ type: 'exited', containerId: c.id, sandboxId: c.pod_sandbox_id, podUID });
      }
    }
    for (const [id, s] of this.seen) {
      if (present.has(id)) continue;
      this.seen.delete(id);
      this.logPaths.delete(id);
      this.unwatchLog(id);
      // Removed behind our back while running: the worker must notice and account for it.
      if (s.state === 'CONTAINER_RUNNING') this.emit({ type: 'exited', containerId: id, sandboxId: s.sandboxId, podUID: s.podUID });
    }
  }

  /** Hands a running container's log to the rotator (once); rotation then asks containerd to reopen it. */
  private async watchLog(id: string): Promise<void> {
    if (!this.rotator || this.logs.has(id)) return;
    // Known for what this nodelet created; asked for containers adopted after a restart.
    const logPath = this.logPaths.get(id) ?? (await this.client.containerStatus({ container_id: id }).catch(() => ({ status: null }))).status?.log_path;
    if (!logPath || this.logs.has(id)) return;
    const log: RotatableLog = {
      path: logPath,
      bytesWritten: Number.NaN,
      reopen: async () => {
        await this.client.reopenContainerLog({ container_id: id });
      },
    };
    this.logs.set(id, log);
    this.rotator.register(log);
  }

  private unwatchLog(id: string): void {
    const log = this.logs.get(id);
    if (!log) return;
    this.logs.delete(id);
    this.rotator?.unregister(log);
  }

  private emit(e: ContainerEvent): void {
    for (const l of this.listeners) l(e);
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    if (this.versionInfo) return this.versionInfo;
    const v = await this.client.version({ version: 'v1' });
    return { runtimeName: v.runtime_name, runtimeVersion: v.runtime_version };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const c = criSandboxConfig(config, this.opts.owner);
    const { pod_sandbox_id: id } = await this.client.runPodSandbox({ config: c });
    this.sandboxConfigs.set(id, c);
    this.sandboxReady.set(id, true);
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.client.stopPodSandbox({ pod_sandbox_id: sandboxId }).catch(ignoreNotFound);
    this.stoppedSandboxes.add(sandboxId);
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    // The kubelet stops before it removes; containerd refuses to remove a sandbox that still runs. A
    // sandbox stopped through us already (a pod worker stops it first) is not stopped twice: a CRI
    // sandbox never runs again once stopped.
    if (!this.stoppedSandboxes.has(sandboxId)) await this.stopPodSandbox(sandboxId);
    await this.client.removePodSandbox({ pod_sandbox_id: sandboxId }).catch(ignoreNotFound);
    this.sandboxConfigs.delete(sandboxId);
    this.stoppedSandboxes.delete(sandboxId);
  }

  async listPodSandboxes(): Promise<SandboxInfo[]> {
    const { items } = await this.client.listPodSandbox({ filter: { label_selector: { [OWNER_LABEL]: this.opts.owner } } });
    return items.map(sandboxInfo);
  }

  async podSandboxStatus(sandboxId: string): Promise<SandboxInfo | undefined> {
    try {
      const { status } = await this.client.podSandboxStatus({ pod_sandbox_id: sandboxId });
      return status ? sandboxInfo(status) : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandboxConfig = await this.sandboxConfig(sandboxId);
    const namespaces = sandboxConfig.linux?.security_context?.namespace_options;
    try {
      const { container_id: id } = await this.client.createContainer({
        pod_sandbox_id: sandboxId,
        config: criContainerConfig(config, this.opts.owner, namespaces),
        sandbox_config: sandboxConfig,
      });
      // Known from here on: no list call is needed to find its sandbox, nor a status call for its log.
      this.seen.set(id, { state: 'CONTAINER_CREATED', sandboxId, podUID: config.labels['io.kubernetes.pod.uid'] ?? '' });
      if (sandboxConfig.log_directory) this.logPaths.set(id, path.join(sandboxConfig.log_directory, config.logPath));
      return id;
    } catch (err) {
      throw new NodeletError('CreateContainerError', errorMessage(err), { cause: err });
    }
  }

  /**
   * The config a sandbox was created with. After a restart of nodelet it is rebuilt from the sandbox's
   * status: what containerd uses of it on CreateContainer (identity, log directory, namespaces) is there.
   */
  private async sandboxConfig(sandboxId: string): Promise<cri.PodSandboxConfig> {
    const known = this.sandboxConfigs.get(sandboxId);
    if (known) return known;
    const { status } = await this.client.podSandboxStatus({ pod_sandbox_id: sandboxId });
    if (!status) throw new NodeletError('CreateContainerError', `pod sandbox ${sandboxId} not found`);
    const ns = status.linux?.namespaces?.options;
    const c: cri.PodSandboxConfig = {
      metadata: status.metadata ?? undefined,
      log_directory: status.annotations[LOG_DIRECTORY_ANNOTATION] ?? '',
      labels: status.labels,
      annotations: status.annotations,
      linux: { security_context: { namespace_options: ns ? { network: ns.network, pid: ns.pid, ipc: ns.ipc } : undefined } },
    };
    this.sandboxConfigs.set(sandboxId, c);
    return c;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.client.startContainer({ container_id: containerId });
    // StartContainer returns once the process runs; a fast exit is the relist's to find.
    const known = this.seen.get(containerId);
    if (known) {
      this.seen.set(containerId, { ...known, state: 'CONTAINER_RUNNING' });
      this.emit({ type: 'started', containerId, sandboxId: known.sandboxId, podUID: known.podUID });
    }
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.client.stopContainer({ container_id: containerId, timeout: timeoutSeconds }).catch(ignoreNotFound);
  }

  async removeContainer(containerId: string): Promise<void> {
    const logPath = (await this.containerStatus(containerId))?.logPath;
    await this.client.removeContainer({ container_id: containerId }).catch(ignoreNotFound);
    this.seen.delete(containerId);
    this.logPaths.delete(containerId);
    this.unwatchLog(containerId);
    // containerd leaves the log file; the kubelet removes it with the container (removeContainerLog).
    if (logPath) await unlink(logPath).catch(() => undefined);
  }

  async listContainers(filter?: { sandboxId?: string }): Promise<ContainerInfo[]> {
    const { containers } = await this.client.listContainers({
      filter: { label_selector: { [OWNER_LABEL]: this.opts.owner }, ...(filter?.sandboxId ? { pod_sandbox_id: filter.sandboxId } : {}) },
    });
    // ListContainers has no exit codes, times or log paths: each container's status fills them in.
    const out: ContainerInfo[] = [];
    for (const c of containers) {
      const info = await this.containerStatus(c.id, c.pod_sandbox_id);
      if (info) out.push(info);
    }
    return out;
  }

  async containerStatus(containerId: string, knownSandboxId?: string): Promise<ContainerInfo | undefined> {
    try {
      const { status } = await this.client.containerStatus({ container_id: containerId });
      if (!status) return undefined;
      const sandboxId = knownSandboxId ?? this.seen.get(containerId)?.sandboxId ?? (await this.sandboxOf(containerId));
      return containerInfo(status, sandboxId, this.versionInfo?.runtimeName ?? 'cri');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async writableLayerBytes(containerId: string): Promise<number | undefined> {
    try {
      const { stats } = await this.client.containerStats({ container_id: containerId });
      const used = stats?.writable_layer?.used_bytes?.value;
      return used === undefined ? undefined : Number(used);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** ContainerStatus does not name the sandbox; the list does. */
  private async sandboxOf(containerId: string): Promise<string> {
    const { containers } = await this.client.listContainers({ filter: { id: containerId } });
    const c = containers[0];
    if (c) this.seen.set(c.id, { state: c.state, sandboxId: c.pod_sandbox_id, podUID: c.labels['io.kubernetes.pod.uid'] ?? '' });
    return c?.pod_sandbox_id ?? '';
  }

  async execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecResult> {
    try {
      const r = await this.client.execSync({ container_id: containerId, cmd: command, timeout: timeoutSeconds });
      return { exitCode: r.exit_code, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), timedOut: false };
    } catch (err) {
      // containerd ends an exec at its timeout with DeadlineExceeded ("timeout 1s exceeded").
      if (/DEADLINE_EXCEEDED|timeout .* exceeded/i.test(errorMessage(err))) return { exitCode: -1, stdout: '', stderr: '', timedOut: true };
      throw err;
    }
  }

  onContainerEvent(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * ImageStatus, shared: pods starting together with one image (a burst of manifests) ask once, and an
   * answer is reused for a second. A pull forgets it.
   */
  private imageStatus(image: string): Promise<ImageInfo | undefined> {
    const now = this.opts.clock.now();
    const cached = this.imageStatuses.get(image);
    if (cached && now - cached.at < IMAGE_STATUS_REUSE_MS) return cached.answer;
    const answer = this.client.imageStatus({ image: { image } }).then(({ image: found }) => (found ? imageInfo(found) : undefined));
    this.imageStatuses.set(image, { at: now, answer });
    // A failed answer is not reused.
    answer.catch(() => this.imageStatuses.get(image)?.answer === answer && this.imageStatuses.delete(image));
    if (this.imageStatuses.size > 256) this.imageStatuses.delete(this.imageStatuses.keys().next().value!);
    return answer;
  }

  private async pullImage(image: string, sandbox: PodSandboxConfig): Promise<string> {
    this.imageStatuses.delete(image);
    const { image_ref } = await this.client.pullImage({ image: { image }, sandbox_config: criSandboxConfig(sandbox, this.opts.owner) });
    this.imageStatuses.delete(image);
    return image_ref;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.rotator?.stop();
    this.client.close();
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}

/** Creates the CRI runtime and starts it; never fails because the runtime is down (see {@link CriRuntime.start}). */
export async function connectCriRuntime(opts: CriRuntimeOptions): Promise<CriRuntime> {
  const rt = new CriRuntime(opts);
  await rt.start();
  return rt;
}

export { containerState, isUnavailable };

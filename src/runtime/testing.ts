/**
 * A scriptable in-memory Runtime for unit tests of the pod workers: containers "run" until the test
 * exits them. It follows the Runtime contract (states, events, attempt numbers) without processes;
 * the real process runtime is exercised by test/e2e.
 */
import type { ContainerConfig, ContainerEvent, ContainerInfo, ImageInfo, ImageService, PodSandboxConfig, Runtime, SandboxInfo } from './types.js';
import type { Clock } from '../util/clock.js';

/** An in-memory image store: images are present or not, pulls succeed unless told to fail. */
export class FakeImages implements ImageService {
  /** Image → its user (`0`, `1000`, ``). */
  readonly present = new Map<string, string>();
  /** Images whose pull fails (as a registry that refuses would). */
  readonly failPull = new Set<string>();
  readonly pulls: string[] = [];

  async imageStatus(image: string): Promise<ImageInfo | undefined> {
    const user = this.present.get(image);
    return user === undefined ? undefined : { id: `sha256:${image}`, repoTags: [image], repoDigests: [], size: 1, user };
  }

  async pullImage(image: string): Promise<string> {
    this.pulls.push(image);
    if (this.failPull.has(image)) throw new Error(`pull access denied for ${image}`);
    if (!this.present.has(image)) this.present.set(image, '');
    return `sha256:${image}`;
  }
}

export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  /** Set by tests of image handling; undefined is a runtime without images (like the process runtime). */
  images?: FakeImages;
  readonly sandboxes = new Map<string, SandboxInfo>();
  readonly containers = new Map<string, ContainerInfo>();
  /** Every call, in order: `start main#0`, `stop main#0 grace=30`. */
  readonly calls: string[] = [];
  /** Names of containers whose start fails (as an exec error would). */
  readonly failStart = new Set<string>();
  /** Set by tests of pod networks: every sandbox gets an IP of its own (as on a CNI bridge), `10.88.0.<n>`. */
  podNetwork?: boolean;
  /** Calls of the status RPCs, by name (`podSandboxStatus`, `containerStatus`): what a CRI round trip would cost. */
  readonly statusCalls = { podSandboxStatus: 0, containerStatus: 0 };
  /** Answers of podSandboxStatus are held until this resolves (a slow runtime), when set; failed when it rejects. */
  sandboxStatusGate?: Promise<void>;
  /** The config of each container created, by id. */
  readonly configs = new Map<string, ContainerConfig>();
  /** Emit `started` from startContainer, as the process and CRI runtimes do. */
  emitStarted = false;
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private next = 0;

  constructor(private readonly clock: Clock) {}

  async version() {
    return { runtimeName: 'fake', runtimeVersion: '0' };
  }
  async runPodSandbox(c: PodSandboxConfig) {
    const n = this.next++;
    const id = `sb${n}`;
    const ip = this.podNetwork && !c.hostNetwork ? { ip: `10.88.0.${n}` } : {};
    this.sandboxes.set(id, { id, uid: c.uid, name: c.name, namespace: c.namespace, attempt: c.attempt, ready: true, createdAt: this.clock.now(), logDirectory: c.logDirectory, annotations: { ...c.annotations }, ...ip });
    return id;
  }
  async stopPodSandbox(id: string) {
    // As containerd and the process runtime: a stopped sandbox is no longer ready.
    const sb = this.sandboxes.get(id);
    if (sb) sb.ready = false;
    for (const c of this.containers.values()) if (c.sandboxId === id && c.state === 'running') this.exit(c.id, 137);
  }
  async removePodSandbox(id: string) {
    await this.stopPodSandbox(id);
    this.sandboxes.delete(id);
  }
  async listPodSandboxes() {
    // As ListPodSandbox: no network status.
    return [...this.sandboxes.values()].map(({ ip: _ip, ...sb }) => sb);
  }
  async podSandboxStatus(id: string) {
    this.statusCalls.podSandboxStatus++;
    if (this.sandboxStatusGate) await this.sandboxStatusGate;
    const sb = this.sandboxes.get(id);
    return sb ? { ...sb } : undefined;
  }
  async createContainer(sandboxId: string, c: ContainerConfig) {
    const id = `c${this.next++}`;
    this.configs.set(id, c);
    this.containers.set(id, {
      id, sandboxId, name: c.name, attempt: c.attempt, state: 'created', image: c.image,
      createdAt: this.clock.now(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: `/dev/null/${id}`,
    });
    return id;
  }
  async startContainer(id: string) {
    const c = this.containers.get(id)!;
    this.calls.push(`start ${c.name}#${c.attempt}`);
    if (this.failStart.has(c.name)) {
      Object.assign(c, { state: 'exited', exitCode: 128, reason: 'StartError', finishedAt: this.clock.now() });
      throw new Error(`exec: "${c.name}": executable file not found in $PATH`);
    }
    Object.assign(c, { state: 'running', startedAt: this.clock.now() });
    const uid = this.sandboxes.get(c.sandboxId)?.uid ?? '';
    if (this.emitStarted) for (const l of this.listeners) l({ type: 'started', containerId: id, sandboxId: c.sandboxId, podUID: uid });
  }
  async stopContainer(id: string, timeout: number) {
    const c = this.containers.get(id);
    if (!c || c.state !== 'running') return;
    this.calls.push(`stop ${c.name}#${c.attempt} grace=${timeout}`);
    this.exit(id, 143);
  }
  async removeContainer(id: string) {
    this.containers.delete(id);
  }
  async listContainers() {
    return [...this.containers.values()];
  }
  async containerStatus(id: string) {
    this.statusCalls.containerStatus++;
    const c = this.containers.get(id);
    return c ? { ...c } : undefined;
  }
  /** Exec results by the command's first word; anything else exits 0. */
  readonly execResults = new Map<string, { exitCode: number; stdout?: string }>();
  async execSync(id: string, command: string[]) {
    this.calls.push(`exec ${this.containers.get(id)?.name} ${command.join(' ')}`);
    const r = this.execResults.get(command[0] ?? '') ?? { exitCode: 0 };
    return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: '', timedOut: false };
  }
  onContainerEvent(l: (e: ContainerEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  async close() {}

  /** Emits an event as the runtime's own watch (the CRI relist) would. */
  emitEvent(e: ContainerEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** The running container named `name` (latest attempt). */
  running(name: string): ContainerInfo | undefined {
    return [...this.containers.values()].filter((c) => c.name === name && c.state === 'running').at(-1);
  }

  /** Ends a container as if its process exited with `code`, and emits the event. */
  /** The sandbox's pause process died: not ready any more, its containers run on (own PID namespaces). */
  sandboxDied(id: string): void {
    const sb = this.sandboxes.get(id)!;
    sb.ready = false;
    for (const l of this.listeners) l({ type: 'sandbox', containerId: '', sandboxId: id, podUID: sb.uid });
  }

  exit(id: string, code: number): void {
    const c = this.containers.get(id)!;
    Object.assign(c, { state: 'exited', exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt: this.clock.now() });
    const uid = this.sandboxes.get(c.sandboxId)?.uid ?? '';
    for (const l of this.listeners) l({ type: 'exited', containerId: id, sandboxId: c.sandboxId, podUID: uid });
  }
}

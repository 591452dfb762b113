import { errorMessage } from '../errors.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from './kube-client.js';
import { initialNode, nodeStatus, type NodeCondition, type NodeFacts } from './node-object.js';

/** Options of {@link NodeAgent}. */
export interface NodeAgentOptions {
  client: KubeClient;
  facts: NodeFacts;
  clock: Clock;
  logger: Logger;
  /** nodeStatusUpdateFrequency (10 s). */
  statusUpdateMs: number;
  /** nodeLeaseDurationSeconds (40): renewed every quarter of it, as the kubelet does. */
  leaseDurationSeconds: number;
  /** Whether the node can run pods (the container runtime answers), and why not. */
  health: () => { ok: boolean; message: string };
}

const REGISTER_BACKOFF_MS = [100, 200, 400, 800, 1_600, 3_200, 7_000];
const LEASE_NAMESPACE = 'kube-node-lease';

interface Lease {
  metadata?: { resourceVersion?: string };
  spec?: Record<string, unknown>;
}

/**
 * This node in the API server: registers the Node (kubelet_node_status.go registerWithAPIServer),
 * sends its status every nodeStatusUpdateFrequency, and renews its Lease in kube-node-lease
 * (pkg/kubelet/nodelease). Every failure is retried; none of it holds up the pods.
 */
export class NodeAgent {
  private nodeUID: string | undefined;
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;
  private lease: Lease | undefined;
  private leaseLoop = false;
  private readonly since = new Map<string, { status: string; at: string }>();
  private readonly registered: Promise<string>;
  private resolveRegistered!: (uid: string) => void;
  private lastError = new Map<string, string>();

  constructor(private readonly opts: NodeAgentOptions) {
    this.registered = new Promise((resolve) => (this.resolveRegistered = resolve));
  }

  /** The Node's UID once registered (mirror pods and the Lease are owned by it). */
  get uid(): string | undefined {
    return this.nodeUID;
  }

  /** Resolves with the Node's UID once it is registered. */
  whenRegistered(): Promise<string> {
    return this.registered;
  }

  start(): void {
    void this.register(0);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
  }

  private after(ms: number, fn: () => Promise<void> | void): void {
    if (this.stopped) return;
    const t = this.opts.clock.setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }

  private async register(attempt: number): Promise<void> {
    if (this.stopped) return;
    const { client, facts } = this.opts;
    const node = initialNode(facts);
    (node.status as Record<string, unknown>).conditions = this.conditions();
    try {
      let created: { metadata?: { uid?: string } };
      try {
        created = await client.request('POST', '/api/v1/nodes', { body: node });
        this.opts.logger.info({ node: facts.nodeName, server: client.server }, 'Node registered with the API server');
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // Already registered (a restart of nodelet): take it over and bring its labels up to date.
        created = await client.request('PATCH', `/api/v1/nodes/${facts.nodeName}`, {
          body: { metadata: { labels: (node.metadata as { labels: Record<string, string> }).labels } },
        });
        this.opts.logger.info({ node: facts.nodeName, server: client.server }, 'Node already registered: taking it over');
      }
      this.nodeUID = created.metadata?.uid;
      this.ok('register');
      this.resolveRegistered(this.nodeUID ?? '');
      await this.updateStatus();
      this.after(this.opts.statusUpdateMs, () => this.statusLoop());
      if (!this.leaseLoop) {
        this.leaseLoop = true;
        await this.renewLease();
      }
    } catch (err) {
      this.failed('register', 'Cannot register the node: will retry', err);
      this.after(REGISTER_BACKOFF_MS[Math.min(attempt, REGISTER_BACKOFF_MS.length - 1)]!, () => this.register(attempt + 1));
    }
  }

  private async statusLoop(): Promise<void> {
    try {
      await this.updateStatus();
      this.ok('status');
    } catch (err) {
      if (isNotFound(err)) {
        // Someone deleted the Node: register again, as a new node (a new UID).
        this.opts.logger.warn({ node: this.opts.facts.nodeName }, 'The Node was deleted from the API server: registering again');
        this.nodeUID = undefined;
        this.lease = undefined;
        return this.register(0);
      }
      this.failed('status', 'Cannot update the node status: will retry', err);
    }
    this.after(this.opts.statusUpdateMs, () => this.statusLoop());
  }

  private async updateStatus(): Promise<void> {
    const status = nodeStatus(this.opts.facts, this.conditions());
    // Strategic merge: conditions merge by type, so conditions other controllers set are kept.
    await this.opts.client.request('PATCH', `/api/v1/nodes/${this.opts.facts.nodeName}/status`, {
      body: { status },
      contentType: 'application/strategic-merge-patch+json',
    });
  }

  /** The node conditions of this heartbeat (pkg/kubelet/nodestatus/setters.go). */
  private conditions(): NodeCondition[] {
    const now = rfc3339(this.opts.clock.now());
    const health = this.opts.health();
    const make = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => {
      const prev = this.since.get(type);
      const at = prev && prev.status === status ? prev.at : now;
      this.since.set(type, { status, at });
      return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: at };
    };
    return [
      make('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      make('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      make('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      health.ok
        ? make('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
        : make('Ready', 'False', 'KubeletNotReady', `container runtime is down: ${health.message}`),
    ];
  }

  /** Renews the Lease (nodelease/controller.go): create it once, then update its renewTime. */
  private async renewLease(): Promise<void> {
    const { client, facts, leaseDurationSeconds } = this.opts;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${facts.nodeName}`;
    try {
      if (!this.lease) {
        try {
          this.lease = await client.request<Lease>('GET', path);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.lease = await client.request<Lease>('POST', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, {
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: {
                name: facts.nodeName,
                namespace: LEASE_NAMESPACE,
                // Owned by the Node: deleting the Node deletes its Lease.
                ownerReferences: this.nodeUID ? [{ apiVersion: 'v1', kind: 'Node', name: facts.nodeName, uid: this.nodeUID }] : [],
              },
              spec: { holderIdentity: facts.nodeName, leaseDurationSeconds, renewTime: microTime(this.opts.clock.now()) },
            },
          });
        }
      }
      const next = { ...this.lease, spec: { ...this.lease.spec, holderIdentity: facts.nodeName, leaseDurationSeconds, renewTime: microTime(this.opts.clock.now()) } };
      this.lease = await client.request<Lease>('PUT', path, { body: next });
      this.ok('lease');
    } catch (err) {
      // A conflict or a deleted Lease: read it again on the next try.
      if (isConflict(err) || isNotFound(err)) this.lease = undefined;
      this.failed('lease', 'Cannot renew the node lease: will retry', err);
    }
    this.after((leaseDurationSeconds * 1000) / 4, () => this.renewLease());
  }

  private failed(what: string, msg: string, err: unknown): void {
    const message = errorMessage(err);
    if (this.lastError.get(what) !== message) this.opts.logger.warn({ node: this.opts.facts.nodeName, err: message }, msg);
    this.lastError.set(what, message);
  }

  private ok(what: string): void {
    if (this.lastError.has(what)) this.opts.logger.info({ node: this.opts.facts.nodeName, what }, 'API server reachable again');
    this.lastError.delete(what);
  }
}

/** RFC 3339 with whole seconds (metav1.Time). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds (metav1.MicroTime), as Lease.spec.renewTime. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

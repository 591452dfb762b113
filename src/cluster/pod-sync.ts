import { isDeepStrictEqual } from 'node:util';
import type { Pod, PodStatus } from '../api/types.js';
import { ConfigHashAnnotation, ConfigMirrorAnnotation, ConfigSourceAnnotation } from '../api/types.js';
import { errorMessage } from '../errors.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { isConflict, isNotFound, type KubeClient } from './kube-client.js';

/** Options of {@link PodSync}. */
export interface PodSyncOptions {
  client: KubeClient;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** The pod workers' current pods and statuses. */
  pods: () => WorkerSnapshot[];
  /** The Node's UID once registered: mirror pods are owned by it. */
  nodeUID: () => string | undefined;
  /** Whether every static source has sent its first snapshot: before that, no mirror pod is an orphan. */
  staticSourcesReady: () => boolean;
  /** How often to reconcile (besides after each change of the mirror pods). */
  periodMs?: number;
}

const DEFAULT_PERIOD_MS = 2_000;

/**
 * What the API server should show of this node's pods, kept in line (the kubelet's status manager and
 * mirror client, pkg/kubelet/status and pkg/kubelet/pod/mirror_client.go):
 * - a static pod has a mirror pod of the same name, annotated with its config hash and owned by the
 *   Node; a missing mirror is created, an outdated one (another hash, being deleted, or an edited
 *   image) is deleted and created again, one without a static pod is deleted;
 * - the status of API pods and of mirror pods is the real status, patched when it changes;
 * - an API pod deleted gracefully is deleted for good (grace 0) once its containers have stopped.
 * Mirror pods are never run. Every call is retried on the next round; nothing here touches containers.
 */
export class PodSync {
  private mirrors = new Map<string, Pod>();
  /** What was last sent, by UID of the API object: an unchanged status is not sent again. */
  private readonly sent = new Map<string, PodStatus>();
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly lastError = new Map<string, string>();

  constructor(private readonly opts: PodSyncOptions) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** The mirror pods of this node, as the API-server source last saw them. */
  setMirrors(pods: Pod[]): void {
    this.mirrors = new Map(pods.map((p) => [key(p), p]));
    void this.kick();
  }

  /** Runs a round now (after the one in progress). */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.round();
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      void this.kick().finally(() => this.schedule());
    }, this.opts.periodMs ?? DEFAULT_PERIOD_MS);
  }

  private async round(): Promise<void> {
    const snapshots = this.opts.pods();
    // Forget what was sent for objects no longer around (their UIDs never come back).
    const live = new Set([...snapshots.map((s) => s.pod.metadata?.uid), ...[...this.mirrors.values()].map((m) => m.metadata?.uid)]);
    for (const uid of this.sent.keys()) if (!live.has(uid)) this.sent.delete(uid);
    const staticPods = new Map<string, WorkerSnapshot>();
    for (const s of snapshots) {
      const source = s.pod.metadata?.annotations?.[ConfigSourceAnnotation];
      if (source === 'api') await this.syncApiPod(s);
      else if (s.state !== 'terminated') {
        // During an edit the old version terminates while the new one waits: the mirror follows the new.
        const other = staticPods.get(key(s.pod));
        if (!other || other.state === 'terminating') staticPods.set(key(s.pod), s);
      }
    }
    const nodeUID = this.opts.nodeUID();
    if (!nodeUID) return; // mirror pods need their owner
    for (const [k, s] of staticPods) await this.syncMirror(s, this.mirrors.get(k), nodeUID);
    if (!this.opts.staticSourcesReady()) return;
    for (const [k, m] of this.mirrors) {
      if (!staticPods.has(k)) await this.call(`orphan ${k}`, () => this.deleteMirror(m, 'its static pod is gone'));
    }
  }

  private async syncApiPod(s: WorkerSnapshot): Promise<void> {
    const meta = s.pod.metadata!;
    const k = key(s.pod);
    await this.call(`status ${k}`, () => this.patchStatus(s.pod, meta.uid!, s.status));
    // Deleted gracefully and now stopped: finish the deletion, with the UID as precondition so a new
    // pod of the same name is never deleted by mistake (status_manager.go canBeDeleted).
    if (meta.deletionTimestamp && s.state === 'terminated') {
      await this.call(`delete ${k}`, async () => {
        await this.opts.client.request('DELETE', podPath(s.pod), { body: { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } } }).catch(ignoreGone);
        this.sent.delete(meta.uid!);
      });
    }
  }

  private async syncMirror(s: WorkerSnapshot, mirror: Pod | undefined, nodeUID: string): Promise<void> {
    const k = key(s.pod);
    const hash = s.pod.metadata?.annotations?.[ConfigHashAnnotation] ?? s.pod.metadata?.uid ?? '';
    if (mirror && !validMirror(mirror, s.pod, hash)) {
      const stale = mirror;
      await this.call(`mirror ${k}`, () => this.deleteMirror(stale, 'it no longer matches its static pod'));
      this.mirrors.delete(k);
      mirror = undefined;
    }
    if (!mirror) {
      await this.call(`mirror ${k}`, async () => {
        const created = await this.opts.client.request<Pod>('POST', `/api/v1/namespaces/${s.pod.metadata?.namespace ?? 'default'}/pods`, {
          body: mirrorOf(s.pod, hash, this.opts.nodeName, nodeUID),
        });
        this.opts.logger.info({ pod: k }, 'Created the mirror pod');
        this.mirrors.set(k, created);
        mirror = created;
      });
    }
    const current = mirror;
    const uid = current?.metadata?.uid;
    if (current && uid) await this.call(`status ${k}`, () => this.patchStatus(current, uid, s.status));
  }

  private async deleteMirror(m: Pod, why: string): Promise<void> {
    this.opts.logger.info({ pod: key(m), why }, 'Deleting the mirror pod');
    await this.opts.client.request('DELETE', podPath(m), { body: { gracePeriodSeconds: 0, preconditions: { uid: m.metadata?.uid } } }).catch(ignoreGone);
    this.sent.delete(m.metadata?.uid ?? '');
    this.mirrors.delete(key(m));
  }

  /** Patches pods/status when it changed; the UID in the patch is a precondition (a 409 if replaced). */
  private async patchStatus(target: Pod, uid: string, status: PodStatus): Promise<void> {
    if (isDeepStrictEqual(this.sent.get(uid), status)) return;
    await this.opts.client.request('PATCH', `${podPath(target)}/status`, { body: { metadata: { uid }, status } });
    this.sent.set(uid, status);
  }

  /** One call, its failure logged once per distinct error and retried on the next round. */
  private async call(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      this.lastError.delete(what);
    } catch (err) {
      const message = errorMessage(err);
      if (this.lastError.get(what) !== message) this.opts.logger.warn({ what, err: message }, 'API server call failed: will retry');
      this.lastError.set(what, message);
    }
  }
}

/**
 * Whether a mirror pod still stands for its static pod (the kubelet's IsMirrorPodOf plus an edited
 * image, the one part of a pod's spec a user can change).
 */
function validMirror(mirror: Pod, staticPod: Pod, hash: string): boolean {
  if (mirror.metadata?.deletionTimestamp) return false;
  if (mirror.metadata?.annotations?.[ConfigMirrorAnnotation] !== hash) return false;
  const images = (p: Pod) => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map((c) => `${c.name}=${c.image ?? ''}`).join(',');
  return images(mirror) === images(staticPod);
}

/** The mirror pod of a static pod (mirror_client.go CreateMirrorPod). */
function mirrorOf(pod: Pod, hash: string, nodeName: string, nodeUID: string): Pod {
  const meta = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: meta.name,
      namespace: meta.namespace ?? 'default',
      labels: meta.labels,
      annotations: { ...meta.annotations, [ConfigMirrorAnnotation]: hash },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUID, controller: true }],
    },
    spec: pod.spec,
  };
}

function podPath(p: Pod): string {
  return `/api/v1/namespaces/${p.metadata?.namespace ?? 'default'}/pods/${p.metadata?.name}`;
}

function key(p: Pod): string {
  return `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`;
}

/** Already gone, or replaced by another pod of the same name (the UID precondition failed): nothing to do. */
function ignoreGone(err: unknown): void {
  if (!isNotFound(err) && !isConflict(err)) throw err;
}

import type { NodeletConfig } from '../config/types.js';
import type { PodEvent } from '../events/recorder.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';

/** The read-only view of a running node that the servers and the CLI are built on. */
export interface NodeView {
  config: Readonly<NodeletConfig>;
  /** The `/configz` body's inner object (the kubelet's KubeletConfiguration shape). */
  kubeletConfiguration(): Record<string, unknown>;
  pods(): WorkerSnapshot[];
  /** Kubelet-style events of one pod (by UID), or of every pod; oldest first. */
  events(uid?: string): PodEvent[];
  /** Milliseconds since the epoch of the last pod-worker resync tick. */
  lastResyncAt(): number;
  /** Whether the container runtime answers (always for the process runtime), and why not. */
  runtimeHealth?(): { ok: boolean; message: string };
  now(): number;
}

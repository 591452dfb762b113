import type { Pod } from '../api/types.js';
import type { ContainerInfo } from '../runtime/types.js';

/** Why a container is not running and not about to be: a waiting reason the kubelet would show. */
export interface WaitingReason {
  reason: string;
  message: string;
}

/** What a pod worker knows of one container of its pod: the facts the status is computed from. */
export interface ContainerView {
  name: string;
  /** True for `initContainers` entries (sidecars included). */
  init: boolean;
  restartCount: number;
  /** The latest attempt, as the runtime reports it. */
  current?: ContainerInfo;
  /** The attempt before it, for `lastState`. */
  previous?: ContainerInfo;
  /** Startup probe passed (or none); computed by the worker when the status is read. */
  started?: boolean;
  /** Readiness probe passing (or none) and started. */
  ready?: boolean;
  /** Set while the container waits for something other than creation (CrashLoopBackOff, errors). */
  waiting?: WaitingReason;
}

/** Everything {@link computePodStatus} needs: the pod and what the worker knows. */
export interface PodView {
  pod: Pod;
  containers: ContainerView[];
  /** When the worker first started the pod (ms), 0 before. */
  startTime: number;
  hostIP: string;
  /** The pod's IP; '' while a pod with an IP of its own has none yet (podIP and podIPs are then left out). */
  podIP: string;
  /** Set when admission refused the pod (OutOfpods): the pod is Failed with this reason. */
  rejected?: WaitingReason;
  /** A terminal phase once reached; phases Succeeded and Failed are sticky. */
  terminalPhase?: 'Succeeded' | 'Failed';
  /** Why the pod was ended from outside (eviction: `Evicted` and the eviction manager's message): status.reason and message. */
  terminalReason?: WaitingReason;
  /** True once the worker has been told to stop the pod. */
  terminating: boolean;
}

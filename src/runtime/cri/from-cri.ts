import type { ContainerInfo, ContainerRuntimeState, ImageInfo, SandboxInfo } from '../types.js';
import type * as cri from './api-types.js';
import { LOG_DIRECTORY_ANNOTATION } from './to-cri.js';

const STATES: Record<cri.ContainerState, ContainerRuntimeState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

/** Nanoseconds since the epoch (an int64 as a string) to milliseconds; "0" stays 0. */
export function nanosToMillis(ns: string | number): number {
  return Number(BigInt(ns) / 1_000_000n);
}

/** Our container state from a CRI one. */
export function containerState(s: cri.ContainerState): ContainerRuntimeState {
  return STATES[s] ?? 'unknown';
}

/** What we know of a container from its CRI status and the sandbox it belongs to. */
export function containerInfo(s: cri.ContainerStatus, sandboxId: string, runtimeType: string): ContainerInfo {
  const state = containerState(s.state);
  return {
    id: s.id,
    sandboxId,
    name: s.metadata?.name ?? s.labels['io.kubernetes.container.name'] ?? '',
    attempt: s.metadata?.attempt ?? 0,
    state,
    image: s.image?.image ?? '',
    imageRef: s.image_ref,
    runtimeType,
    createdAt: nanosToMillis(s.created_at),
    startedAt: nanosToMillis(s.started_at),
    finishedAt: nanosToMillis(s.finished_at),
    exitCode: state === 'exited' ? s.exit_code : 0,
    reason: s.reason,
    message: s.message,
    logPath: s.log_path,
  };
}

/** What we know of a sandbox from a ListPodSandbox item or a PodSandboxStatus. */
export function sandboxInfo(s: cri.PodSandbox | cri.PodSandboxStatus): SandboxInfo {
  const ip = 'network' in s ? s.network?.ip || undefined : undefined;
  return {
    id: s.id,
    uid: s.metadata?.uid ?? '',
    name: s.metadata?.name ?? '',
    namespace: s.metadata?.namespace ?? '',
    attempt: s.metadata?.attempt ?? 0,
    ready: s.state === 'SANDBOX_READY',
    createdAt: nanosToMillis(s.created_at),
    logDirectory: s.annotations[LOG_DIRECTORY_ANNOTATION] ?? '',
    annotations: { ...s.annotations },
    ...(ip ? { ip } : {}),
  };
}

/** What we know of an image from its CRI record. */
export function imageInfo(i: cri.Image): ImageInfo {
  return {
    id: i.id,
    repoTags: i.repo_tags,
    repoDigests: i.repo_digests,
    size: Number(i.size),
    user: i.uid ? String(i.uid.value) : i.username,
  };
}

/**
 * The Kubernetes object types nodelet works with, re-exported from `kubernetes-types` so the rest of
 * the code imports them from one place.
 */
export type {
  Pod,
  PodSpec,
  PodStatus,
  PodCondition,
  Container,
  ContainerStatus,
  ContainerState,
  EnvVar,
  Volume,
  PodList,
} from 'kubernetes-types/core/v1.js';
export type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** Where a pod came from; the value of the `kubernetes.io/config.source` annotation. */
export type PodSource = 'file' | 'http' | 'api';

/** Annotation keys the kubelet sets on static pods (pkg/kubelet/types/pod_update.go). */
export const ConfigHashAnnotation = 'kubernetes.io/config.hash';
export const ConfigSourceAnnotation = 'kubernetes.io/config.source';
export const ConfigSeenAnnotation = 'kubernetes.io/config.seen';
export const ConfigMirrorAnnotation = 'kubernetes.io/config.mirror';
/** Our own annotation: the manifest file (or URL) a pod was read from, for error reports and `nodelet ps`. */
export const ConfigFileAnnotation = 'nodelet.io/config.file';

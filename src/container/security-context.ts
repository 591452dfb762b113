import type { Container, Pod } from '../api/types.js';
import type { ContainerSecurity, NamespaceMode, SandboxLinuxConfig } from '../runtime/types.js';

// pkg/securitycontext/util.go: what a default procMount hides and makes read-only in /proc and /sys.
const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * A container's effective security settings: the container's securityContext over the pod's
 * (kuberuntime/security_context.go determineEffectiveSecurityContext).
 */
export function containerSecurity(pod: Pod, container: Container): ContainerSecurity {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const privileged = sc.privileged ?? false;
  // Unmasked /proc (procMount: Unmasked) and privileged containers see everything, as with the kubelet.
  const unmasked = privileged || sc.procMount === 'Unmasked';
  return {
    runAsUser: sc.runAsUser ?? podSc.runAsUser,
    runAsGroup: sc.runAsGroup ?? podSc.runAsGroup,
    runAsNonRoot: sc.runAsNonRoot ?? podSc.runAsNonRoot ?? false,
    supplementalGroups: [...(podSc.supplementalGroups ?? [])],
    readonlyRootfs: sc.readOnlyRootFilesystem ?? false,
    privileged,
    capabilities: { add: [...(sc.capabilities?.add ?? [])], drop: [...(sc.capabilities?.drop ?? [])] },
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    maskedPaths: unmasked ? [] : DEFAULT_MASKED_PATHS,
    readonlyPaths: unmasked ? [] : DEFAULT_READONLY_PATHS,
  };
}

/** The pod-level Linux settings of the sandbox (kuberuntime_sandbox.go generatePodSandboxLinuxConfig). */
export function sandboxLinux(pod: Pod): SandboxLinuxConfig {
  const spec = pod.spec;
  const podSc = spec?.securityContext ?? {};
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const host = (on: boolean | undefined, otherwise: NamespaceMode): NamespaceMode => (on ? 'node' : otherwise);
  return {
    namespaces: {
      network: host(spec?.hostNetwork, 'pod'),
      pid: host(spec?.hostPID, spec?.shareProcessNamespace ? 'pod' : 'container'),
      ipc: host(spec?.hostIPC, 'pod'),
    },
    runAsUser: podSc.runAsUser,
    runAsGroup: podSc.runAsGroup,
    supplementalGroups: [...(podSc.supplementalGroups ?? [])],
    privileged: containers.some((c) => c.securityContext?.privileged === true),
    sysctls: Object.fromEntries((podSc.sysctls ?? []).map((s) => [s.name, s.value])),
  };
}

/**
 * Why a container may not start under runAsNonRoot, or undefined when it may
 * (kuberuntime/security_context_others.go verifyRunAsNonRoot). `imageUser` is the image's configured
 * user: a uid, a name, or '' (root).
 */
export function runAsNonRootViolation(sec: ContainerSecurity, imageUser: string, pod: string, container: string): string | undefined {
  if (!sec.runAsNonRoot) return undefined;
  if (sec.runAsUser !== undefined) {
    return sec.runAsUser === 0 ? `container's runAsUser breaks non-root policy (pod: "${pod}", container: ${container})` : undefined;
  }
  const user = imageUser.split(':')[0] ?? '';
  if (/^\d+$/.test(user)) {
    return Number(user) === 0 ? `container has runAsNonRoot and image will run as root (pod: "${pod}", container: ${container})` : undefined;
  }
  if (user !== '') {
    return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root (pod: "${pod}", container: ${container})`;
  }
  return `container has runAsNonRoot and image will run as root (pod: "${pod}", container: ${container})`;
}

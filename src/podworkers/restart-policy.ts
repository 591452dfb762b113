import type { Pod } from '../api/types.js';

/** Whether an exited container is started again (kuberuntime ShouldContainerBeRestarted, pod not deleted). */
export function shouldRestart(pod: Pod, exitCode: number, sidecar: boolean): boolean {
  if (sidecar) return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

/** The kubelet's floor on any grace period (kuberuntime_container.go minimumGracePeriodInSeconds). */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;

/** The grace period of a pod's kill: the deletion's own, else the pod's terminationGracePeriodSeconds (30). */
export function gracePeriodSeconds(pod: Pod, override: number | undefined): number {
  const g = override ?? pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(g, MINIMUM_GRACE_PERIOD_SECONDS);
}

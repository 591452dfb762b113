// /runningpods/: the pods the container runtime runs, as the kubelet's server.go getRunningPods
// serves them (kubelet.GetRunningPods, kubecontainer.Pod.ToAPIPod): a v1 PodList straight from the
// runtime, not from the pod workers, holding for each pod only its name, namespace and UID and the
// name and image of each running container. It shows what runs, whatever nodelet thinks should.

import type { Runtime } from '../runtime/types.js';
import { compareStrings } from '../util/compare.js';

/** The part of the runtime /runningpods/ reads. */
export type RunningPodsSource = Pick<Runtime, 'listPodSandboxes' | 'listContainers'>;

/** One item of /runningpods/: a v1 Pod with nothing set but these fields (JSON null for the unset time). */
export interface RunningPod {
  metadata: { name: string; namespace: string; uid: string; creationTimestamp: null };
  spec: { containers: { name: string; image: string; resources: Record<string, never> }[] };
  status: Record<string, never>;
}

/**
 * The runtime's running pods as a PodList: a pod is there when its sandbox is ready or one of its
 * containers runs (the runtime cache's GetPods(all=false)), with its running containers only.
 * Ordered by namespace, then name.
 */
export async function runningPods(runtime: RunningPodsSource): Promise<{ kind: 'PodList'; apiVersion: 'v1'; metadata: object; items: RunningPod[] }> {
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes(), runtime.listContainers()]);
  const bySandbox = new Map(sandboxes.map((s) => [s.id, s]));
  const pods = new Map<string, { namespace: string; name: string; uid: string; containers: { name: string; image: string }[] }>();
  const podOf = (s: (typeof sandboxes)[number]) => {
    let p = pods.get(s.uid);
    if (!p) pods.set(s.uid, (p = { namespace: s.namespace, name: s.name, uid: s.uid, containers: [] }));
    return p;
  };
  for (const s of sandboxes) if (s.ready) podOf(s);
  for (const c of containers) {
    const s = bySandbox.get(c.sandboxId);
    if (c.state !== 'running' || !s) continue;
    podOf(s).containers.push({ name: c.name, image: c.image });
  }
  const items = [...pods.values()]
    .sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name))
    .map(
      (p): RunningPod => ({
        // As the kubelet encodes it: the zero values of a v1.Pod built from only these fields.
        metadata: { name: p.name, namespace: p.namespace, uid: p.uid, creationTimestamp: null },
        spec: { containers: p.containers.map((c) => ({ name: c.name, image: c.image, resources: {} })) },
        status: {},
      }),
    );
  return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items };
}

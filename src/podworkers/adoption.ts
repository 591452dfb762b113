import type { Pod } from '../api/types.js';
import type { ContainerInfo, Runtime, SandboxInfo } from '../runtime/types.js';
import type { ContainerView } from '../status/types.js';

/** What the runtime still holds of one pod UID when nodelet starts: sandboxes and their containers. */
export interface Leftover {
  uid: string;
  /** `namespace/name` of the pod, from the sandbox. */
  fullName: string;
  sandboxes: SandboxInfo[];
  containers: ContainerInfo[];
}

/** How a worker takes over a pod a previous nodelet started. */
export interface AdoptionPlan {
  sandbox: SandboxInfo;
  /** Per container name: the latest attempt as current, the one before as previous. */
  views: ContainerView[];
  /** Never-started attempts (a crash between create and start) and older attempts: removed. */
  garbageContainers: string[];
  /** Other sandboxes of the same pod (a crash between two runPodSandbox calls): removed. */
  garbageSandboxes: string[];
}

/** Groups what the runtime holds by pod UID (the kubelet's first relist after a restart). */
export async function listLeftovers(runtime: Runtime): Promise<Map<string, Leftover>> {
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes(), runtime.listContainers()]);
  const out = new Map<string, Leftover>();
  const bySandbox = new Map<string, Leftover>();
  for (const s of sandboxes) {
    let l = out.get(s.uid);
    if (!l) {
      l = { uid: s.uid, fullName: `${s.namespace}/${s.name}`, sandboxes: [], containers: [] };
      out.set(s.uid, l);
    }
    l.sandboxes.push(s);
    bySandbox.set(s.id, l);
  }
  for (const c of containers) bySandbox.get(c.sandboxId)?.containers.push(c);
  return out;
}

/**
 * Decides what to keep of a leftover pod: the newest ready sandbox and, per container name, the two
 * latest attempts that ever ran. Restart counts continue from the attempt numbers, so they never go
 * backwards across a restart of nodelet.
 */
export function planAdoption(pod: Pod, l: Leftover): AdoptionPlan | undefined {
  const sandboxes = [...l.sandboxes].sort((a, b) => Number(b.ready) - Number(a.ready) || b.createdAt - a.createdAt);
  const sandbox = sandboxes[0];
  if (!sandbox) return undefined;
  const initNames = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
  const garbageContainers: string[] = [];
  const byName = new Map<string, ContainerInfo[]>();
  for (const c of l.containers) {
    if (c.sandboxId !== sandbox.id || c.state === 'created') {
      garbageContainers.push(c.id);
      continue;
    }
    byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  }
  const views: ContainerView[] = [];
  for (const [name, attempts] of byName) {
    attempts.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
    const [current, previous, ...older] = attempts;
    garbageContainers.push(...older.map((c) => c.id));
    views.push({ name, init: initNames.has(name), restartCount: current!.attempt, current, previous });
  }
  return { sandbox, views, garbageContainers, garbageSandboxes: sandboxes.slice(1).map((s) => s.id) };
}

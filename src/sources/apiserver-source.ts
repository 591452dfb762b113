import type { Pod } from '../api/types.js';
import { ConfigMirrorAnnotation, ConfigSeenAnnotation, ConfigSourceAnnotation } from '../api/types.js';
import { Reflector } from '../cluster/reflector.js';
import type { KubeClient } from '../cluster/kube-client.js';
import { formatRFC3339Nano } from '../manifest/defaults.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** Options of {@link createApiServerSource}. */
export interface ApiServerSourceOptions {
  client: KubeClient;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** The pods bound to this node that nodelet runs (mirror pods left out), after each change. */
  onSnapshot: (pods: Pod[]) => void;
  /** The mirror pods of this node as the API server has them, after each change. */
  onMirrorPods: (pods: Pod[]) => void;
}

/** The API-server source. */
export interface ApiServerSource {
  start(): void;
  stop(): void;
}

/**
 * The pods the API server binds to this node (pkg/kubelet/config/apiserver.go: a list+watch of pods
 * with `spec.nodeName=<node>`). Mirror pods come back on the same watch; they are never run, only
 * handed to the mirror-pod reconciler. Like the other sources it emits whole snapshots.
 */
export function createApiServerSource(opts: ApiServerSourceOptions): ApiServerSource {
  // config.seen is the first time this nodelet saw the pod; kept across snapshots by UID.
  const seen = new Map<string, string>();
  const reflector = new Reflector<Pod>({
    client: opts.client,
    path: '/api/v1/pods',
    fieldSelector: `spec.nodeName=${opts.nodeName}`,
    clock: opts.clock,
    logger: opts.logger,
    onSync: (items) => {
      const pods: Pod[] = [];
      const mirrors: Pod[] = [];
      const live = new Set<string>();
      for (const item of items) {
        if (item.metadata?.annotations?.[ConfigMirrorAnnotation] !== undefined) {
          mirrors.push(item);
          continue;
        }
        const uid = item.metadata?.uid ?? '';
        live.add(uid);
        if (!seen.has(uid)) seen.set(uid, formatRFC3339Nano(new Date(opts.clock.now())));
        pods.push(asSourcePod(item, seen.get(uid)!));
      }
      for (const uid of seen.keys()) if (!live.has(uid)) seen.delete(uid);
      opts.onSnapshot(pods);
      opts.onMirrorPods(mirrors);
    },
  });
  return { start: () => reflector.start(), stop: () => reflector.stop() };
}

/** A pod from the API server as the pod workers take it: the kubelet's source annotations added. */
function asSourcePod(pod: Pod, seenAt: string): Pod {
  return {
    ...pod,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...pod.metadata,
      namespace: pod.metadata?.namespace ?? 'default',
      annotations: { ...pod.metadata?.annotations, [ConfigSourceAnnotation]: 'api', [ConfigSeenAnnotation]: seenAt },
    },
  };
}

import type { Pod } from '../api/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import { createApiServerSource } from '../sources/apiserver-source.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createEventSink } from './event-sink.js';
import { loadKubeClient } from './kube-client.js';
import { NodeAgent } from './node-agent.js';
import type { NodeFacts } from './node-object.js';
import { PodSync } from './pod-sync.js';

/** Options of {@link joinCluster}. */
export interface ClusterOptions {
  kubeconfig: string;
  facts: NodeFacts;
  clock: Clock;
  logger: Logger;
  statusUpdateMs: number;
  leaseDurationSeconds: number;
  health: () => { ok: boolean; message: string };
  pods: () => WorkerSnapshot[];
  staticSourcesReady: () => boolean;
  /** The API source's snapshots, for podconfig (source `api`). */
  onSnapshot: (pods: Pod[]) => void;
  /** The node's events, written to the API server from now on. */
  events: Pick<EventRecorder, 'subscribe'>;
}

/** A node that has joined a cluster. */
export interface Cluster {
  readonly server: string;
  stop(): void;
}

/**
 * Joins the cluster of a kubeconfig: registers the Node and keeps its status and Lease fresh, runs the
 * pods bound to it, keeps mirror pods for its static pods, statuses and events in the API server. Nothing here
 * waits for the API server: with it unreachable, static pods run as usual and all of this catches up
 * when it is back.
 */
export async function joinCluster(opts: ClusterOptions): Promise<Cluster> {
  const client = await loadKubeClient(opts.kubeconfig);
  const logger = opts.logger.child({ component: 'cluster' });
  const agent = new NodeAgent({
    client,
    facts: opts.facts,
    clock: opts.clock,
    logger,
    statusUpdateMs: opts.statusUpdateMs,
    leaseDurationSeconds: opts.leaseDurationSeconds,
    health: opts.health,
  });
  const sync = new PodSync({
    client,
    nodeName: opts.facts.nodeName,
    clock: opts.clock,
    logger,
    pods: opts.pods,
    nodeUID: () => agent.uid,
    staticSourcesReady: opts.staticSourcesReady,
  });
  const source = createApiServerSource({
    client,
    nodeName: opts.facts.nodeName,
    clock: opts.clock,
    logger: logger.child({ source: 'api' }),
    onSnapshot: opts.onSnapshot,
    onMirrorPods: (mirrors) => sync.setMirrors(mirrors),
  });
  const sink = createEventSink({ client, nodeName: opts.facts.nodeName, clock: opts.clock, logger: logger.child({ sink: 'events' }) });
  const unsubscribe = opts.events.subscribe((e) => sink.push(e));
  agent.start();
  source.start();
  sync.start();
  return {
    server: client.server,
    stop() {
      unsubscribe();
      sink.stop();
      source.stop();
      sync.stop();
      agent.stop();
    },
  };
}

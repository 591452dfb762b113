// Test seam for server/: a NodeView over hand-made pods, and a snapshot builder.

import type { Pod, PodStatus } from '../api/types.js';
import type { NodeletConfig } from '../config/types.js';
import type { PodEvent } from '../events/recorder.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import type { ContainerView } from '../status/types.js';
import type { NodeView } from './node-view.js';

/** A NodeView whose pods, events and time the test sets directly. */
export class FakeView implements NodeView {
  snapshots: WorkerSnapshot[] = [];
  podEvents: PodEvent[] = [];
  time = Date.parse('2024-05-01T12:00:00Z');
  config = { nodeName: 'n1', staticPodPath: '/etc/kubernetes/manifests', address: '127.0.0.1', syncFrequencyMs: 60_000 } as NodeletConfig;
  kubeletConfiguration = () => ({});
  pods = () => this.snapshots;
  events = (uid?: string) => this.podEvents.filter((e) => uid === undefined || e.involvedObject.uid === uid);
  lastResyncAt = () => this.time;
  now = () => this.time;
}

/** A running single-container pod's snapshot, named `<name>-n1` in `namespace`. */
export function snapshot(
  name: string,
  opts: { namespace?: string; labels?: Record<string, string>; phase?: PodStatus['phase']; state?: WorkerSnapshot['state']; uid?: string; containers?: ContainerView[] } = {},
): WorkerSnapshot {
  const pod: Pod = {
    metadata: {
      name: `${name}-n1`,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-${name}`,
      labels: opts.labels,
      annotations: {
        'kubernetes.io/config.seen': '2024-05-01T11:00:00.123456789Z',
        'kubernetes.io/config.source': 'file',
        'nodelet.io/config.file': `/etc/kubernetes/manifests/${name}.yaml`,
      },
    },
    spec: { nodeName: 'n1', containers: [{ name: 'main', command: ['sleep', '1'] }] },
  };
  const phase = opts.phase ?? 'Running';
  const status: PodStatus = {
    phase,
    startTime: '2024-05-01T11:00:00Z',
    podIPs: [{ ip: '10.0.0.1' }],
    containerStatuses: [
      {
        name: 'main',
        ready: phase === 'Running',
        restartCount: 0,
        image: '',
        imageID: '',
        state: phase === 'Running' ? { running: { startedAt: '2024-05-01T11:00:00Z' } } : { terminated: { exitCode: 0, reason: 'Completed' } },
      },
    ],
  };
  return { pod, status, state: opts.state ?? 'syncing', containers: opts.containers ?? [] };
}

/** The same snapshot with another status phase (a new status object, as a worker would give). */
export function withPhase(s: WorkerSnapshot, phase: PodStatus['phase']): WorkerSnapshot {
  return { ...s, status: { ...s.status, phase } };
}

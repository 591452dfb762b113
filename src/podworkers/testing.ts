// Pod workers over the FakeRuntime and a fake clock, for unit tests of the workers and of what drives
// them (adoption, eviction). No disk I/O by default: tests settle by turning the event loop, which real
// fs calls would outlast.
import type { Pod } from '../api/types.js';
import { createEventRecorder, type EventRecorder } from '../events/recorder.js';
import { createProbeManager } from '../prober/index.js';
import type { FakeRuntime } from '../runtime/testing.js';
import type { FakeClock } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import type { VolumeManager } from '../volumes/volume-manager.js';
import { createPodWorkers, type PodWorkers } from './pod-workers.js';

/** The node's address in these tests (host and pod IP alike). */
export const TEST_HOST_IP = '10.0.0.1';

/** Pod workers on `runtime`; events recorded in the returned recorder. */
export function testPodWorkers(
  clock: FakeClock,
  runtime: FakeRuntime,
  opts: { maxPods?: number; volumes?: VolumeManager; onFirstStart?: (pod: Pod, seconds: number) => void } = {},
): { workers: PodWorkers; events: EventRecorder } {
  const events = createEventRecorder(clock);
  const workers = createPodWorkers({
    runtime,
    clock,
    logger: silentLogger(),
    events,
    probes: createProbeManager({ runtime, clock, logger: silentLogger(), events, podIP: TEST_HOST_IP, random: () => 0, timerResolutionMs: 0 }),
    node: { nodeName: 'n', hostIP: TEST_HOST_IP, podIP: TEST_HOST_IP, memoryCapacityBytes: 8 * 2 ** 30, hostDns: { servers: [], searches: [], options: [] } },
    volumes: opts.volumes ?? { setUp: async () => new Map(), tearDown: async () => undefined },
    podLogsDir: '/nonexistent',
    maxPods: opts.maxPods ?? 10,
    syncFrequencyMs: 60_000,
    backoffInitialMs: 10_000,
    backoffMaxMs: 300_000,
    onFirstStart: opts.onFirstStart,
  });
  return { workers, events };
}

/** Lets the workers' promise chains run (the fake runtime answers at once). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

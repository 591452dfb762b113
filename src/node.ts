import { mkdir } from 'node:fs/promises';
import { homedir, networkInterfaces } from 'node:os';
import type { Pod } from './api/types.js';
import { toKubeletConfiguration } from './config/index.js';
import type { LoadedConfig } from './config/types.js';
import { createEventRecorder } from './events/recorder.js';
import { createProbeManager } from './prober/index.js';
import { createLogRotator } from './logs/index.js';
import { createNodeletMetrics } from './metrics/kubelet-metrics.js';
import { PodConfig } from './podconfig/pod-config.js';
import { createPodWorkers } from './podworkers/pod-workers.js';
import { createProcessRuntime } from './runtime/process/process-runtime.js';
import type { NodeView } from './server/node-view.js';
import { startServers } from './server/servers.js';
import { createFileSource, type FileSource } from './sources/file-source.js';
import { createHttpSource } from './sources/http-source.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';

/** What the process environment gives the node: the only place `process.env` is read is the CLI. */
export interface NodeEnvironment {
  clock: Clock;
  logger: Logger;
  /** PATH and HOME handed to containers of the process runtime. */
  baseEnv: Record<string, string>;
}

/** A running node. */
export interface RunningNode {
  view: NodeView;
  fileSource: FileSource | undefined;
  /** Stops watching and serving. With `stopPods`, first stops every pod with grace. */
  stop(opts: { stopPods: boolean }): Promise<void>;
}

/** Wires sources → podconfig → podworkers → runtime, and the servers that read them. No logic of its own. */
export async function startNode(loaded: LoadedConfig, env: NodeEnvironment): Promise<RunningNode> {
  const { config } = loaded;
  const { clock, logger } = env;
  await mkdir(config.rootDir, { recursive: true });
  await mkdir(config.podLogsDir, { recursive: true });

  if (config.containerRuntimeEndpoint) {
    logger.warn(
      { endpoint: config.containerRuntimeEndpoint },
      'The CRI runtime is not available yet: running containers with the embedded process runtime',
    );
  }
  const rotator = createLogRotator({
    maxSizeBytes: config.containerLogMaxSizeBytes,
    maxFiles: config.containerLogMaxFiles,
    clock,
    onError: (err) => logger.warn({ err: String(err) }, 'Container log rotation failed'),
  });
  const runtime = createProcessRuntime({ clock, logger: logger.child({ component: 'runtime' }), baseEnv: env.baseEnv, rotator });
  const hostIP = detectHostIP();
  const events = createEventRecorder(clock);
  const metrics = createNodeletMetrics();
  const stopCountingStarts = runtime.onContainerEvent((e) => {
    if (e.type === 'started') metrics.containerStarted(e);
  });
  const probes = createProbeManager({ runtime, clock, logger: logger.child({ component: 'prober' }), events, podIP: hostIP });
  const workers = createPodWorkers({
    runtime,
    clock,
    logger,
    events,
    probes,
    node: { nodeName: config.nodeName, hostIP, podIP: hostIP },
    podLogsDir: config.podLogsDir,
    maxPods: config.maxPods,
    syncFrequencyMs: config.syncFrequencyMs,
    backoffInitialMs: config.crashLoopBackOffInitialMs,
    backoffMaxMs: config.crashLoopBackOffMaxMs,
    onSync: (operation, seconds) => metrics.observeSync(operation, seconds),
    onFirstStart: (pod, seconds) => metrics.observeFirstStart(pod, seconds),
  });
  const podConfig = new PodConfig();
  const reportedDuplicates = new Set<string>();
  const applySnapshot = (source: string, pods: Pod[]) => {
    const result = podConfig.apply(source, pods);
    const now = new Set<string>();
    for (const d of result.duplicates) {
      const file = d.pod.metadata?.annotations?.['nodelet.io/config.file'] ?? d.source;
      const key = `${file}|${d.pod.metadata?.uid}`;
      now.add(key);
      if (reportedDuplicates.has(key)) continue;
      logger.warn(
        { file, pod: `${d.pod.metadata?.namespace}/${d.pod.metadata?.name}`, keptFrom: d.keptFrom, reason: 'FailedValidation' },
        'Duplicate pod name: this manifest is ignored, the pod from the other file runs',
      );
    }
    reportedDuplicates.clear();
    for (const k of now) reportedDuplicates.add(k);
    for (const o of result.operations) {
      logger.info({ op: o.op, pod: `${o.pod.metadata?.namespace}/${o.pod.metadata?.name}`, podUID: o.pod.metadata?.uid, source }, 'Pod update');
    }
    workers.handle(result.operations);
  };

  const view: NodeView = {
    config,
    kubeletConfiguration: () => toKubeletConfiguration(config),
    pods: () => workers.list(),
    events: (uid) => events.list(uid),
    lastResyncAt: () => workers.lastResyncAt(),
    now: () => clock.now(),
  };
  const servers = await startServers(view, logger, { metrics });

  const fileSource = config.staticPodPath
    ? createFileSource({
        path: config.staticPodPath,
        nodeName: config.nodeName,
        clock,
        logger: logger.child({ source: 'file' }),
        resyncMs: config.fileCheckFrequencyMs,
        onSnapshot: (pods) => applySnapshot('file', pods),
      })
    : undefined;

  const httpSource = config.staticPodURL
    ? createHttpSource({
        url: config.staticPodURL,
        headers: config.staticPodURLHeader,
        nodeName: config.nodeName,
        clock,
        logger: logger.child({ source: 'http' }),
        periodMs: config.httpCheckFrequencyMs,
        onSnapshot: (pods) => applySnapshot('http', pods),
      })
    : undefined;

  logger.info({ path: config.staticPodPath || '(none)', every: `${config.fileCheckFrequencyMs / 1000}s` }, 'Source: static pod path');
  if (httpSource) logger.info({ url: config.staticPodURL, every: `${config.httpCheckFrequencyMs / 1000}s` }, 'Source: manifest URL');
  if (config.kubeconfig) logger.warn({ kubeconfig: config.kubeconfig }, 'Source: --kubeconfig is not supported yet: running standalone');
  logger.info({ runtime: runtime.name, maxPods: config.maxPods }, 'Runtime: embedded process runtime (containers are host processes)');
  logger.info({ node: config.nodeName, hostIP }, 'Node name');
  logger.info({ readOnly: servers.readOnlyAddress || 'disabled', socket: servers.socketPath }, 'Serving the read-only API');
  logger.info({ podLogsDir: config.podLogsDir, rootDir: config.rootDir }, 'Container logs');
  await fileSource?.start();
  // A URL that does not answer must not hold up the file source's pods: its first fetch runs in the background.
  void httpSource?.start();

  return {
    view,
    fileSource,
    async stop({ stopPods }) {
      fileSource?.stop();
      httpSource?.stop();
      if (stopPods) await workers.stopAll();
      workers.close();
      probes.stop();
      stopCountingStarts();
      rotator.stop();
      await runtime.close();
      await servers.close();
    },
  };
}

/** The node's IP as pods see it (status.hostIP): the first non-loopback IPv4 address, else 127.0.0.1. */
function detectHostIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The environment handed to containers on the process runtime. */
export function containerBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return {
    PATH: env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: env.HOME ?? homedir(),
  };
}

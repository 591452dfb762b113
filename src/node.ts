import { mkdir, readFile } from 'node:fs/promises';
import { homedir, networkInterfaces, totalmem } from 'node:os';
import path from 'node:path';
import type { Pod } from './api/types.js';
import { formatOrigin, toKubeletConfiguration } from './config/index.js';
import type { LoadedConfig, NodeletConfig } from './config/types.js';
import { parseResolvConf } from './container/dns-config.js';
import { createEventRecorder } from './events/recorder.js';
import { createEvictionManager } from './eviction/eviction-manager.js';
import { removePodLogs } from './logs/index.js';
import { createProbeManager } from './prober/index.js';
import { CheckpointWriter, readCheckpoint } from './checkpoints/json-checkpoint.js';
import { errorMessage, NodeletError } from './errors.js';
import { tryAbstractLock } from './util/abstract-lock.js';
import { createNodeletMetrics } from './metrics/kubelet-metrics.js';
import { createStatsProvider, type CgroupReader } from './metrics/stats-summary.js';
import { PodConfig } from './podconfig/pod-config.js';
import { createPodWorkers } from './podworkers/pod-workers.js';
import type { BackoffEntry } from './podworkers/backoff.js';
import type { RuntimeHealth } from './runtime/cri/cri-runtime.js';
import { ownerOf } from './runtime/cri/to-cri.js';
import { connectProcessRuntime, type LogErrorNotice } from './runtime/process/supervisor/client.js';
import type { Runtime } from './runtime/types.js';
import { PROCESS_RUNTIME_DIR } from './runtime/process/supervisor/paths.js';
import type { NodeView } from './server/node-view.js';
import { prepareSecurePort } from './server/secure-port.js';
import { logServers, startServers } from './server/servers.js';
import { createFileSource, type FileSource } from './sources/file-source.js';
import { createHttpSource } from './sources/http-source.js';
import { processAuditPolicy } from './sources/manifest-audit.js';
import { joinCluster } from './cluster/index.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import { applyOwnOomScoreAdj } from './util/oom-score-adj.js';
import { createVolumeManager } from './volumes/volume-manager.js';

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
  // Two nodelets on one root dir would share one runtime and stop each other's pods.
  const rootLock = await tryAbstractLock('root-dir', config.rootDir);
  if (!rootLock) {
    throw new NodeletError('RootDirInUse', `another nodelet is running with --root-dir=${config.rootDir}: stop it first, or give this one its own --root-dir`);
  }
  await mkdir(config.rootDir, { recursive: true });
  await mkdir(config.podLogsDir, { recursive: true });
  // Before the runtime starts: a certificate, CA or token file that cannot be read stops start-up here.
  const securePort = await prepareSecurePort(config, new Date(clock.now()));

  // Before the runtime: a runtime supervisor started now inherits it. Containers get their own.
  applyOwnOomScoreAdj(config.oomScoreAdj, logger);
  const { runtime, health: runtimeHealth, onLogError, ready: runtimeReady, cgroups } = await openRuntime(config, env);
  const backoffFile = path.join(config.rootDir, 'checkpoints', 'backoff.json');
  const savedBackoff = await readCheckpoint<Record<string, BackoffEntry>>(backoffFile, 1);
  if (savedBackoff.problem) {
    logger.warn({ problem: savedBackoff.problem }, 'Checkpoint damaged: starting from what the runtime shows, back-off state reset');
  }
  let backoffSnapshot: () => Record<string, BackoffEntry> = () => ({});
  const backoffWriter = new CheckpointWriter(backoffFile, 1, () => backoffSnapshot(), clock, 1_000, (err) =>
    logger.warn({ err: errorMessage(err) }, 'Cannot write the back-off checkpoint'),
  );
  const hostIP = detectHostIP();
  const node = {
    nodeName: config.nodeName,
    hostIP,
    podIP: hostIP,
    // One value for the Node's capacity and the OOM scores computed from it (the kubelet's machineInfo).
    memoryCapacityBytes: totalmem(),
    cpuCFSQuota: config.cpuCFSQuota,
    // The kubelet's --resolv-conf default: what pods get under dnsPolicy Default (and ClusterFirst, with no cluster DNS).
    hostDns: parseResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => '')),
  };
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
    node,
    volumes: createVolumeManager(config.rootDir, node),
    podLogsDir: config.podLogsDir,
    removePodLogs: (namespace, name, uid) => removePodLogs(config.podLogsDir, namespace, name, uid),
    maxPods: config.maxPods,
    syncFrequencyMs: config.syncFrequencyMs,
    backoffInitialMs: config.crashLoopBackOffInitialMs,
    backoffMaxMs: config.crashLoopBackOffMaxMs,
    backoffState: savedBackoff.value,
    onBackoffChange: (snapshot) => {
      backoffSnapshot = snapshot;
      backoffWriter.touch();
    },
    onSync: (operation, seconds) => metrics.observeSync(operation, seconds),
    onFirstStart: (pod, seconds) => metrics.observeFirstStart(pod, seconds),
  });
  // emptyDir sizeLimit and ephemeral-storage limits, enforced by eviction through the pod workers (the kubelet's eviction manager).
  const eviction = createEvictionManager({
    clock,
    logger,
    activePods: () => workers.activePods(),
    evict: (uid, e) => workers.evict(uid, e),
    podLogsDir: config.podLogsDir,
    writableLayerBytes: runtime.writableLayerBytes?.bind(runtime),
  });
  const stopLogErrors = onLogError((n) => {
    const pod = workers.list().find((w) => w.pod.metadata?.uid === n.podUID)?.pod;
    logger.error({ pod: pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : n.podUID, err: n.message }, 'Cannot write container log');
    if (pod?.metadata) {
      const meta = pod.metadata;
      events.record({ namespace: meta.namespace ?? 'default', name: meta.name!, uid: meta.uid! }, 'Warning', 'FailedLogWrite', `Cannot write container log: ${n.message}`);
    }
  });
  const podConfig = new PodConfig();
  // Pods left by a previous nodelet that no source claims are stopped once every source has spoken.
  const pendingSources = new Set([config.staticPodPath && 'file', config.staticPodURL && 'http', config.kubeconfig && 'api'].filter(Boolean));
  const staticSourcesReady = () => !pendingSources.has('file') && !pendingSources.has('http');
  if (pendingSources.size === 0) workers.sourcesReady();
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
    if (pendingSources.delete(source) && pendingSources.size === 0) workers.sourcesReady();
  };

  const view: NodeView = {
    config,
    kubeletConfiguration: () => toKubeletConfiguration(config),
    pods: () => workers.list(),
    events: (uid) => events.list(uid),
    lastResyncAt: () => workers.lastResyncAt(),
    runtimeHealth,
    now: () => clock.now(),
  };
  const stats = createStatsProvider({ now: () => clock.now(), ...(cgroups ? { cgroups } : {}) });
  const servers = await startServers(view, logger, { metrics, stats, runtime, secure: securePort });

  // Nothing can be adopted, started or stopped before the runtime answers; /healthz says why meanwhile.
  await runtimeReady();
  const leftovers = await workers.recover();
  if (leftovers > 0) logger.info({ pods: leftovers }, 'Found pods left running by the previous nodelet: adopting them');
  eviction.start();

  const fileSource = config.staticPodPath
    ? createFileSource({
        path: config.staticPodPath,
        nodeName: config.nodeName,
        clock,
        logger: logger.child({ source: 'file' }),
        resyncMs: config.fileCheckFrequencyMs,
        onSnapshot: (pods) => applySnapshot('file', pods),
        audit: processAuditPolicy(config.allowInsecureManifests),
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
  if (config.allowInsecureManifests) {
    logger.warn({ origin: formatOrigin(loaded.origins.allowInsecureManifests) }, 'Manifest audit disabled (allowInsecureManifests): whoever can write the static pod path runs processes as this user');
  }
  if (httpSource) logger.info({ url: config.staticPodURL, every: `${config.httpCheckFrequencyMs / 1000}s` }, 'Source: manifest URL');
  if (runtime.name === 'remote') logger.info({ endpoint: config.containerRuntimeEndpoint, maxPods: config.maxPods }, 'Runtime: CRI (containers run by the container runtime)');
  else logger.info({ runtime: runtime.name, maxPods: config.maxPods }, 'Runtime: embedded process runtime (containers are host programs)');
  logger.info({ node: config.nodeName, hostIP }, 'Node name');
  logServers(logger, config, servers, securePort);
  logger.info({ podLogsDir: config.podLogsDir, rootDir: config.rootDir }, 'Container logs');
  await fileSource?.start();
  // The cluster is joined after the static pods have started: they never wait for an API server.
  const cluster = config.kubeconfig
    ? await joinCluster({
        kubeconfig: config.kubeconfig,
        facts: {
          nodeName: config.nodeName,
          hostIP,
          maxPods: config.maxPods,
          memoryCapacityBytes: node.memoryCapacityBytes,
          containerRuntimeVersion: await runtimeVersion(runtime),
          rootDir: config.rootDir,
          port: config.port,
        },
        clock,
        logger,
        statusUpdateMs: config.nodeStatusUpdateFrequencyMs,
        leaseDurationSeconds: config.nodeLeaseDurationSeconds,
        health: runtimeHealth,
        pods: () => workers.list(),
        staticSourcesReady,
        onSnapshot: (pods) => applySnapshot('api', pods),
        events,
      })
    : undefined;
  if (cluster) logger.info({ server: cluster.server, kubeconfig: config.kubeconfig }, 'Source: API server (pods bound to this node; mirror pods for static pods)');
  // A URL that does not answer must not hold up the file source's pods: its first fetch runs in the background.
  void httpSource?.start();

  return {
    view,
    fileSource,
    async stop({ stopPods }) {
      fileSource?.stop();
      httpSource?.stop();
      cluster?.stop();
      eviction.stop();
      if (stopPods) await workers.stopAll();
      workers.close();
      probes.stop();
      stopCountingStarts();
      stopLogErrors();
      await backoffWriter.flush();
      await runtime.close();
      await servers.close();
      rootLock.close();
    },
  };
}

/** `containerd://1.6.20`: the runtime as the Node's nodeInfo names it. */
async function runtimeVersion(runtime: Runtime): Promise<string> {
  try {
    const v = await runtime.version();
    return `${v.runtimeName}://${v.runtimeVersion}`;
  } catch {
    return `${runtime.name}://unknown`;
  }
}

/** The runtime a node drives, and what node.ts needs of it beyond the Runtime interface. */
interface OpenedRuntime {
  runtime: Runtime;
  health: () => RuntimeHealth;
  onLogError: (listener: (n: LogErrorNotice) => void) => () => void;
  /** Resolves once the runtime has answered; a CRI runtime that is down is waited for, not fatal. */
  ready: () => Promise<void>;
  /** The process runtime's cgroups, for usage in /stats/summary; undefined on the CRI runtime. */
  cgroups?: CgroupReader;
}

/** The CRI runtime at --container-runtime-endpoint, else the embedded process runtime. */
async function openRuntime(config: NodeletConfig, env: NodeEnvironment): Promise<OpenedRuntime> {
  const logger = env.logger.child({ component: 'runtime' });
  if (config.containerRuntimeEndpoint) {
    // Loaded only here: gRPC and protobufjs cost the process runtime's nodes megabytes of heap for nothing.
    const { connectCriRuntime } = await import('./runtime/cri/cri-runtime.js');
    const cri = await connectCriRuntime({
      endpoint: config.containerRuntimeEndpoint,
      // Several nodelets (tests, or a node and a sandbox) may share one containerd: each sees only its own.
      owner: ownerOf(config.rootDir),
      clock: env.clock,
      logger,
      logs: { maxSizeBytes: config.containerLogMaxSizeBytes, maxFiles: config.containerLogMaxFiles },
    });
    return { runtime: cri, health: () => cri.currentHealth(), onLogError: () => () => undefined, ready: () => cri.ready() };
  }
  // Containers live in the runtime supervisor, not in this process: nodelet may die and come back.
  const runtime = await connectProcessRuntime({
    stateDir: path.join(config.rootDir, PROCESS_RUNTIME_DIR),
    logger,
    baseEnv: env.baseEnv,
    logs: { maxSizeBytes: config.containerLogMaxSizeBytes, maxFiles: config.containerLogMaxFiles },
    isolation: config.processIsolation,
    cgroupRoot: config.cgroupRoot,
  });
  // Notes from the supervisor's own start, which may be older than this nodelet: hence its start time.
  const since = new Date(runtime.hello?.startedAt ?? 0).toISOString();
  for (const r of runtime.hello?.recovery ?? []) env.logger.warn({ supervisorStartedAt: since }, `Runtime recovery: ${r}`);
  return {
    runtime,
    health: () => ({ ok: true, message: '' }),
    onLogError: (l) => runtime.onLogError(l),
    ready: async () => undefined,
    cgroups: () => runtime.cgroupReader(),
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

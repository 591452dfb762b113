/**
 * The runtime supervisor: one small process per node that spawns, reaps and logs every container of
 * the process runtime, so that nodelet itself can crash, be killed or be upgraded without touching
 * them (containerd's daemon/shim split, once per node instead of once per container). Started
 * detached by nodelet; it serves the runtime on `<state-dir>/supervisor.sock`.
 *
 * It must stay tiny and rarely change: no sources, no pod logic, no HTTP. On SIGTERM or SIGINT it
 * stops every container with grace and exits (the way to take everything down on purpose).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../../errors.js';
import { createLogRotator } from '../../../logs/index.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { realClock } from '../../../util/clock.js';
import { createLogger } from '../../../util/log.js';
import { CheckpointStore } from '../checkpoint-store.js';
import { createProcessRuntime } from '../process-runtime.js';
import { openRuntimeCgroups } from '../runtime-cgroups.js';
import type { LogSettings } from './protocol.js';
import { serveRuntime, type RuntimeServer } from './server.js';
import { SUPERVISOR_PID_FILE, SUPERVISOR_SOCKET } from './paths.js';

/** Grace given to each container when the supervisor itself is told to stop. */
const STOP_GRACE_SECONDS = 10;
/** A supervisor with no container and no client for this long exits (one started by a client that then went). */
const IDLE_EXIT_MS = 30_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      'log-max-size': { type: 'string', default: String(10 * 1024 * 1024) },
      'log-max-files': { type: 'string', default: '5' },
      // The kubelet's --cgroup-root: the parent cgroup of this runtime goes under it.
      'cgroup-root': { type: 'string', default: '' },
    },
  });
  const stateDir = values['state-dir'];
  if (!stateDir) {
    process.stderr.write('nodelet-supervisor: --state-dir is required\n');
    return 2;
  }
  const logger = createLogger({ format: 'text', verbosity: 0 }).child({ component: 'supervisor' });
  await mkdir(stateDir, { recursive: true });

  const rotatorFor = (s: LogSettings) =>
    createLogRotator({
      maxSizeBytes: s.maxSizeBytes,
      maxFiles: s.maxFiles,
      onError: (err) => logger.warn({ err: errorMessage(err) }, 'Container log rotation failed'),
    });
  let settings: LogSettings = { maxSizeBytes: Number(values['log-max-size']), maxFiles: Number(values['log-max-files']) };
  const lastLogError = new Map<string, number>();
  let server: RuntimeServer | undefined;
  // Once, at start: without usable cgroups containers run without limits, and the start-up line says why.
  const cgroups = await openRuntimeCgroups({ stateDir, cgroupRoot: values['cgroup-root'] ?? '' });
  const runtime = createProcessRuntime({
    clock: realClock,
    logger,
    // nodelet starts the supervisor with exactly the environment containers are to get.
    baseEnv: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    rotator: rotatorFor(settings),
    store: new CheckpointStore(stateDir),
    ownerTag: path.resolve(stateDir),
    cgroups,
    onLogError: (containerId, podUID, err) => {
      // Once a minute per container: a full disk must not also flood the supervisor's own log.
      const now = Date.now();
      if (now - (lastLogError.get(containerId) ?? 0) < 60_000) return;
      lastLogError.set(containerId, now);
      logger.error({ containerId, err: errorMessage(err) }, 'Cannot write container log: output is dropped, the container keeps running');
      server?.broadcast({ notice: 'logError', containerId, podUID, message: errorMessage(err) });
    },
  });
  let recovery: string[] = [];
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  let exiting = false;
  const exit = async (stopContainers: boolean) => {
    if (exiting) return;
    exiting = true;
    if (stopContainers) {
      logger.info({}, 'Stopping every container');
      await runtime.stopEverything(STOP_GRACE_SECONDS);
    }
    // Nothing runs any more: no cgroup of ours is left behind (a next supervisor makes the pods' again).
    if (stopContainers || runtime.isEmpty()) await runtime.removeCgroups();
    await runtime.close();
    server?.close();
    process.exit(0);
  };
  try {
    server = await serveRuntime(runtime, path.join(stateDir, SUPERVISOR_SOCKET), logger, {
      startedAt: Date.now(),
      ready,
      recovery: () => recovery,
      configure(next) {
        if (next.maxSizeBytes === settings.maxSizeBytes && next.maxFiles === settings.maxFiles) return;
        settings = next;
        runtime.setRotator(rotatorFor(settings));
      },
      exit: () => void exit(false),
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'SupervisorRunning') return 0;
    throw err;
  }
  // Only now that the socket is ours: a supervisor that steps aside must not touch the live one's containers.
  recovery = await runtime.recover();
  for (const r of recovery) logger.warn({}, `Recovery: ${r}`);
  markReady();
  await writeFileAtomic(path.join(stateDir, SUPERVISOR_PID_FILE), `${process.pid}\n`);
  let idleSince = Date.now();
  setInterval(() => {
    if (server!.clients() > 0 || !runtime.isEmpty()) idleSince = Date.now();
    else if (Date.now() - idleSince >= IDLE_EXIT_MS) {
      // In the same tick as the check: no client can connect between the two.
      server!.close();
      void exit(false);
    }
  }, IDLE_EXIT_MS / 3).unref();
  process.on('SIGTERM', () => void exit(true));
  process.on('SIGINT', () => void exit(true));
  process.on('SIGHUP', () => undefined);
  // Every container's output runs through this process: one bad request must not take them all down.
  process.on('uncaughtException', (err) => logger.error({ err: errorMessage(err), stack: err.stack }, 'Uncaught exception in the supervisor'));
  logger.info({ pid: process.pid, stateDir, cgroups: cgroups.support.detail }, cgroups.manager ? 'Runtime supervisor listening' : 'Runtime supervisor listening, without cgroups: resource limits are not enforced');
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`nodelet-supervisor: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadConfig } from '../config/index.js';
import type { LoadedConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { containerBaseEnv, startNode } from '../node.js';
import { realClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';

/** Reads the configuration of `nodelet run` from its arguments and the process's environment. */
export function loadRunConfig(args: string[]): LoadedConfig {
  return loadConfig(args, { hostname, readFile: (p) => readFileSync(p), cwd: process.cwd() });
}

/**
 * `nodelet run [kubelet flags]`: runs the node until SIGTERM or SIGINT. Returns the exit code.
 * On a signal pods keep running, as the kubelet leaves them: the next start adopts them. With
 * --stop-pods-on-exit they are stopped with grace first.
 */
export async function runCommand(args: string[]): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = loadRunConfig(args);
  } catch (err) {
    process.stderr.write(`nodelet: ${errorMessage(err)}\n`);
    return 2;
  }
  const logger = createLogger({ format: loaded.config.loggingFormat, verbosity: loaded.config.verbosity });
  for (const w of loaded.warnings) logger.warn({}, w);
  let node;
  try {
    node = await startNode(loaded, { clock: realClock, logger, baseEnv: containerBaseEnv(process.env) });
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'Failed to start nodelet');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'Second signal: exiting without waiting for pods');
        resolve(130);
        return;
      }
      stopping = true;
      const stopPods = loaded.config.stopPodsOnExit;
      logger.info({ signal }, stopPods ? 'Shutting down: stopping pods with grace' : 'Shutting down: pods keep running');
      node
        .stop({ stopPods })
        .then(() => resolve(0))
        .catch((err) => {
          logger.error({ err: errorMessage(err) }, 'Error during shutdown');
          resolve(1);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

// The kubelet's pod log layout (pkg/kubelet/kuberuntime/helpers.go BuildPodLogsDirectory,
// BuildContainerLogsDirectory; kuberuntime_container.go buildContainerLogsPath):
//
//   <podLogsDir>/<namespace>_<podName>_<podUID>/<containerName>/<restartCount>.log
//
// Log collectors (fluent-bit, promtail, vector) parse these names, so they must match exactly.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeletError } from '../errors.js';

/** Error code for a name that would escape the pod log directory. */
export const INVALID_LOG_PATH = 'InvalidLogPath';

// Names come from validated manifests, but these paths are created and removed recursively: refuse
// anything that could point outside podLogsDir rather than trust every caller.
function component(kind: string, value: string): string {
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\0')) {
    throw new NodeletError(INVALID_LOG_PATH, `invalid ${kind} for a log path: ${JSON.stringify(value)}`, {
      details: { [kind]: value },
    });
  }
  return value;
}

/** The directory of one pod's logs: `<podLogsDir>/<ns>_<podName>_<podUID>`. */
export function podLogDir(podLogsDir: string, ns: string, podName: string, podUID: string): string {
  return join(
    podLogsDir,
    `${component('namespace', ns)}_${component('podName', podName)}_${component('podUID', podUID)}`,
  );
}

/** The directory of one container's logs: `<podLogsDir>/<ns>_<podName>_<podUID>/<container>`. */
export function containerLogDir(
  podLogsDir: string,
  ns: string,
  podName: string,
  podUID: string,
  container: string,
): string {
  return join(podLogDir(podLogsDir, ns, podName, podUID), component('container', container));
}

/** The log file of one container attempt: `<containerLogDir>/<restartCount>.log`. */
export function containerLogPath(
  podLogsDir: string,
  ns: string,
  podName: string,
  podUID: string,
  container: string,
  restartCount: number,
): string {
  if (!Number.isSafeInteger(restartCount) || restartCount < 0) {
    throw new NodeletError(INVALID_LOG_PATH, `invalid restart count for a log path: ${restartCount}`, {
      details: { restartCount },
    });
  }
  return join(containerLogDir(podLogsDir, ns, podName, podUID, container), `${restartCount}.log`);
}

const LOG_FILE_RE = /^(0|[1-9][0-9]*)\.log$/;

/**
 * The `<restartCount>.log` files of a container directory, sorted by restart count: the last is the
 * current attempt, the one before it is what `kubectl logs --previous` shows. Rotated files
 * (`0.log.20260101-000000[.gz]`) are not listed. A missing directory has no files.
 */
export async function listContainerLogFiles(dir: string): Promise<{ restartCount: number; path: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: { restartCount: number; path: string }[] = [];
  for (const name of names) {
    const m = LOG_FILE_RE.exec(name);
    if (m) files.push({ restartCount: Number(m[1]), path: join(dir, name) });
  }
  return files.sort((a, b) => a.restartCount - b.restartCount);
}

/**
 * Removes a pod's log directory and everything in it, as the kubelet does once a pod is removed
 * (kuberuntime_gc.go evictPodLogsDirectories). A directory already gone is not an error.
 */
export async function removePodLogs(podLogsDir: string, ns: string, podName: string, podUID: string): Promise<void> {
  await rm(podLogDir(podLogsDir, ns, podName, podUID), { recursive: true, force: true });
}

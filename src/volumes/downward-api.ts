import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Pod } from '../api/types.js';
import { fieldValue, resourceFieldValue, type NodeFacts } from '../container/container-config.js';
import { NodeletError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** One file of a downwardAPI volume (core/v1 DownwardAPIVolumeFile). */
export interface DownwardFile {
  path: string;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
  mode?: number;
}

/**
 * Writes the files of a downwardAPI volume into `dir`, each replaced atomically so a reader never sees
 * half a value, and removes files no item names any more. The kubelet's AtomicWriter swaps a whole
 * `..data` directory; per-file renames give the same guarantee for each value, which is what readers rely on.
 */
export async function writeDownwardAPI(dir: string, pod: Pod, items: DownwardFile[], defaultMode: number, node: NodeFacts, volume: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const wanted = new Set<string>();
  for (const item of items) {
    const value = itemValue(pod, item, node, volume);
    const target = path.join(dir, item.path);
    if (path.relative(dir, target).startsWith('..')) {
      throw new NodeletError('FailedMount', `volume "${volume}": item path ${item.path} leaves the volume`);
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await writeFileAtomic(target, value, { durable: false });
    await chmod(target, item.mode ?? defaultMode);
    wanted.add(path.relative(dir, target).split(path.sep)[0]!);
  }
  for (const entry of await readdir(dir)) {
    if (!wanted.has(entry)) await rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

function itemValue(pod: Pod, item: DownwardFile, node: NodeFacts, volume: string): string {
  if (item.fieldRef) return fieldValue(pod, item.fieldRef.fieldPath, node, `volume "${volume}" item ${item.path}`);
  if (item.resourceFieldRef) {
    const ref = item.resourceFieldRef;
    const c = (pod.spec?.containers ?? []).find((x) => x.name === ref.containerName) ?? pod.spec?.containers?.[0];
    const value = resourceFieldValue(c, ref.resource);
    if (value !== undefined) return value;
    throw new NodeletError('FailedMount', `volume "${volume}" item ${item.path}: ${ref.resource} is not set`);
  }
  throw new NodeletError('FailedMount', `volume "${volume}" item ${item.path}: needs fieldRef or resourceFieldRef`);
}

import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * A short hash of a nodelet's root (or state) directory: what marks the sandboxes, containers and
 * cgroups of one nodelet, so that two nodelets on one host never take or sweep each other's.
 */
export function ownerOf(dir: string): string {
  return createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 16);
}

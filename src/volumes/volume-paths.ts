import path from 'node:path';

/** The directory of one pod under the root dir (the kubelet's getPodDir: `<root>/pods/<uid>`). */
export function podDir(rootDir: string, uid: string): string {
  return path.join(rootDir, 'pods', uid);
}

/** The host directory of a pod-owned volume (kubelet: `volumes/kubernetes.io~<plugin>/<name>`). */
export function pluginVolumeDir(rootDir: string, uid: string, plugin: 'empty-dir' | 'downward-api' | 'projected', name: string): string {
  return path.join(podDir(rootDir, uid), 'volumes', `kubernetes.io~${plugin}`, name);
}

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Container, Pod } from '../api/types.js';
import type { NodeFacts } from '../container/container-config.js';
import { NodeletError } from '../errors.js';
import type { Mount } from '../runtime/types.js';
import { writeDownwardAPI, type DownwardFile } from './downward-api.js';
import { checkHostPath } from './host-path.js';
import { mountMemoryMedium, unmountAllUnder } from './memory-medium.js';
import { pluginVolumeDir, podDir } from './volume-paths.js';

/** The host path of each volume of a pod, by volume name. */
export type PodVolumes = ReadonlyMap<string, string>;

/** Prepares the volumes static pods may use (hostPath, emptyDir, downwardAPI) and cleans them up. */
export interface VolumeManager {
  /**
   * Makes every volume of the pod ready on the host and returns where each one is. Idempotent: run
   * again after a label change, it rewrites downwardAPI files. Throws FailedMount.
   */
  setUp(pod: Pod): Promise<PodVolumes>;
  /** Removes what the node made for a pod (emptyDir contents, downwardAPI files) once it has stopped. */
  tearDown(uid: string): Promise<void>;
}

/** A volume manager keeping pod-owned volumes under `<rootDir>/pods/<uid>/volumes`. */
export function createVolumeManager(rootDir: string, node: NodeFacts): VolumeManager {
  return {
    async setUp(pod) {
      const uid = pod.metadata!.uid!;
      const out = new Map<string, string>();
      for (const v of pod.spec?.volumes ?? []) {
        if (v.hostPath) {
          await checkHostPath(v.name, v.hostPath.path, v.hostPath.type ?? '');
          out.set(v.name, v.hostPath.path);
        } else if (v.downwardAPI) {
          const dir = pluginVolumeDir(rootDir, uid, 'downward-api', v.name);
          await writeDownwardAPI(dir, pod, (v.downwardAPI.items ?? []) as DownwardFile[], v.downwardAPI.defaultMode ?? 0o644, node, v.name);
          out.set(v.name, dir);
        } else if (v.projected) {
          const items = (v.projected.sources ?? []).flatMap((s) => (s.downwardAPI?.items ?? []) as DownwardFile[]);
          const dir = pluginVolumeDir(rootDir, uid, 'projected', v.name);
          await writeDownwardAPI(dir, pod, items, v.projected.defaultMode ?? 0o644, node, v.name);
          out.set(v.name, dir);
        } else {
          // emptyDir, and a volume with no source, which the API server defaults to emptyDir.
          const dir = pluginVolumeDir(rootDir, uid, 'empty-dir', v.name);
          await mkdir(dir, { recursive: true, mode: 0o777 });
          if (v.emptyDir?.medium === 'Memory') await mountMemoryMedium(v.name, dir, v.emptyDir.sizeLimit as string | number | undefined);
          out.set(v.name, dir);
        }
      }
      return out;
    },
    async tearDown(uid) {
      // A tmpfs still mounted would make rm fail half way (EBUSY), leaving the pod dir behind.
      await unmountAllUnder(podDir(rootDir, uid));
      await rm(podDir(rootDir, uid), { recursive: true, force: true });
    },
  };
}

/**
 * The mounts of a container from its volumeMounts (kubelet_pods.go makeMounts): subPath joined and
 * created inside the volume, never leaving it.
 */
export async function containerMounts(container: Container, volumes: PodVolumes): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const base = volumes.get(vm.name);
    if (base === undefined) {
      throw new NodeletError('CreateContainerConfigError', `container ${container.name}: volume "${vm.name}" is not ready`);
    }
    let hostPath = base;
    if (vm.subPath) {
      hostPath = path.join(base, vm.subPath);
      if (path.relative(base, hostPath).startsWith('..')) {
        throw new NodeletError('CreateContainerConfigError', `container ${container.name}: subPath ${vm.subPath} leaves volume "${vm.name}"`);
      }
      await mkdir(hostPath, { recursive: true, mode: 0o755 }).catch(() => undefined);
    }
    out.push({
      containerPath: vm.mountPath,
      hostPath,
      readonly: vm.readOnly ?? false,
      propagation: vm.mountPropagation === 'Bidirectional' ? 'bidirectional' : vm.mountPropagation === 'HostToContainer' ? 'hostToContainer' : 'private',
    });
  }
  return out;
}

import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, release } from 'node:os';
import { versionInfo } from '../server/kubeapi/version.js';

/** What the Node object is built from: the node's facts, gathered once by the caller. */
export interface NodeFacts {
  nodeName: string;
  hostIP: string;
  maxPods: number;
  /** The node's memory in bytes: capacity.memory, and what containers' OOM scores are computed from. */
  memoryCapacityBytes: number;
  /** `containerd://1.6.20` or `process://<nodelet version>` (nodeInfo.containerRuntimeVersion). */
  containerRuntimeVersion: string;
  rootDir: string;
  /** The authenticated port (daemonEndpoints.kubeletEndpoint, where the API server sends logs and exec); 0 = none. */
  port: number;
}

/** One node condition (core/v1 NodeCondition). */
export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

/** The Go architecture name (GOARCH) of this machine, as the kubernetes.io/arch label has it. */
export function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/**
 * The Node this nodelet registers (kubelet_node_status.go initialNode and the setters of
 * pkg/kubelet/nodestatus): name, the well-known labels, addresses, capacity and allocatable from the
 * machine, nodeInfo. Status conditions are added by the caller at each heartbeat.
 */
export function initialNode(f: NodeFacts): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: f.nodeName,
      labels: {
        'kubernetes.io/hostname': f.nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goArch(),
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': goArch(),
      },
    },
    spec: {},
    status: nodeStatus(f, []),
  };
}

/** The Node's status: everything but the conditions' times is recomputed from the machine each time. */
export function nodeStatus(f: NodeFacts, conditions: NodeCondition[]): Record<string, unknown> {
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(f.memoryCapacityBytes / 1024)}Ki`,
    pods: String(f.maxPods),
    'ephemeral-storage': `${Math.floor(diskBytes(f.rootDir) / 1024)}Ki`,
  };
  return {
    capacity,
    // No system or kube reservations are configured: allocatable is the capacity.
    allocatable: { ...capacity },
    conditions,
    addresses: [
      { type: 'InternalIP', address: f.hostIP },
      { type: 'Hostname', address: f.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: f.port } },
    nodeInfo: {
      machineID: readTrimmed('/etc/machine-id'),
      systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid'),
      bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
      kernelVersion: release(),
      osImage: osImage(),
      containerRuntimeVersion: f.containerRuntimeVersion,
      kubeletVersion: versionInfo().gitVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: goArch(),
    },
  };
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** PRETTY_NAME of /etc/os-release, as the kubelet reports osImage. */
function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readTrimmed('/etc/os-release'));
  return m?.[1] ?? 'Linux';
}

function diskBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.blocks * s.bsize;
  } catch {
    return 0;
  }
}

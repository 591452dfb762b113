import { KUBELET_CONFIG_API_VERSION, KUBELET_CONFIG_KIND } from './config-file.js';
import { formatDuration } from './duration.js';
import { formatQuantity } from './quantity.js';
import type { NodeletConfig } from './types.js';

/**
 * The configuration in the kubelet's v1beta1 KubeletConfiguration shape, for `/configz` (which wraps
 * it as `{"kubeletconfig": …}`, as the kubelet does). Only fields nodelet has are included;
 * durations and sizes are written as the kubelet writes them (`"1m0s"`, `"10Mi"`), and `omitempty`
 * fields are left out when empty. Flag-only settings (rootDir, nodeName, kubeconfig) are not part of
 * a KubeletConfiguration and are not included.
 */
export function toKubeletConfiguration(config: NodeletConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: KUBELET_CONFIG_KIND, apiVersion: KUBELET_CONFIG_API_VERSION };
  if (config.staticPodPath !== '') out.staticPodPath = config.staticPodPath;
  out.podLogsDir = config.podLogsDir;
  out.syncFrequency = formatDuration(config.syncFrequencyMs);
  out.fileCheckFrequency = formatDuration(config.fileCheckFrequencyMs);
  out.httpCheckFrequency = formatDuration(config.httpCheckFrequencyMs);
  out.nodeStatusUpdateFrequency = formatDuration(config.nodeStatusUpdateFrequencyMs);
  out.nodeLeaseDurationSeconds = config.nodeLeaseDurationSeconds;
  if (config.staticPodURL !== '') out.staticPodURL = config.staticPodURL;
  if (Object.keys(config.staticPodURLHeader).length > 0) {
    out.staticPodURLHeader = Object.fromEntries(
      Object.entries(config.staticPodURLHeader).map(([name, values]) => [name, [...values]]),
    );
  }
  out.address = config.address;
  out.readOnlyPort = config.readOnlyPort;
  out.port = config.port;
  if (config.tlsCertFile !== '') out.tlsCertFile = config.tlsCertFile;
  if (config.tlsPrivateKeyFile !== '') out.tlsPrivateKeyFile = config.tlsPrivateKeyFile;
  out.tlsMinVersion = config.tlsMinVersion;
  // The parts of `authentication` nodelet has. No `webhook` and no `authorization` (nodelet never asks
  // an API server, and authorizes every authenticated user): written, they would be fields a config
  // file made from this output warns about. The token file is nodelet's own, not the kubelet's.
  out.authentication = {
    x509: config.clientCAFile !== '' ? { clientCAFile: config.clientCAFile } : {},
    anonymous: { enabled: config.anonymousAuth },
  };
  out.maxPods = config.maxPods;
  out.containerLogMaxSize = formatQuantity(config.containerLogMaxSizeBytes);
  out.containerLogMaxFiles = config.containerLogMaxFiles;
  out.logging = { format: config.loggingFormat, verbosity: config.verbosity };
  // Not omitempty in v1beta1: the kubelet always writes it.
  out.containerRuntimeEndpoint = config.containerRuntimeEndpoint;
  if (config.cgroupRoot !== '') out.cgroupRoot = config.cgroupRoot;
  // A defaulted *bool in v1beta1 (true): always written.
  out.cpuCFSQuota = config.cpuCFSQuota;
  // A defaulted *int32 in v1beta1 (-999): always written.
  out.oomScoreAdj = config.oomScoreAdj;
  return out;
}

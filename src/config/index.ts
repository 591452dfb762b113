/**
 * Configuration of nodelet: the kubelet-compatible command line of `nodelet run` and an optional
 * KubeletConfiguration file, parsed once into one frozen {@link LoadedConfig}.
 */
export { loadConfig, type ConfigEnv } from './load-config.js';
export { describeConfig, formatOrigin } from './describe-config.js';
export { toKubeletConfiguration } from './kubelet-configuration.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseQuantity, formatQuantity } from './quantity.js';
export { RUN_FLAGS, runFlagHelp, flagArg, flagDefault, type RunFlag } from './flags.js';
export { IGNORED_KUBELET_FLAGS, type IgnoredFlag } from './kubelet-flags.js';
export type { LoadedConfig, NodeletConfig, ValueOrigin } from './types.js';

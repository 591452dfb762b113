// Container logs in the kubelet/CRI format, independent of the runtime that produces the output:
// the file layout (paths.ts), the line format (cri-format.ts), writing (cri-log-writer.ts), size-based
// rotation (log-rotator.ts) and reading as `kubectl logs` (log-reader.ts).

export {
  type CriLogLine,
  type LogStream,
  DEFAULT_MAX_LINE_BYTES,
  formatRfc3339Nano,
  formatRfc3339NanoFixed,
  parseCriLogLine,
} from './cri-format.js';
export { type CriLogWriter, type CriLogWriterOptions, LOG_WRITER_CLOSED, createCriLogWriter } from './cri-log-writer.js';
export { type LogRotator, type LogRotatorOptions, type RotatableLog, createLogRotator } from './log-rotator.js';
export { type ReadContainerLogOptions, readContainerLog } from './log-reader.js';
export {
  INVALID_LOG_PATH,
  containerLogDir,
  containerLogPath,
  listContainerLogFiles,
  podLogDir,
  removePodLogs,
} from './paths.js';

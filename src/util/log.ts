import { pino, type Logger } from 'pino';

export type { Logger };

/** Options of {@link createLogger}: the kubelet's `--logging-format` and `-v` verbosity. */
export interface LogOptions {
  format: 'text' | 'json';
  /** klog verbosity: 0–1 info, 2–3 debug, 4+ trace. */
  verbosity: number;
  destination?: NodeJS.WritableStream;
}

/**
 * The process logger. Messages are constant strings and data goes in fields (as klog's InfoS),
 * with fixed keys: `pod`, `podUID`, `container`, `source`. Written synchronously to stderr: no worker
 * transports in the daemon.
 */
export function createLogger(opts: LogOptions): Logger {
  const level = opts.verbosity >= 4 ? 'trace' : opts.verbosity >= 2 ? 'debug' : 'info';
  const dest = opts.destination ?? process.stderr;
  if (opts.format === 'json') {
    return pino({ level, base: undefined }, dest as pino.DestinationStream);
  }
  return pino(
    { level, base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => dest.write(formatText(line)) },
  );
}

/** Renders a pino JSON line as `I1125 15:04:05.000 message key=value …`, klog's text shape. */
function formatText(line: string): string {
  const rec = JSON.parse(line) as Record<string, unknown>;
  const { level, msg, time: _t, ...fields } = rec;
  const now = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const letter = level === 'error' || level === 'fatal' ? 'E' : level === 'warn' ? 'W' : 'I';
  const stamp = `${letter}${pad(now.getMonth() + 1)}${pad(now.getDate())} ${pad(now.getHours())}:${pad(
    now.getMinutes(),
  )}:${pad(now.getSeconds())}.${pad(now.getMilliseconds(), 3)}`;
  const kv = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${stamp} ${String(msg ?? '')}${kv ? ' ' + kv : ''}\n`;
}

/** A logger that discards everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

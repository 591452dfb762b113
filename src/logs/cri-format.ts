// The CRI container log line format, as written by containerd's CRI logger
// (containerd internal/cri/io/logger.go) and read by the kubelet (pkg/kubelet/kuberuntime/logs/logs.go):
//
//   <RFC3339Nano timestamp> <stdout|stderr> <F|P>[:<more tags>] <text>\n
//
// `P` marks a chunk of a longer line that continues in the next `P`/`F` record of the same stream.

/** The two output streams of a container. */
export type LogStream = 'stdout' | 'stderr';

/** One parsed CRI log line; `text` excludes the line's terminating newline. */
export interface CriLogLine {
  /** The timestamp exactly as written (RFC3339Nano, any zone offset). */
  time: string;
  stream: LogStream;
  /** True for a `P` record: the line continues in the next record of this stream. */
  partial: boolean;
  text: string;
}

/** The same as {@link CriLogLine} with the text left as bytes, so that chunks split mid-character join intact. */
export interface CriLogRecord {
  time: string;
  stream: LogStream;
  partial: boolean;
  text: Buffer;
}

/** containerd's default `max_container_log_line_size` (16 KiB): longer lines are split into `P` records. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

// Go's RFC3339Nano read leniently (kubelet's timeFormatIn is RFC3339NanoLenient): the fraction may have
// 1–9 digits or be absent, the zone is `Z` or `±hh:mm` (containerd formats time.Now() in local time).
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch milliseconds (floor) of an RFC3339Nano timestamp, or `undefined` when it is not one. Rejects
 * out-of-range fields as Go's time.Parse does (month 13, 31 February, hour 24, …).
 */
export function criTimeToEpochMs(time: string): number | undefined {
  const m = TIME_RE.exec(time);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m as unknown as string[];
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCDate() !== d) return undefined; // 31 February rolled over into March
  let ms = date.getTime() + ((h * 60 + mi) * 60 + s) * 1000;
  if (frac) ms += Number(frac.padEnd(3, '0').slice(0, 3));
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    ms -= sign * (zh * 60 + zm) * 60_000;
  }
  return ms;
}

/** True when `time` is a valid RFC3339Nano timestamp. */
export function isCriTime(time: string): boolean {
  return criTimeToEpochMs(time) !== undefined;
}

let cachedSecond = -1n;
let cachedPrefix = '';

/**
 * Formats epoch nanoseconds in UTC as Go's time.RFC3339Nano does (containerd's timestampFormat): the
 * fraction has its trailing zeros trimmed and disappears entirely when zero, e.g.
 * `2026-11-25T15:04:05.1234Z`, `2026-11-25T15:04:05Z`.
 */
export function formatRfc3339Nano(epochNs: bigint): string {
  const sec = epochNs / 1_000_000_000n;
  const frac = epochNs % 1_000_000_000n;
  // The date part changes once a second while a busy container writes thousands of lines: cache it.
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  }
  if (frac === 0n) return `${cachedPrefix}Z`;
  return `${cachedPrefix}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/**
 * Rewrites an RFC3339Nano timestamp with exactly nine fraction digits, keeping its zone, as the kubelet
 * prints `kubectl logs --timestamps` (types.RFC3339NanoFixed in pkg/kubelet/kuberuntime/logs/logs.go).
 * Returns the input unchanged when it is not a timestamp.
 */
export function formatRfc3339NanoFixed(time: string): string {
  if (!validTime(time)) return time;
  const dot = time.indexOf('.', 19);
  if (dot === -1) {
    // No fraction: insert one before the zone (`Z` or `±hh:mm`, which starts at index 19).
    return `${time.slice(0, 19)}.000000000${time.slice(19)}`;
  }
  let end = dot + 1;
  while (end < time.length && time.charCodeAt(end) >= 48 && time.charCodeAt(end) <= 57) end++;
  return `${time.slice(0, dot + 1)}${time.slice(dot + 1, end).padEnd(9, '0')}${time.slice(end)}`;
}

/** The header of a record, up to and including the space before the text. */
export function criHeader(time: string, stream: LogStream, partial: boolean): string {
  return `${time} ${stream} ${partial ? 'P' : 'F'} `;
}

/** Formats one record; `text` must not contain a newline. */
export function formatCriLogLine(line: CriLogLine): string {
  return `${criHeader(line.time, line.stream, line.partial)}${line.text}\n`;
}

// The last timestamp that passed validation: a busy stream repeats the same one over many lines.
let lastValidTime = '';

function validTime(time: string): boolean {
  if (time === lastValidTime) return true;
  if (!isCriTime(time)) return false;
  lastValidTime = time;
  return true;
}

/**
 * Parses one CRI log line (with or without its trailing newline); `undefined` when it is malformed.
 * Mirrors parseCRILog in pkg/kubelet/kuberuntime/logs/logs.go: the tag field may carry more
 * `:`-separated tags (forward compatibility) and only a first tag of `P` means partial.
 */
export function parseCriLogLine(line: string): CriLogLine | undefined {
  const end = line.endsWith('\n') ? line.length - 1 : line.length;
  const sp1 = line.indexOf(' ');
  if (sp1 < 0 || sp1 >= end) return undefined;
  const time = line.slice(0, sp1);
  if (!validTime(time)) return undefined;
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= end) return undefined;
  const stream = line.slice(sp1 + 1, sp2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const sp3 = line.indexOf(' ', sp2 + 1);
  if (sp3 < 0 || sp3 >= end) return undefined;
  const tags = line.slice(sp2 + 1, sp3);
  const colon = tags.indexOf(':');
  const partial = (colon < 0 ? tags : tags.slice(0, colon)) === 'P';
  return { time, stream, partial, text: line.slice(sp3 + 1, end) };
}

/**
 * Parses one CRI log line given as bytes without its trailing newline; `undefined` when malformed. The
 * text stays a view into `line`: the reader joins `P` chunks as bytes, because containerd splits long
 * lines at a byte count, possibly inside a UTF-8 sequence.
 */
export function parseCriLogRecord(line: Buffer): CriLogRecord | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const time = line.toString('latin1', 0, sp1);
  if (!validTime(time)) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  let stream: LogStream;
  if (sp2 - sp1 !== 7) return undefined;
  const name = line.toString('latin1', sp1 + 1, sp2);
  if (name === 'stdout' || name === 'stderr') stream = name;
  else return undefined;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  if (sp3 < 0) return undefined;
  // First tag is `P` iff the field is exactly `P` or starts with `P:`.
  const partial = line[sp2 + 1] === 0x50 && (sp3 === sp2 + 2 || line[sp2 + 2] === 0x3a);
  return { time, stream, partial, text: line.subarray(sp3 + 1) };
}

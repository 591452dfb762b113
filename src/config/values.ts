import { isIP } from 'node:net';
import path from 'node:path';
import { formatDuration, parseDuration } from './duration.js';
import { invalidConfig } from './invalid.js';
import { formatQuantity, parseQuantity } from './quantity.js';

/**
 * How one kind of value is read from a flag (a string) and from a KubeletConfiguration file (a
 * decoded JSON value), validated, and shown back. Parsers throw a bare reason
 * (`invalid duration "-5s": must not be negative`); the caller prefixes the flag or file and field.
 */
export interface ValueKind<T> {
  /** The argument name in `--help` (`duration`, `int`, `path`…). */
  readonly arg: string;
  /** Reads a flag value; `baseDir` is the working directory (relative flag paths). */
  fromFlag(raw: string, baseDir: string): T;
  /** Reads a decoded file value; `baseDir` is the file's directory (relative paths in a file). */
  fromFile(value: unknown, baseDir: string): T;
  /** The value as `nodelet config` and /configz show it. */
  format(value: T): string;
}

const fail = (reason: string) => invalidConfig(reason);

function describeJSON(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function requireString(value: unknown, what = 'a string'): string {
  if (typeof value !== 'string') throw fail(`must be ${what}, got ${describeJSON(value)}`);
  return value;
}

/** A filesystem path, made absolute against `baseDir`; '' means "none" where `allowEmpty`. */
export function pathKind(opts: { allowEmpty: boolean }): ValueKind<string> {
  const read = (raw: string, baseDir: string) => {
    if (raw === '') {
      if (opts.allowEmpty) return '';
      throw fail('must not be empty');
    }
    // Absolute at parse time, so nothing downstream depends on the process's working directory.
    return path.resolve(baseDir, raw);
  };
  return {
    arg: 'path',
    fromFlag: read,
    fromFile: (v, baseDir) => read(requireString(v), baseDir),
    format: (v) => JSON.stringify(v),
  };
}

/** A free-form string, kept as given (endpoints such as `unix:///run/containerd/containerd.sock`). */
export const stringKind: ValueKind<string> = {
  arg: 'string',
  fromFlag: (raw) => raw,
  fromFile: (v) => requireString(v),
  format: (v) => JSON.stringify(v),
};

/** An http(s) URL, or '' for none. Checked now so a typo fails at start-up, not at the first poll. */
export const urlKind: ValueKind<string> = {
  arg: 'url',
  fromFlag: (raw) => checkURL(raw),
  fromFile: (v) => checkURL(requireString(v)),
  format: (v) => JSON.stringify(v),
};

function checkURL(raw: string): string {
  if (raw === '') return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(`invalid URL ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(`invalid URL ${JSON.stringify(raw)}: must be http or https`);
  }
  return raw;
}

/**
 * A Go duration in milliseconds, strictly positive: every duration here is a period or a backoff,
 * and a zero period would be a busy loop (the kubelet does not check; we do).
 */
export const durationKind: ValueKind<number> = {
  arg: 'duration',
  fromFlag: (raw) => positiveDuration(raw),
  fromFile: (v) => positiveDuration(requireString(v, 'a duration string such as "20s"')),
  format: formatDuration,
};

function positiveDuration(raw: string): number {
  const ms = parseDuration(raw);
  if (ms <= 0) throw fail(`invalid duration ${JSON.stringify(raw)}: must be greater than 0`);
  return ms;
}

/** The largest int32: the kubelet's integer fields are int32. */
export const INT32_MAX = 2 ** 31 - 1;

/** An integer in [min, max]. Flags take decimal digits only (no Go `0x`/octal forms). */
export function intKind(min: number, max: number, arg = 'int'): ValueKind<number> {
  const rule =
    max !== INT32_MAX ? `be between ${min} and ${max}` : min === 0 ? 'not be negative' : `be at least ${min}`;
  const check = (n: number, shown: string) => {
    if (n < min || n > max) {
      throw fail(`invalid value ${shown}: must ${n > max && max === INT32_MAX ? `be at most ${max}` : rule}`);
    }
    return n;
  };
  return {
    arg,
    fromFlag(raw) {
      if (!/^[+-]?\d+$/.test(raw)) throw fail(`invalid value ${JSON.stringify(raw)}: must be an integer`);
      return check(Number(raw), JSON.stringify(raw));
    },
    fromFile(v) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(`must be an integer, got ${describeJSON(v)}`);
      return check(v, String(v));
    },
    format: (v) => String(v),
  };
}

/** A byte size written as a Kubernetes quantity ("10Mi"), strictly positive. */
export const quantityKind: ValueKind<number> = {
  arg: 'quantity',
  fromFlag: (raw) => positiveQuantity(raw),
  fromFile: (v) => positiveQuantity(requireString(v, 'a quantity string such as "10Mi"')),
  format: formatQuantity,
};

function positiveQuantity(raw: string): number {
  const bytes = parseQuantity(raw);
  if (bytes <= 0) throw fail(`invalid quantity ${JSON.stringify(raw)}: must be greater than 0`);
  return bytes;
}

/** An IPv4 or IPv6 address (the kubelet's `--address` is an IP, never a host name). */
export const ipKind: ValueKind<string> = {
  arg: 'ip',
  fromFlag: (raw) => checkIP(raw),
  fromFile: (v) => checkIP(requireString(v)),
  format: (v) => v,
};

function checkIP(raw: string): string {
  if (isIP(raw) === 0) throw fail(`invalid IP address ${JSON.stringify(raw)}`);
  return raw;
}

/** `--logging-format`: text or json, the two formats the kubelet knows without alpha gates. */
export const loggingFormatKind: ValueKind<'text' | 'json'> = {
  arg: 'format',
  fromFlag: (raw) => checkFormat(raw),
  fromFile: (v) => checkFormat(requireString(v)),
  format: (v) => v,
};

/**
 * `--tls-min-version`: VersionTLS12 or VersionTLS13, the kubelet's spelling. TLS 1.0 and 1.1 are
 * refused: deprecated (RFC 8996), and node's OpenSSL 3 does not negotiate them at its default
 * security level anyway.
 */
export const tlsVersionKind: ValueKind<'VersionTLS12' | 'VersionTLS13'> = {
  arg: 'version',
  fromFlag: (raw) => checkTLSVersion(raw),
  fromFile: (v) => checkTLSVersion(requireString(v)),
  format: (v) => v,
};

function checkTLSVersion(raw: string): 'VersionTLS12' | 'VersionTLS13' {
  if (raw === 'VersionTLS12' || raw === 'VersionTLS13') return raw;
  if (raw === 'VersionTLS10' || raw === 'VersionTLS11') throw fail(`${raw} is not supported: must be VersionTLS12 or VersionTLS13`);
  throw fail(`invalid value ${JSON.stringify(raw)}: must be VersionTLS12 or VersionTLS13`);
}

/** `--process-isolation`: auto, bwrap or none. */
export const processIsolationKind: ValueKind<'auto' | 'bwrap' | 'none'> = {
  arg: 'mode',
  fromFlag: (raw) => checkIsolation(raw),
  fromFile: (v) => checkIsolation(requireString(v)),
  format: (v) => v,
};

/**
 * A cgroup path as the cgroupfs driver writes it (`/`, `/nodelet.slice/pods`): absolute, without `.`
 * or `..`; '' = none (the root of each hierarchy). Kept normalised, without a trailing slash.
 */
export const cgroupPathKind: ValueKind<string> = {
  arg: 'cgroup',
  fromFlag: (raw) => checkCgroupPath(raw),
  fromFile: (v) => checkCgroupPath(requireString(v)),
  format: (v) => JSON.stringify(v),
};

function checkCgroupPath(raw: string): string {
  if (raw === '') return '';
  const parts = raw.split('/').filter(Boolean);
  if (!raw.startsWith('/') || parts.some((p) => p === '.' || p === '..')) {
    throw fail(`invalid cgroup ${JSON.stringify(raw)}: must be an absolute cgroup path such as /nodelet.slice, without . or ..`);
  }
  return `/${parts.join('/')}`;
}

function checkIsolation(raw: string): 'auto' | 'bwrap' | 'none' {
  if (raw === 'auto' || raw === 'bwrap' || raw === 'none') return raw;
  throw fail(`invalid value ${JSON.stringify(raw)}: must be auto, bwrap or none`);
}

function checkFormat(raw: string): 'text' | 'json' {
  if (raw === 'text' || raw === 'json') return raw;
  throw fail(`invalid value ${JSON.stringify(raw)}: must be text or json`);
}

// RFC 7230 token: what Node's http client accepts as a header name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * HTTP headers name → values. A flag value is the kubelet's ColonSeparatedMultimapStringString:
 * `a:x,b:y`, comma-separated `name:value` pairs, split on the first colon, both sides trimmed,
 * values of a repeated name appended. In a file it is a map of lists of strings.
 */
export const headersKind: ValueKind<Record<string, string[]>> = {
  arg: 'name:value,...',
  fromFlag(raw) {
    const headers = new Map<string, string[]>();
    for (const pair of raw.split(',')) {
      if (pair === '') continue;
      const colon = pair.indexOf(':');
      if (colon < 0) throw fail(`malformed pair ${JSON.stringify(pair)}: expected name:value`);
      addHeader(headers, pair.slice(0, colon).trim(), [pair.slice(colon + 1).trim()]);
    }
    return Object.fromEntries(headers);
  },
  fromFile(v) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw fail(`must be a map of header name to list of values, got ${describeJSON(v)}`);
    }
    const headers = new Map<string, string[]>();
    for (const [name, values] of Object.entries(v)) {
      if (!Array.isArray(values) || !values.every((x) => typeof x === 'string')) {
        throw fail(`header ${JSON.stringify(name)}: must be a list of strings, got ${describeJSON(values)}`);
      }
      addHeader(headers, name, values as string[]);
    }
    return Object.fromEntries(headers);
  },
  format: (v) =>
    Object.keys(v).length === 0
      ? '{}'
      : Object.entries(v)
          .map(([name, values]) => `${name}: ${values.join(', ')}`)
          .join('; '),
};

// A Map, then Object.fromEntries: a header named `__proto__` or `constructor` stays a plain entry.
function addHeader(headers: Map<string, string[]>, name: string, values: string[]): void {
  if (!HEADER_NAME.test(name)) throw fail(`invalid header name ${JSON.stringify(name)}`);
  headers.set(name, [...(headers.get(name) ?? []), ...values]);
}

/** Appends the values of `more` to those of `headers`, name by name (repeated header flags). */
export function appendHeaders(
  headers: Readonly<Record<string, string[]>>,
  more: Readonly<Record<string, string[]>>,
): Record<string, string[]> {
  const merged = new Map(Object.entries(headers));
  for (const [name, values] of Object.entries(more)) merged.set(name, [...(merged.get(name) ?? []), ...values]);
  return Object.fromEntries(merged);
}

// RFC 1123 subdomain, as the API server requires of a node name (and of `<pod>-<node>` names).
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The node name as the kubelet's nodeutil.GetHostname makes it: trimmed and lowercased. We also
 * require an RFC 1123 subdomain, because every static pod is named `<name>-<node>` and would
 * otherwise fail validation one by one.
 */
export function normalizeNodeName(raw: string): string {
  const name = raw.trim().toLowerCase();
  if (name === '') throw fail('empty node name is invalid');
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw fail(
      `invalid node name ${JSON.stringify(name)}: must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
    );
  }
  return name;
}

/** `--hostname-override`: '' means "use the machine's hostname" (resolved by loadConfig). */
export const nodeNameKind: ValueKind<string> = {
  arg: 'string',
  fromFlag: (raw) => (raw.trim() === '' ? '' : normalizeNodeName(raw)),
  fromFile: () => {
    throw fail('is a flag only');
  },
  format: (v) => v,
};

/** pflag's strconv.ParseBool spellings. */
export function parseBool(raw: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false;
  throw fail(`invalid value ${JSON.stringify(raw)}: must be true or false`);
}

/** A boolean: `--flag`, `--flag=false`, or true/false in a file. */
export const boolKind: ValueKind<boolean> = {
  arg: 'bool',
  fromFlag: (raw) => parseBool(raw),
  fromFile: (v) => {
    if (typeof v !== 'boolean') throw fail(`must be true or false, got ${describeJSON(v)}`);
    return v;
  },
  format: (v) => String(v),
};

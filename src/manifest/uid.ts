// The static pod UID. The kubelet (pkg/kubelet/config/common.go applyDefaults) hashes the decoded
// pod, then `host:<node>` and `file:<path>` (or `url:<url>`), and uses the hex digest as UID and
// `kubernetes.io/config.hash`. Any content change is therefore a new UID: a new pod. We hash a
// canonical JSON rendering instead of Go's struct dump, so the UID does not depend on key order,
// whitespace or YAML-vs-JSON; byte-identical UIDs with the kubelet are not a goal (DESIGN §3).

import { createHash } from 'node:crypto';
import type { Pod } from '../api/types.js';

// The kubelet's UIDs are 32 hex digits (an md5); keep the same shape with a stronger hash.
const UID_HEX_LENGTH = 32;

/**
 * The canonical JSON of a value: object keys sorted (by UTF-16 code units), no whitespace, members
 * that are `undefined` dropped, everything else as `JSON.stringify` renders it. Two values that are
 * equal as JSON data have the same canonical JSON.
 */
export function canonicalJSON(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, out: string[]): void {
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    out.push('null');
  } else if (typeof value === 'bigint') {
    out.push(value.toString());
  } else if (typeof value !== 'object') {
    out.push(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((v, i) => {
      if (i > 0) out.push(',');
      write(v, out);
    });
    out.push(']');
  } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    write((value as { toJSON: () => unknown }).toJSON(), out);
  } else {
    out.push('{');
    let first = true;
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write(v, out);
    }
    out.push('}');
  }
}

/**
 * The UID of a static pod: 32 hex digits of SHA-256 over the canonical JSON of the pod *as given*
 * (before defaulting), `host:<nodeName>`, and `file:<origin>` or, for the http source, `url:<origin>`.
 */
export function staticPodUID(pod: Pod, nodeName: string, source: 'file' | 'http', origin: string): string {
  const h = createHash('sha256');
  h.update(canonicalJSON(pod));
  h.update(`\nhost:${nodeName}`);
  h.update(source === 'http' ? `\nurl:${origin}` : `\nfile:${origin}`);
  return h.digest('hex').slice(0, UID_HEX_LENGTH);
}

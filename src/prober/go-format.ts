/**
 * Go-style formatting for the texts users see in events: the kubelet's probe and hook messages are
 * built with Go's fmt, and people grep for them, so we reproduce the shapes.
 */
import type { Pod } from '../api/types.js';

/** The Kubernetes minor version we claim in User-Agent headers (`kube-probe/1.30`). */
export const KUBE_VERSION = '1.30';

/** Go's time.Duration String for whole milliseconds: `500ms`, `1s`, `1.5s`, `1m0s`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/** Go's %q for a string (close enough: JSON escaping is what users recognise). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's %v of a []string: `[sh -c exit 1]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** pkg/kubelet/util/format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: Pod): string {
  const m = pod.metadata ?? {};
  return `${m.name ?? ''}_${m.namespace ?? 'default'}(${m.uid ?? ''})`;
}

/** net.JoinHostPort: IPv6 literals in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

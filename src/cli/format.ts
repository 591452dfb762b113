import { stringify } from 'yaml';
import { NodeletError } from '../errors.js';
import { timestampSince } from '../server/kubeapi/human-duration.js';

/**
 * Renders rows as left-aligned columns three spaces apart, the last column unpadded: kubectl's
 * tabwriter settings (padding 3, staging/src/k8s.io/cli-runtime/pkg/printers/tabwriter.go) and docker ps's.
 */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** kubectl's age of a timestamp (45s, 3m20s, 5h, 4d): apimachinery's HumanDuration; `-` without one. */
export function age(fromIso: string | undefined, now: number): string {
  return fromIso ? timestampSince(fromIso, now) : '-';
}

/** An `-o` format for machine-readable output. */
export type OutputFormat = 'json' | 'yaml';

/** Checks an `-o` value against the formats a command offers. */
export function outputFormat<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new NodeletError('BadRequest', `unable to match a printer suitable for the output format "${value}", allowed formats are: ${allowed.join(',')}`);
  }
  return value as T;
}

/** An object as kubectl prints it with `-o json` (indented by four, as kubectl does) or `-o yaml`. */
export function printObject(obj: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(obj, null, 4)}\n` : stringify(obj, { lineWidth: 0 });
}

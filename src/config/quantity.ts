import { parseQuantity as parseKubeQuantity } from '../manifest/quantity.js';
import { invalidConfig } from './invalid.js';

// Binary SI suffixes, for formatting byte counts back the way users write them.
const BINARY: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };

/**
 * Parses a Kubernetes quantity ("10Mi", "1Gi", "100Ki", "1.5M", "1e3", "1000") into a whole number
 * of bytes, rounding a fraction up as `Quantity.Value()` does. The grammar is the manifest parser's
 * (one quantity grammar in the project). Throws a NodeletError (InvalidConfig) on a malformed,
 * negative or unsafe-integer-sized quantity.
 */
export function parseQuantity(s: string): number {
  const bad = (why: string) => invalidConfig(`invalid quantity ${JSON.stringify(s)}: ${why}`);
  const q = parseKubeQuantity(s);
  if (!q) throw bad('expected a number with an optional suffix such as Ki, Mi, Gi, k, M or G');
  if (q.num < 0n) throw bad('must not be negative');
  const bytes = (q.num + q.den - 1n) / q.den;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('too large');
  return Number(bytes);
}

/** Formats bytes as the shortest exact quantity: "10Mi", "1Gi", "1500" (for /configz and `nodelet config`). */
export function formatQuantity(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [suffix, power] of Object.entries(BINARY).reverse()) {
    const unit = 1024 ** power;
    if (bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

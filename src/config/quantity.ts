import { invalidConfig } from './invalid.js';

// Suffixes of a Kubernetes resource.Quantity (apimachinery/pkg/api/resource/quantity.go):
// binary SI (powers of 1024) and decimal SI (powers of 10).
const BINARY: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)$/;

/**
 * Parses a Kubernetes quantity ("10Mi", "1Gi", "100Ki", "1.5M", "1e3", "1000") into a whole number
 * of bytes, rounding a fraction up as `Quantity.Value()` does. Throws a NodeletError
 * (InvalidConfig) on a malformed, negative or unsafe-integer-sized quantity.
 */
export function parseQuantity(s: string): number {
  const bad = (why: string) => invalidConfig(`invalid quantity ${JSON.stringify(s)}: ${why}`);
  const m = QUANTITY.exec(s);
  if (!m) throw bad('expected a number with an optional suffix such as Ki, Mi, Gi, k, M or G');
  const [, sign, number, suffix] = m as unknown as [string, string, string, string];
  // Exact arithmetic: mantissa / 10^scale, then times the suffix, rounded up (no float drift:
  // "0.3k" must be 300 bytes, not 301).
  const [intPart = '', fracPart = ''] = number.split('.');
  let numerator = BigInt(`${intPart}${fracPart}` || '0');
  let denominator = 10n ** BigInt(fracPart.length);
  const binary = BINARY[suffix];
  if (binary !== undefined) {
    numerator *= 1024n ** BigInt(binary);
  } else {
    const exponent = DECIMAL[suffix] ?? Number(suffix.slice(1));
    if (Math.abs(exponent) > 100) throw bad('exponent out of range');
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  if (sign === '-' && numerator > 0n) throw bad('must not be negative');
  const bytes = (numerator + denominator - 1n) / denominator;
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

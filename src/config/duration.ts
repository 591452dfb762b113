import { invalidConfig } from './invalid.js';

// Go's time.ParseDuration units, in nanoseconds (time/format.go unitMap). Both spellings of micro
// are accepted, as in Go: U+00B5 (micro sign) and U+03BC (Greek mu).
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

// A Go time.Duration is an int64 of nanoseconds; beyond this Go reports an overflow.
const MAX_NS = (1n << 63n) - 1n;
const NS_PER_MS = 1_000_000n;

/**
 * Parses a Go duration ("20s", "1m30s", "1h", "500ms", "1.5s", "0") into milliseconds, exactly as
 * Go's `time.ParseDuration` reads it (kubelet flags and metav1.Duration fields both use it).
 * Sub-millisecond parts give a fractional result. Throws a NodeletError (InvalidConfig) on a
 * negative duration or anything Go would reject.
 */
export function parseDuration(s: string): number {
  const bad = (why?: string) =>
    invalidConfig(`invalid duration ${JSON.stringify(s)}${why ? `: ${why}` : ''}`);
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  // Go: "0" (after the sign) is the only number allowed without a unit.
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let totalNs = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole, intDigits = '', fracDigits] = m;
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) throw bad();
    rest = rest.slice(whole.length);
    const unitMatch = /^[^\d.]*/.exec(rest)!;
    const unit = unitMatch[0];
    rest = rest.slice(unit.length);
    if (unit === '') throw bad(`missing unit (for example "${intDigits || '0'}s")`);
    const unitNs = UNIT_NS[unit];
    if (unitNs === undefined) throw bad(`unknown unit ${JSON.stringify(unit)} (use ns, us, ms, s, m or h)`);
    let ns = BigInt(intDigits || '0') * unitNs;
    if (fracDigits) {
      // Go truncates the fractional part to whole nanoseconds; so do we, but without floats.
      ns += (BigInt(fracDigits) * unitNs) / 10n ** BigInt(fracDigits.length);
    }
    totalNs += ns;
    if (totalNs > MAX_NS) throw bad('overflows a Go duration');
  }
  if (negative && totalNs > 0n) throw bad('must not be negative');
  // Whole milliseconds stay exact far beyond 2^53 ns; only the sub-millisecond rest is a float.
  return Number(totalNs / NS_PER_MS) + Number(totalNs % NS_PER_MS) / 1e6;
}

/**
 * Formats milliseconds as Go's `time.Duration.String()` does ("20s", "1m0s", "1h0m0s", "500ms",
 * "1.5s", "0s"): the form the kubelet writes in /configz and in its flag help.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite duration: ${ms}`);
  const nsTotal = Number.isInteger(ms) ? BigInt(ms) * NS_PER_MS : BigInt(Math.round(ms * 1e6));
  const negative = nsTotal < 0n;
  let u = negative ? -nsTotal : nsTotal;
  const sign = negative ? '-' : '';
  if (u === 0n) return '0s';
  if (u < 1_000_000_000n) {
    // Below one second Go switches to the largest unit that keeps an integer part: ns, µs or ms.
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${fraction(u, 3)}µs`;
    return `${sign}${fraction(u, 6)}ms`;
  }
  const seconds = fraction(u % 60_000_000_000n, 9);
  u /= 60_000_000_000n;
  if (u === 0n) return `${sign}${seconds}s`;
  const minutes = u % 60n;
  const hours = u / 60n;
  return hours === 0n ? `${sign}${minutes}m${seconds}s` : `${sign}${hours}h${minutes}m${seconds}s`;
}

// Go's fmtFrac + fmtInt: `v` with `prec` implied decimals, trailing zeros (and a bare point) dropped.
function fraction(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const int = v / scale;
  const frac = (v % scale).toString().padStart(prec, '0').replace(/0+$/, '');
  return frac === '' ? `${int}` : `${int}.${frac}`;
}

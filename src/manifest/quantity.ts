// A Kubernetes resource.Quantity parser, enough to validate manifests and compare requests with
// limits exactly (k8s.io/apimachinery/pkg/api/resource/quantity.go). Values are kept as exact
// fractions of bigints, so `0.1` and `100m` compare equal and nothing is lost to floating point.

/** A parsed Kubernetes quantity: the exact value `num / den` (den > 0) and the text it came from. */
export interface Quantity {
  readonly num: bigint;
  readonly den: bigint;
  /** The text as written in the manifest (numbers are rendered with `String`). */
  readonly text: string;
}

/** The apimachinery message for text that is not a quantity. */
export const QUANTITY_SYNTAX_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

// Longer than any sane quantity; a bound keeps a hostile 10 MB digit string from costing
// quadratic bigint work.
const MAX_QUANTITY_TEXT = 256;
// Bigger exponents are legal for apimachinery (inf.Dec), but 10^400 is already far beyond any real
// resource amount and the bound keeps bigint powers cheap.
const MAX_EXPONENT = 400;

const decimalSI = new Map<string, number>([
  ['n', -9], ['u', -6], ['m', -3], ['', 0], ['k', 3], ['M', 6], ['G', 9], ['T', 12], ['P', 15], ['E', 18],
]);
const binarySI = new Map<string, number>([['Ki', 10], ['Mi', 20], ['Gi', 30], ['Ti', 40], ['Pi', 50], ['Ei', 60]]);

const shape = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/;

/**
 * Parses a quantity such as `100m`, `1Gi`, `1e3`, `0.5` or a YAML number, or returns undefined when
 * the text is not a quantity. Mirrors resource.ParseQuantity's grammar:
 * `<signedNumber><suffix>` where suffix is a binary SI (`Ki`…`Ei`), decimal SI (`n u m k M G T P E`)
 * or a decimal exponent (`e3`, `E-2`).
 */
export function parseQuantity(input: string | number): Quantity | undefined {
  const text = typeof input === 'number' ? numberText(input) : input;
  if (text === undefined || text.length === 0 || text.length > MAX_QUANTITY_TEXT) return undefined;
  const m = shape.exec(text);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  const suffix = m[4] ?? '';
  if (intPart.length + fracPart.length === 0) return undefined;

  let exp10 = -fracPart.length;
  let exp2 = 0;
  const dec = decimalSI.get(suffix);
  const bin = binarySI.get(suffix);
  if (dec !== undefined) {
    exp10 += dec;
  } else if (bin !== undefined) {
    exp2 = bin;
  } else if (/^[eE][+-]?[0-9]+$/.test(suffix)) {
    const e = Number(suffix.slice(1));
    if (!Number.isSafeInteger(e) || Math.abs(e) > MAX_EXPONENT) return undefined;
    exp10 += e;
  } else {
    return undefined;
  }
  let num = sign * BigInt(intPart + fracPart || '0');
  let den = 1n;
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den = 10n ** BigInt(-exp10);
  num *= 2n ** BigInt(exp2);
  return { num, den, text };
}

// A YAML/JSON number in a quantity field (`cpu: 2`) is read by apimachinery from its literal text; the
// shortest round-trip rendering is the closest we have to that text.
function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  return String(n).replace('e+', 'e');
}

/** Compares two quantities exactly: negative if a < b, 0 if equal, positive if a > b. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/**
 * `a + b` exactly, printed in `a`'s format unless `a` is zero (Quantity.Add): the total of several
 * containers' limits reads as the first one was written.
 */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  const num = a.num * b.den + b.num * a.den;
  const den = a.den * b.den;
  const g = gcd(num < 0n ? -num : num, den);
  const suffix = shape.exec((a.num === 0n ? b : a).text)?.[4] ?? '';
  const sum = { num: num / g, den: den / g };
  // The text is the sum as printed in that format (formatQuantity reads only the suffix of it).
  return { ...sum, text: formatQuantity({ ...sum, text: `0${suffix}` }) };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

/** Whether a quantity is below zero. */
export function isNegativeQuantity(q: Quantity): boolean {
  return q.num < 0n;
}

/** Whether a quantity is a whole number (as extended resources must be). */
export function isIntegerQuantity(q: Quantity): boolean {
  return q.num % q.den === 0n;
}

const decimalSuffixOf = new Map([...decimalSI].map(([s, e]) => [e, s]));
const binarySuffixOf = new Map([...binarySI].map(([s, e]) => [e, s]));

/**
 * A quantity as apimachinery prints it (Quantity.String, CanonicalizeBytes): in the format its text
 * was written in, with the largest suffix that keeps the number whole. `1024Ki` → `1Mi`, `1000M` →
 * `1G`, `1.5G` → `1500M`, `0.1` → `100m`, `1e6` stays; a binary value under 1024, or not a whole
 * number, is printed as decimal SI (`512` for `0.5Ki`). Quoted in kubelet messages such as the
 * eviction manager's `exceeds the limit "1Gi"`.
 */
export function formatQuantity(q: Quantity): string {
  if (q.num === 0n) return '0';
  const suffix = shape.exec(q.text)?.[4] ?? '';
  let format: 'BinarySI' | 'DecimalSI' | 'DecimalExponent' = binarySI.has(suffix) ? 'BinarySI' : /^[eE]/.test(suffix) ? 'DecimalExponent' : 'DecimalSI';
  const abs = q.num < 0n ? -q.num : q.num;
  const sign = q.num < 0n ? '-' : '';
  if (format === 'BinarySI' && (abs < 1024n * q.den || abs % q.den !== 0n)) format = 'DecimalSI';
  if (format === 'BinarySI') {
    // removeInt64Factors(value, 1024): the largest binary suffix that keeps the number whole.
    let m = abs / q.den;
    let e = 0;
    while (m % 1024n === 0n && binarySuffixOf.has((e + 1) * 10)) {
      m /= 1024n;
      e++;
    }
    return `${sign}${m}${binarySuffixOf.get(e * 10) ?? ''}`;
  }
  // m × 10^e with m whole: the denominator of a parsed quantity divides a power of ten.
  let e = 0;
  let m = abs;
  while (m % q.den !== 0n && e > -MAX_EXPONENT) {
    m *= 10n;
    e--;
  }
  m /= q.den;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  // AsCanonicalBytes: the exponent lowered to a multiple of three.
  const down = ((e % 3) + 3) % 3;
  m *= 10n ** BigInt(down);
  e -= down;
  if (format === 'DecimalSI' && decimalSuffixOf.has(e)) return `${sign}${m}${decimalSuffixOf.get(e)}`;
  return `${sign}${m}${e === 0 ? '' : `e${e}`}`;
}

// The few DER (ASN.1 Distinguished Encoding Rules, ITU-T X.690) encodings a self-signed X.509
// certificate needs. Node can make keys and sign, but not write a certificate: this is the rest,
// kept small enough to read in one sitting instead of a dependency.

/** Tag-length-value: `tag` then the definite length of `content`, then `content`. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

// Short form below 128, else 0x80 | the number of length bytes, then the length big-endian.
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** SEQUENCE. */
export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);

/** SET. */
export const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);

/** A context-specific EXPLICIT tag `[n]` around `inner`. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** INTEGER from a non-negative big-endian magnitude (a 0 byte is prepended when the top bit is set). */
export function integer(magnitude: Buffer | number): Buffer {
  let b = typeof magnitude === 'number' ? Buffer.from([magnitude]) : magnitude;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** OBJECT IDENTIFIER from its dotted form (`2.5.4.3`). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [];
    let v = arc;
    do {
      base128.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < base128.length - 1; i++) base128[i]! |= 0x80;
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** BOOLEAN. */
export const boolean = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));

/** OCTET STRING. */
export const octetString = (b: Buffer): Buffer => tlv(0x04, b);

/** BIT STRING of whole bytes, or with `unusedBits` trailing bits of the last byte unused. */
export const bitString = (b: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), b);

/** UTF8String. */
export const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));

/**
 * An X.509 Time: UTCTime (`YYMMDDHHMMSSZ`) through 2049, GeneralizedTime (`YYYYMMDDHHMMSSZ`) from
 * 2050, as RFC 5280 4.1.2.5 requires. Milliseconds are dropped.
 */
export function x509Time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const year = d.getUTCFullYear();
  if (year < 2050) return tlv(0x17, Buffer.from(`${p(year % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'ascii'));
}

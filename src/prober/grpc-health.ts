/**
 * The grpc.health.v1 messages, hand-encoded: the request is `string service = 1`, the response
 * `ServingStatus status = 1`. Two tiny messages do not justify loading a .proto at run time.
 * (grpc/grpc doc/health-checking.md, src/proto/grpc/health/v1/health.proto)
 */

/** The full method path of Health/Check. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** HealthCheckResponse.ServingStatus names, by number. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/** Encodes a HealthCheckRequest. */
export function encodeHealthRequest(req: { service: string }): Buffer {
  if (!req.service) return Buffer.alloc(0);
  const bytes = Buffer.from(req.service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

/** Decodes a HealthCheckRequest (for test servers). */
export function decodeHealthRequest(buf: Buffer): { service: string } {
  let service = '';
  walk(buf, (field, wire, value) => {
    if (field === 1 && wire === 2) service = (value as Buffer).toString('utf8');
  });
  return { service };
}

/** Encodes a HealthCheckResponse (for test servers). */
export function encodeHealthResponse(res: { status: number }): Buffer {
  if (!res.status) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x08]), varint(res.status)]);
}

/** Decodes a HealthCheckResponse; unknown fields are skipped, a missing status is UNKNOWN (0). */
export function decodeHealthResponse(buf: Buffer): { status: number } {
  let status = 0;
  walk(buf, (field, wire, value) => {
    if (field === 1 && wire === 0) status = value as number;
  });
  return { status };
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/** Walks the top-level fields of a protobuf message; throws on a malformed one. */
function walk(buf: Buffer, visit: (field: number, wire: number, value: number | Buffer) => void): void {
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      // Enum values fit in 32 bits; higher groups of a 64-bit varint are read and dropped.
      if (shift < 32) result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return result;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) visit(field, wire, readVarint());
    else if (wire === 2) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error('truncated field');
      visit(field, wire, buf.subarray(i, i + len));
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

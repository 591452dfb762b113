// Turns what `yaml` hands back into plain JSON data: a tree (no shared or cyclic references from
// aliases), only JSON types, own properties only. Everything downstream (validation, the UID hash,
// defaulting, the HTTP API) may then treat a pod as JSON.

/** Thrown by {@link toPlainJSON} when the value cannot be JSON (a cycle built with YAML aliases). */
export class NotJSONError extends Error {
  override readonly name = 'NotJSONError';
}

/**
 * A deep copy of `value` as plain JSON data. Maps become objects, Sets objects of nulls (YAML `!!set`),
 * byte arrays base64 strings (as Go's JSON encodes `[]byte`), Dates RFC 3339 strings, bigints numbers;
 * `undefined` members are dropped. Throws {@link NotJSONError} on a reference cycle.
 */
export function toPlainJSON(value: unknown): unknown {
  return copy(value, new Set());
}

function copy(value: unknown, ancestors: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object') return undefined;
  if (ancestors.has(value)) throw new NotJSONError('YAML aliases form a reference cycle');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((v) => {
        const c = copy(v, ancestors);
        return c === undefined ? null : c;
      });
    }
    const out: Record<string, unknown> = {};
    const entries: [string, unknown][] =
      value instanceof Map
        ? [...value.entries()].map(([k, v]) => [String(k), v])
        : value instanceof Set
          ? [...value.values()].map((k) => [String(k), null])
          : Object.entries(value);
    for (const [k, v] of entries) {
      const c = copy(v, ancestors);
      if (c !== undefined) setOwn(out, k, c);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** Sets `obj[key]` as an own data property, even for `__proto__` (which `=` would treat as the prototype). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

// Typed reads of untrusted decoded JSON. Validation runs on whatever the YAML said, so every field it
// looks at is read through these helpers: a wrong type is reported (as the Go decoder would refuse
// it) and read as "absent", which keeps the validators free of casts and unable to throw.

import type { FieldErrors } from './field-errors.js';

/** A decoded JSON object. */
export type Obj = Record<string, unknown>;

/** Whether `v` is a JSON object (not null, not an array). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property `key` of `obj`, or undefined; never walks the prototype chain. */
export function own(obj: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** `obj[key]` as a string; null/absent → undefined; another type → reported, undefined. */
export function readString(errs: FieldErrors, obj: Obj, key: string, path: string): string | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  errs.wrongType(path, 'string', v);
  return undefined;
}

/** `obj[key]` as an integer; null/absent → undefined; another type → reported, undefined. */
export function readInt(errs: FieldErrors, obj: Obj, key: string, path: string): number | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  errs.wrongType(path, 'integer', v);
  return undefined;
}

/** `obj[key]` as a boolean; null/absent → undefined; another type → reported, undefined. */
export function readBool(errs: FieldErrors, obj: Obj, key: string, path: string): boolean | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  errs.wrongType(path, 'boolean', v);
  return undefined;
}

/** `obj[key]` as an object; null/absent → undefined; another type → reported, undefined. */
export function readObj(errs: FieldErrors, obj: Obj, key: string, path: string): Obj | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (isObj(v)) return v;
  errs.wrongType(path, 'object', v);
  return undefined;
}

/** `obj[key]` as an array; null/absent → undefined; another type → reported, undefined. */
export function readArray(errs: FieldErrors, obj: Obj, key: string, path: string): unknown[] | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v;
  errs.wrongType(path, 'array', v);
  return undefined;
}

/**
 * `obj[key]` as an array of objects, with the path of each: elements of another type are reported
 * and skipped. null elements are reported too (Go would decode them as zero values; they are
 * always a mistake in a manifest).
 */
export function readObjArray(errs: FieldErrors, obj: Obj, key: string, path: string): { item: Obj; path: string; index: number }[] {
  const arr = readArray(errs, obj, key, path) ?? [];
  const out: { item: Obj; path: string; index: number }[] = [];
  arr.forEach((item, index) => {
    const p = `${path}[${index}]`;
    if (isObj(item)) out.push({ item, path: p, index });
    else errs.wrongType(p, 'object', item);
  });
  return out;
}

/** `obj[key]` as an array of strings; wrong elements are reported and left out. */
export function readStringArray(errs: FieldErrors, obj: Obj, key: string, path: string): string[] | undefined {
  const arr = readArray(errs, obj, key, path);
  if (!arr) return undefined;
  const out: string[] = [];
  arr.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else errs.wrongType(`${path}[${i}]`, 'string', item);
  });
  return out;
}

/** `obj[key]` as a string → string map (labels, annotations, nodeSelector); wrong values are reported. */
export function readStringMap(errs: FieldErrors, obj: Obj, key: string, path: string): Map<string, string> | undefined {
  const o = readObj(errs, obj, key, path);
  if (!o) return undefined;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') out.set(k, v);
    else errs.wrongType(`${path}[${k}]`, 'string', v);
  }
  return out;
}

/** `obj[key]` as an int-or-string (`port: 8080` or `port: http`); other types are reported. */
export function readIntOrString(errs: FieldErrors, obj: Obj, key: string, path: string): number | string | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) return v;
  errs.wrongType(path, 'integer or string', v);
  return undefined;
}

/** Whether `obj[key]` is present (not undefined and not null): "set" in Go's pointer sense. */
export function isSet(obj: Obj, key: string): boolean {
  const v = own(obj, key);
  return v !== undefined && v !== null;
}

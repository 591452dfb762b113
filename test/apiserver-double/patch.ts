// The three patch types the API server applies to built-in kinds
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
//  - application/json-patch+json: RFC 6902 operations (evanphx/json-patch);
//  - application/merge-patch+json: RFC 7386, lists replaced whole;
//  - application/strategic-merge-patch+json: merge patch, except that lists the Go types tag
//    `patchStrategy:"merge"` merge by their `patchMergeKey` (or as sets, for primitive lists), with
//    the directives $patch (replace/delete/merge), $retainKeys, $setElementOrder/<list> and
//    $deleteFromPrimitiveList/<list> (staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go).
// Which lists merge comes from a per-kind schema (resources.ts): every other list is atomic, e.g.
// `status.containerStatuses`, which has no patch strategy in staging/src/k8s.io/api/core/v1/types.go
// and so is replaced whole by a strategic merge patch, exactly as on a real server.

import { sortKeys } from './defaults.js';

/** How a field merges in a strategic merge patch. */
export interface FieldSchema {
  /** The list merges by this key of its elements (patchMergeKey). */
  mergeKey?: string;
  /** A list of scalars that merges as a set (patchStrategy=merge, no key: finalizers, podCIDRs). */
  primitiveMerge?: boolean;
  /** The schema of the object's fields, or of each element of a merging list. */
  fields?: MergeSchema;
}

/** Field name to its merge behaviour; fields not listed merge as maps (objects) or replace (lists, scalars). */
export type MergeSchema = Readonly<Record<string, FieldSchema>>;

/** A patch that cannot be applied; the handler answers 422 (or 400 for a malformed patch). */
export class PatchError extends Error {
  override readonly name = 'PatchError';
  constructor(
    message: string,
    readonly code: 400 | 422 = 422,
  ) {
    super(message);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isMap = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch: maps merge, `null` deletes, everything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return structuredClone(patch);
  const out: Record<string, any> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Applies a strategic merge patch to `original` under `schema`. */
export function strategicMergePatch(original: unknown, patch: unknown, schema: MergeSchema = {}): unknown {
  if (!isMap(patch)) throw new PatchError('a strategic merge patch must be a JSON object', 400);
  return mergeMap(isMap(original) ? original : {}, patch, schema);
}

function mergeMap(original: Record<string, any>, patch: Record<string, any>, schema: MergeSchema): Record<string, any> | undefined {
  const directive = patch['$patch'];
  if (directive === 'replace') return stripDirectives(withoutKey(patch, '$patch')) as Record<string, any>;
  if (directive === 'delete') return undefined;
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`Unknown patch type: ${String(directive)} in map`);
  let out: Record<string, any> = { ...original };
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      if (!Array.isArray(v)) throw new PatchError(`invalid ${k}: must be a list`);
      orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (!Array.isArray(v)) throw new PatchError(`invalid ${k}: must be a list`);
      if (Array.isArray(out[field])) out[field] = out[field].filter((x: unknown) => !v.some((d) => d === x));
      continue;
    }
    const fs = schema[k];
    if (v === null) {
      delete out[k];
    } else if (isMap(v)) {
      const merged = mergeMap(isMap(out[k]) ? out[k] : {}, v, fs?.fields ?? {});
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      out[k] = mergeList(Array.isArray(out[k]) ? out[k] : [], v, fs);
    } else {
      out[k] = v;
    }
  }
  for (const [field, order] of orders) {
    if (Array.isArray(out[field])) out[field] = applyOrder(out[field], order, schema[field]?.mergeKey);
  }
  return out;
}

function mergeList(original: unknown[], patch: unknown[], fs: FieldSchema | undefined): unknown[] {
  // `[{"$patch": "replace"}, …]` replaces the list with the other elements, whatever the strategy.
  if (patch.some((e) => isMap(e) && e['$patch'] === 'replace')) {
    return patch.filter((e) => !(isMap(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  if (fs?.primitiveMerge) {
    const out = [...original];
    for (const v of patch) if (!out.some((x) => x === v)) out.push(v);
    return out;
  }
  const key = fs?.mergeKey;
  if (!key) return patch.map(stripDirectives);
  const out: unknown[] = [...original];
  for (const item of patch) {
    if (!isMap(item)) throw new PatchError(`the list elements must be objects with a "${key}" (the merge key)`);
    const k = item[key];
    const at = out.findIndex((x) => isMap(x) && x[key] === k);
    if (item['$patch'] === 'delete') {
      if (k === undefined) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (k === undefined) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    if (at >= 0) {
      const merged = mergeMap(out[at] as Record<string, any>, item, fs?.fields ?? {});
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else {
      out.push(stripDirectives(item));
    }
  }
  return out;
}

/**
 * `$setElementOrder/<list>`: the elements named in the order come first, in that order; the others
 * (present only on the server) keep their relative order after them (a simplification of the real
 * interleaving).
 */
function applyOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (x: unknown) => (key && isMap(x) ? x[key] : x);
  const orderIds = order.map((o) => (key && isMap(o) ? o[key] : o));
  const listed = orderIds.flatMap((oid) => list.filter((x) => id(x) === oid));
  const rest = list.filter((x) => !orderIds.includes(id(x)));
  return [...listed, ...rest];
}

function withoutKey(m: Record<string, any>, k: string): Record<string, any> {
  const { [k]: _drop, ...rest } = m;
  return rest;
}

/** A patch value stored as is: directives and nulls (deletions of nothing) removed. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isMap(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$') || x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

/** One RFC 6902 operation. */
interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(p)}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 JSON patch, applied to a copy of `doc`. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be a list of operations', 400);
  let root: any = structuredClone(doc);
  const parentOf = (path: string[], op: string): [any, string] => {
    let cur = root;
    for (const seg of path.slice(0, -1)) {
      const next = Array.isArray(cur) ? cur[Number(seg)] : isMap(cur) ? cur[seg] : undefined;
      if (next === undefined || next === null || typeof next !== 'object') {
        throw new PatchError(`${op} operation does not apply: doc is missing path: "/${path.join('/')}": missing value`);
      }
      cur = next;
    }
    return [cur, path[path.length - 1]!];
  };
  const get = (path: string[], op: string): unknown => {
    let cur = root;
    for (const seg of path) {
      cur = Array.isArray(cur) ? cur[Number(seg)] : isMap(cur) ? cur[seg] : undefined;
      if (cur === undefined) throw new PatchError(`${op} operation does not apply: doc is missing path: "/${path.join('/')}"`);
    }
    return cur;
  };
  const remove = (path: string[], op: string): unknown => {
    const [parent, last] = parentOf(path, op);
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i >= parent.length) throw new PatchError(`${op} operation does not apply: doc is missing path: "/${path.join('/')}"`);
      return parent.splice(i, 1)[0];
    }
    if (!Object.prototype.hasOwnProperty.call(parent, last)) {
      throw new PatchError(`${op} operation does not apply: doc is missing path: "/${path.join('/')}"`);
    }
    const v = parent[last];
    delete parent[last];
    return v;
  };
  const add = (path: string[], value: unknown, op: string): void => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const [parent, last] = parentOf(path, op);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!(last === '-' || /^\d+$/.test(last)) || i > parent.length) throw new PatchError(`${op} operation does not apply: index out of bounds: /${path.join('/')}`);
      parent.splice(i, 0, value);
    } else parent[last] = value;
  };
  for (const raw of ops) {
    if (!isMap(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new PatchError('invalid JSON patch operation', 400);
    const o = raw as JsonPatchOp;
    const path = parsePointer(o.path);
    switch (o.op) {
      case 'add':
        add(path, structuredClone(o.value), 'add');
        break;
      case 'remove':
        remove(path, 'remove');
        break;
      case 'replace':
        get(path, 'replace');
        if (path.length === 0) root = structuredClone(o.value);
        else {
          const [parent, last] = parentOf(path, 'replace');
          parent[Array.isArray(parent) ? Number(last) : last] = structuredClone(o.value);
        }
        break;
      case 'move': {
        const v = remove(parsePointer(o.from ?? ''), 'move');
        add(path, v, 'move');
        break;
      }
      case 'copy':
        add(path, structuredClone(get(parsePointer(o.from ?? ''), 'copy')), 'copy');
        break;
      case 'test':
        if (JSON.stringify(sortKeys(get(path, 'test'))) !== JSON.stringify(sortKeys(o.value))) throw new PatchError(`testing value /${path.join('/')} failed: test failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${String((o as { op: unknown }).op)}`, 400);
    }
  }
  return root;
}

// Maps Kubernetes field paths (`spec.containers[1].ports[0].name`, `metadata.labels[app]`) back to a
// node of the parsed YAML document, so a validation error can say `web.yaml:14:15:` like a compiler.

import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { Locate, Position } from './field-errors.js';

/** One step of a field path: a field or map key (`name`, `[app]`) or a list index (`[1]`). */
export type PathSegment = { key: string } | { index: number };

/**
 * Splits a field path into segments. `a.b[2][x.y]` → `a`, `b`, index 2 or key `2` (decided by the
 * node it is applied to), key `x.y`. Bracketed keys may contain dots, as label keys do.
 */
export function parseFieldPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
    } else if (c === '[') {
      const end = path.indexOf(']', i + 1);
      const inner = end < 0 ? path.slice(i + 1) : path.slice(i + 1, end);
      out.push(/^[0-9]+$/.test(inner) ? { index: Number(inner) } : { key: inner });
      i = end < 0 ? path.length : end + 1;
    } else {
      let j = i;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      out.push({ key: path.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/**
 * A {@link Locate} over `root` (a node of `doc`): the position of the node at a field path, or of its
 * nearest existing ancestor's key when the field itself is missing (so "metadata.name: Required"
 * points at `metadata:`, and a missing top-level field at the object's first character).
 */
export function createLocator(doc: Document, root: Node | null | undefined, lineCounter: LineCounter): Locate {
  const pos = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  const nodeStart = (n: unknown): number | undefined => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    return range ? range[0] : undefined;
  };
  // Pairs of each map by key text, built on first use: a validator may look up every key of a map
  // (30,000 bad labels), and a scan per lookup made that quadratic.
  const indexes = new WeakMap<object, Map<string, Pair>>();
  const pairOf = (map: { items: Pair[] }, name: string): Pair | undefined => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items) {
        const k = keyText(p.key);
        // The first pair of a key wins, as Array.find did.
        if (k !== undefined && !index.has(k)) index.set(k, p);
      }
      indexes.set(map, index);
    }
    return index.get(name);
  };
  return (fieldPath: string) => {
    let node: unknown = resolve(doc, root);
    let fallback: number | undefined = nodeStart(node);
    let lastKey: unknown;
    for (const seg of parseFieldPath(fieldPath)) {
      let next: unknown;
      let keyNode: unknown;
      let mapKey: unknown;
      if (isMap(node)) {
        const name = 'key' in seg ? seg.key : String(seg.index);
        const pair = pairOf(node, name);
        if (pair) {
          next = pair.value;
          keyNode = pair.key;
          mapKey = pair.key;
        }
      } else if (isSeq(node) && 'index' in seg) {
        next = node.items[seg.index];
        keyNode = next;
      }
      lastKey = mapKey;
      // Missing: point at the deepest ancestor found (its key), or at the object itself.
      if (keyNode === undefined) return pos(fallback);
      const resolved = resolve(doc, next);
      if (resolved === null || resolved === undefined || nodeStart(resolved) === undefined || isEmptyScalar(resolved)) {
        // `key:` with no value: point at the key.
        return pos(nodeStart(keyNode) ?? fallback);
      }
      // Remember the key of this step: it is the best place to point at if a later step is missing.
      fallback = nodeStart(keyNode) ?? nodeStart(resolved);
      node = resolved;
    }
    // A block map or list starts on the line after its key (`secret:` / `  secretName: x`); the key
    // is where a reader looks for the field.
    if ((isMap(node) || isSeq(node)) && !node.flow && lastKey !== undefined) return pos(nodeStart(lastKey) ?? fallback);
    return pos(nodeStart(node) ?? fallback);
  };
}

function resolve(doc: Document, node: unknown): unknown {
  // An alias points at its anchor's node; one hop is enough (aliases of aliases resolve the same way).
  if (isAlias(node)) return node.resolve(doc);
  return node;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

// `key:` with nothing after it parses as a null scalar with empty source, placed after the colon.
function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node as { source?: unknown }).source === '';
}

// Bytes → JSON objects → Pods, with file:line:col on every error. Mirrors the decoding half of the
// kubelet's pkg/kubelet/config/common.go (tryDecodeSinglePod / tryDecodePodList), whose YAML reader
// (sigs.k8s.io/yaml over go-yaml v2) speaks YAML 1.1: we parse as YAML 1.1 too, so `mode: 0644` is
// octal and `<<` merge keys work, exactly as they do for the kubelet.

import { isAlias, isScalar, LineCounter, parseAllDocuments, visit, type Document, type Tags } from 'yaml';
import { NodeletError } from '../errors.js';
import type { Pod } from '../api/types.js';
import { createLocator } from './locate.js';
import { clip, ManifestErrorCode, type Locate } from './field-errors.js';
import { NotJSONError, toPlainJSON } from './plain.js';
import { isObj, own } from './read.js';

/** The largest manifest accepted, in bytes: the kubelet's limit for a static pod file or HTTP body (10 MiB). */
export const MAX_MANIFEST_BYTES = 10 * 1024 * 1024;

/**
 * The largest number of alias expansions in one document. Real manifests use a handful of anchors at
 * most; a "billion laughs" document needs thousands and is refused before it is expanded.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * The deepest nesting of `[`/`{` accepted. `yaml` survives deep nesting but spends seconds and
 * hundreds of MB on 100k levels; no Kubernetes object is more than a few dozen levels deep.
 */
export const MAX_FLOW_DEPTH = 1000;

// After a few syntax errors the rest are mostly consequences of the first ones.
const MAX_SYNTAX_ERRORS = 10;

/** One top-level object of a manifest, with where it starts and a locator for paths inside it. */
export interface DecodedObject {
  value: unknown;
  /** 1-based line of the object's first character. */
  line: number;
  /** 1-based column of the object's first character. */
  column: number;
  /** Maps a field path inside this object (`spec.containers[0]`) to its position in the text. */
  locate: Locate;
}

/** The result of {@link decodeManifest}: every non-empty YAML document, or every error found. */
export type DecodeManifestResult = { ok: true; objects: DecodedObject[] } | { ok: false; errors: NodeletError[] };

/** One Pod found by {@link decodePods}, not yet validated, with its position and a locator inside it. */
export interface DecodedPod {
  pod: Pod;
  line: number;
  column: number;
  locate: Locate;
}

/** The result of {@link decodePods}. */
export type DecodePodsResult = { ok: true; pods: DecodedPod[] } | { ok: false; errors: NodeletError[] };

/** Options of {@link decodePods}. */
export interface DecodePodsOptions {
  /**
   * Accept a PodList (or a `v1` List of Pods) and several YAML documents: the http source. False is
   * the file source: exactly one Pod per file.
   */
  allowList: boolean;
}

/**
 * Decodes manifest bytes (YAML 1.1 or JSON) into its top-level objects, one per non-empty YAML
 * document. Errors (size, encoding, syntax, duplicate keys, alias bombs, an empty file: "no pod in
 * file") name file, line and column. Never throws.
 */
export function decodeManifest(bytes: Uint8Array | string, file: string): DecodeManifestResult {
  const res = decodeDocuments(bytes, file);
  if (!res.ok) return res;
  if (res.objects.length === 0) return { ok: false, errors: [noPodError(file)] };
  return res;
}

/**
 * Decodes manifest bytes into Pods: for the file source (`allowList: false`) exactly one `v1` Pod;
 * for the http source a Pod, a PodList or a `v1` List of Pods (several documents allowed; an empty
 * body is zero pods, as the kubelet treats an empty HTTP response). Other kinds are refused with
 * `UnsupportedKind`. Pods are returned as decoded: not validated, not defaulted. Never throws.
 */
export function decodePods(bytes: Uint8Array | string, file: string, opts: DecodePodsOptions): DecodePodsResult {
  const res = decodeDocuments(bytes, file);
  if (!res.ok) return res;
  const objects = res.objects;
  if (objects.length === 0) return opts.allowList ? { ok: true, pods: [] } : { ok: false, errors: [noPodError(file)] };

  if (!opts.allowList && objects.length > 1) {
    const second = objects[1] as DecodedObject;
    return {
      ok: false,
      errors: [
        new NodeletError(
          ManifestErrorCode.InvalidManifest,
          `a static pod file holds exactly one Pod, found ${objects.length} YAML documents`,
          { details: { file, line: second.line, column: second.column } },
        ),
      ],
    };
  }

  const errors: NodeletError[] = [];
  const pods: DecodedPod[] = [];
  for (const obj of objects) {
    const at = (path: string) => {
      const p = path === '' ? { line: obj.line, column: obj.column } : obj.locate(path);
      return p ? { file, line: p.line, column: p.column, ...(path ? { field: path } : {}) } : { file };
    };
    // clip: kind and apiVersion are quoted as written, whatever their length.
    const fail = (code: string, message: string, path: string) =>
      errors.push(new NodeletError(code, clip(message), { details: at(path) }));

    const value = obj.value;
    if (!isObj(value)) {
      fail(ManifestErrorCode.InvalidManifest, `expected a Pod object, got ${describe(value)}`, '');
      continue;
    }
    const kind = typeMeta(value, 'kind', fail);
    const apiVersion = typeMeta(value, 'apiVersion', fail);
    if (kind === undefined || apiVersion === undefined) continue;

    const isList = kind === 'PodList' || kind === 'List';
    if (kind !== 'Pod' && !(isList && opts.allowList)) {
      fail(ManifestErrorCode.UnsupportedKind, unsupportedKindMessage(kind), 'kind');
      continue;
    }
    if (apiVersion !== 'v1') {
      fail(ManifestErrorCode.UnsupportedKind, `apiVersion ${apiVersion} is not supported for kind ${kind}: use apiVersion v1`, 'apiVersion');
      continue;
    }
    if (!isList) {
      pods.push({ pod: value as Pod, line: obj.line, column: obj.column, locate: obj.locate });
      continue;
    }

    // A PodList from the API server has items without kind/apiVersion; a `kubectl get -o json`
    // List has them. Accept both, but nothing that is not a v1 Pod.
    const items = own(value, 'items');
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) {
      fail(ManifestErrorCode.InvalidManifest, `items of a ${kind} must be a list, got ${describe(items)}`, 'items');
      continue;
    }
    items.forEach((item, i) => {
      const base = `items[${i}]`;
      if (!isObj(item)) {
        fail(ManifestErrorCode.InvalidManifest, `expected a Pod object, got ${describe(item)}`, base);
        return;
      }
      const itemKind = own(item, 'kind');
      const itemVersion = own(item, 'apiVersion');
      if (itemKind !== undefined && itemKind !== null && itemKind !== 'Pod') {
        fail(ManifestErrorCode.UnsupportedKind, unsupportedKindMessage(typeof itemKind === 'string' ? itemKind : JSON.stringify(itemKind)), `${base}.kind`);
        return;
      }
      if (itemVersion !== undefined && itemVersion !== null && itemVersion !== 'v1') {
        fail(ManifestErrorCode.UnsupportedKind, `apiVersion ${typeof itemVersion === 'string' ? itemVersion : JSON.stringify(itemVersion)} is not supported for kind Pod: use apiVersion v1`, `${base}.apiVersion`);
        return;
      }
      const pos = obj.locate(base) ?? { line: obj.line, column: obj.column };
      const locate: Locate = (p) => obj.locate(p === '' ? base : p.startsWith('[') ? base + p : `${base}.${p}`);
      pods.push({ pod: { ...item, apiVersion: 'v1', kind: 'Pod' } as Pod, line: pos.line, column: pos.column, locate });
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, pods };
}

/** The message for a kind that is not a Pod, e.g. `kind Deployment is not supported: static pods can only be Pods`. */
export function unsupportedKindMessage(kind: string): string {
  return `kind ${kind} is not supported: static pods can only be Pods`;
}

function typeMeta(
  value: Record<string, unknown>,
  key: 'kind' | 'apiVersion',
  fail: (code: string, message: string, path: string) => void,
): string | undefined {
  const v = own(value, key);
  const example = key === 'kind' ? 'kind: Pod' : 'apiVersion: v1';
  if (v === undefined || v === null || v === '') {
    fail(ManifestErrorCode.InvalidManifest, `${key} is missing: a static pod manifest needs "${example}"`, '');
    return undefined;
  }
  if (typeof v !== 'string') {
    fail(ManifestErrorCode.InvalidManifest, `${key} must be a string, got ${describe(v)}: a static pod manifest needs "${example}"`, key);
    return undefined;
  }
  return v;
}

function noPodError(file: string): NodeletError {
  return new NodeletError(ManifestErrorCode.InvalidManifest, 'no pod in file', { details: { file } });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v} ${JSON.stringify(v)?.slice(0, 60) ?? ''}`.trimEnd();
}

type DocumentsResult = { ok: true; objects: DecodedObject[] } | { ok: false; errors: NodeletError[] };

// YAML 1.1 timestamps: go-yaml v2 keeps them as strings when decoding into interface{} (the
// kubelet's path), so we drop the tag and they stay strings here too.
const withoutTimestamp = (tags: Tags): Tags =>
  tags.filter((t) => !(typeof t === 'object' && t !== null && 'tag' in t && t.tag === 'tag:yaml.org,2002:timestamp'));

/** Decodes every non-empty document; an empty stream is `ok` with no objects. */
function decodeDocuments(bytes: Uint8Array | string, file: string): DocumentsResult {
  const err = (message: string, pos?: { line: number; column: number }, cause?: unknown) =>
    new NodeletError(ManifestErrorCode.InvalidManifest, message, {
      cause,
      details: pos ? { file, line: pos.line, column: pos.column } : { file },
    });

  // Size first, before touching the content: a 50 MB body must cost nothing.
  const size = typeof bytes === 'string' ? bytes.length : bytes.byteLength;
  if (size > MAX_MANIFEST_BYTES || (typeof bytes === 'string' && size * 3 > MAX_MANIFEST_BYTES && Buffer.byteLength(bytes, 'utf8') > MAX_MANIFEST_BYTES)) {
    return {
      ok: false,
      errors: [
        new NodeletError(
          ManifestErrorCode.ManifestTooLarge,
          `manifest is larger than the limit of ${MAX_MANIFEST_BYTES} bytes (10 MiB)`,
          { details: { file } },
        ),
      ],
    };
  }

  let text: string;
  if (typeof bytes === 'string') {
    text = bytes.charCodeAt(0) === 0xfeff ? bytes.slice(1) : bytes;
  } else {
    try {
      // fatal: a manifest with broken UTF-8 is corrupt, not something to guess about. The BOM is dropped.
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (cause) {
      return { ok: false, errors: [err('manifest is not valid UTF-8 text', undefined, cause)] };
    }
  }

  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    return { ok: false, errors: [err(`manifest nests lists or maps more than ${MAX_FLOW_DEPTH} levels deep`, positionOf(text, deep))] };
  }

  const lineCounter = countLines(text);
  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, {
      version: '1.1',
      customTags: withoutTimestamp,
      // Checked by duplicateKeys instead: yaml compares each key with every earlier one, which takes
      // minutes on a map of 100,000 keys.
      uniqueKeys: false,
      prettyErrors: false,
      // yaml's warnings (a list used as a map key) go to process.emitWarning: stderr, outside our logs.
      logLevel: 'error',
    });
    // An empty stream (nothing, or only comments) still carries stream-level errors.
    if (!Array.isArray(parsed) || parsed.length === 0) {
      const streamErrors = 'errors' in parsed ? parsed.errors : [];
      if (streamErrors.length > 0) {
        return { ok: false, errors: streamErrors.slice(0, MAX_SYNTAX_ERRORS).map((e) => syntaxError(e, text, lineCounter, file)) };
      }
      return { ok: true, objects: [] };
    }
    docs = parsed as Document.Parsed[];
  } catch (cause) {
    return { ok: false, errors: [err(`cannot parse manifest: ${messageOf(cause)}`, undefined, cause)] };
  }

  const errors: NodeletError[] = [];
  for (const doc of docs) {
    const found = [...doc.errors, ...duplicateKeys(doc)].sort((a, b) => a.pos[0] - b.pos[0]);
    for (const e of found) {
      if (errors.length < MAX_SYNTAX_ERRORS) errors.push(syntaxError(e, text, lineCounter, file));
    }
  }
  if (errors.length > 0) return { ok: false, errors };

  const objects: DecodedObject[] = [];
  for (const doc of docs) {
    const contents = doc.contents;
    // `---` followed by nothing (a trailing separator, a commented-out pod) is not an object.
    if (contents === null || (isScalar(contents) && contents.value === null)) continue;
    const start = lineCounter.linePos(contents.range[0]);
    const pos = { line: start.line, column: start.col };
    const unresolved = unresolvedAliases(doc, lineCounter, file);
    if (unresolved.length > 0) {
      errors.push(...unresolved);
      continue;
    }
    let value: unknown;
    try {
      value = toPlainJSON(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (cause) {
      errors.push(err(toJSMessage(cause), pos, cause));
      continue;
    }
    objects.push({ value, line: pos.line, column: pos.column, locate: createLocator(doc, contents, lineCounter) });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, objects };
}

// `*name` before (or without) its `&name`: yaml reports it only when converting; we want its position.
// One walk in document order, the order in which yaml resolves aliases (Alias.resolve walks the whole
// document for each alias: quadratic with thousands of aliases).
function unresolvedAliases(doc: Document.Parsed, lineCounter: LineCounter, file: string): NodeletError[] {
  const out: NodeletError[] = [];
  const anchors = new Set<string>();
  visit(doc, {
    Node(_, node) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.add(node.anchor);
        return;
      }
      if (anchors.has(node.source) || out.length >= MAX_SYNTAX_ERRORS) return;
      const lp = lineCounter.linePos(node.range?.[0] ?? 0);
      out.push(
        new NodeletError(
          ManifestErrorCode.InvalidManifest,
          `unknown YAML alias *${node.source}: the anchor &${node.source} must be defined before it`,
          { details: { file, line: lp.line, column: lp.col } },
        ),
      );
    },
  });
  return out;
}

// Keys repeated in one map, as yaml's uniqueKeys reports them (scalar keys equal by value, each at the
// repeated key), with a Set per map so that it stays linear.
function duplicateKeys(doc: Document.Parsed): { code: string; message: string; pos: [number, number] }[] {
  const out: { code: string; message: string; pos: [number, number] }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key)) continue;
        // yaml compares with ===, under which NaN (`.nan`) is not equal to itself.
        if (typeof key.value === 'number' && Number.isNaN(key.value)) continue;
        if (!seen.has(key.value)) seen.add(key.value);
        else if (key.range) out.push({ code: 'DUPLICATE_KEY', message: 'Map keys must be unique', pos: [key.range[0], key.range[1]] });
      }
    },
  });
  return out;
}

// Line starts from the text itself: the LineCounter that yaml's parser fills misses the line breaks
// inside the tokens it cannot use (a `---{` line and what follows it), which shifts every later
// position of a broken file.
function countLines(text: string): LineCounter {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
  return lc;
}

function toJSMessage(cause: unknown): string {
  if (cause instanceof ReferenceError && /excessive alias/i.test(cause.message)) {
    return `too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}): refusing a possible "billion laughs" document`;
  }
  if (cause instanceof RangeError) return 'manifest is nested too deeply';
  if (cause instanceof NotJSONError) return `cannot decode YAML: ${cause.message}`;
  return `cannot decode YAML: ${messageOf(cause)}`;
}

function syntaxError(
  e: { code: string; message: string; pos: [number, number] },
  text: string,
  lineCounter: LineCounter,
  file: string,
): NodeletError {
  // Errors about a line often point at its indentation; the first non-blank character is what
  // an editor should jump to.
  let offset = e.pos[0];
  while (offset < text.length && (text[offset] === ' ' || text[offset] === '\t')) offset++;
  const lp = lineCounter.linePos(offset);
  let message: string;
  if (e.code === 'DUPLICATE_KEY') {
    message = `duplicate key ${JSON.stringify(keyAt(text, e.pos[0]))}: map keys must be unique`;
  } else if (e.code === 'RESOURCE_EXHAUSTION') {
    message = 'manifest is nested too deeply';
  } else {
    const indentation = e.code === 'BAD_INDENT' || /without - indicator|indent/i.test(e.message);
    // yaml quotes the offending token, which may be a multi-MB scalar.
    message = `syntax error: ${clip(firstLine(e.message), 200)}${indentation ? ' (check the indentation)' : ''}`;
  }
  return new NodeletError(ManifestErrorCode.InvalidManifest, message, {
    cause: e,
    details: { file, line: lp.line, column: lp.col },
  });
}

// The key text at `offset`, for duplicate-key messages: `name: x` → name, `"a": 1` → a.
function keyAt(text: string, offset: number): string {
  const rest = text.slice(offset, offset + 300);
  const quoted = /^(["'])((?:\\.|(?!\1).)*)\1/.exec(rest);
  if (quoted) return quoted[2] ?? '';
  return (/^[^:\n,}]*/.exec(rest)?.[0] ?? '').trim();
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Offset of the first `[`/`{` nested deeper than MAX_FLOW_DEPTH, by a plain count that ignores
// quoting: it may over-count brackets inside strings, but only a pathological file has a thousand
// unclosed ones, and the scan costs a few ms even for 10 MB.
function tooDeepAt(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

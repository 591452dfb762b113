// Fuzzing the manifest pipeline (crash-safety issue, item 5): generated and mutated manifests go through
// decode → validate → default, as the file source runs it (loadPodManifest) or the http source
// (loadPodList). Three promises are checked on every case: nothing but a NodeletError comes out, each
// error names where it is, and no case takes long.
//
// Run counts: NODELET_FUZZ_RUNS is the per-property base of property.test.ts; this file runs five times
// that in total (1,000 cases by default, 100,000 with NODELET_FUZZ_RUNS=20000), shared out by what a
// case costs: cheap mutations get most runs, multi-MB inputs a handful.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { NodeletError } from '../errors.js';
import { MAX_FLOW_DEPTH, MAX_MANIFEST_BYTES } from './decode.js';
import { ManifestErrorCode } from './field-errors.js';
import { loadPodList, loadPodManifest } from './load.js';
import { anyChar, loadOpts, mutatedPod, validPod, YAML_FRAGMENTS, yamlish } from './testing.js';

const numRuns = Number(process.env.NODELET_FUZZ_RUNS ?? 200);
// includeErrorInReport: else fast-check keeps the failed assertion in `cause`, which the test runner
// does not print. endOnFailure: a fuzz failure is reported as found; shrinking pods built with chain()
// or multi-MB inputs can take longer than the whole run.
fc.configureGlobal({ includeErrorInReport: true, endOnFailure: true });
const TOTAL = numRuns * 5;
/** The runs of a property that gets `share` of the total, never fewer than `min`. */
const runs = (share: number, min = 1) => Math.max(min, Math.round(TOTAL * share));

// Generous: a 10 MB quoted scalar takes about 1.5 s on a busy 2-core machine. What this bound is for
// is super-linear blow-ups (a quadratic check over 30,000 keys takes tens of seconds).
const CASE_BOUND_MS = 5000;
// An error message goes to logs and pod events: it must not carry a multi-MB scalar along.
const MAX_MESSAGE_LENGTH = 1000;
const FILE = 'fuzz.yaml';
// The errors about the file as a whole: there is no line to point at, the file name is the location.
const WHOLE_FILE_MESSAGES = new Set(['manifest is not valid UTF-8 text', 'no pod in file']);

// ---------------------------------------------------------------------------------------------
// The checks

/** One input for the pipeline, and which source reads it. */
interface Case {
  input: string | Uint8Array;
  source: 'file' | 'http';
}

/** Everything the pipeline let out (errors, warnings, or what it threw) and how long it took. */
function feed(c: Case): { found: unknown[]; ms: number } {
  const opts = loadOpts({ file: FILE, source: c.source, origin: `/fuzz/${FILE}` });
  const started = performance.now();
  let found: unknown[];
  try {
    if (c.source === 'file') {
      const r = loadPodManifest(c.input, opts);
      found = [...(r.ok ? [] : r.errors), ...r.warnings];
    } else {
      const r = loadPodList(c.input, opts);
      found = r.ok ? [] : r.errors;
    }
  } catch (thrown) {
    found = [thrown];
  }
  return { found, ms: performance.now() - started };
}

/** Feeds one case and asserts the three promises. */
function check(c: Case): NodeletError[] {
  const { found, ms } = feed(c);
  // Measured after the fact: the parser is synchronous, so no timer can stop one that spins, and
  // fast-check's own timeout only works for async properties. A true hang stalls this file until the
  // runner's --test-timeout (set by test:fuzz) kills it; this bound catches slow-but-finite blow-ups.
  assert.ok(ms < CASE_BOUND_MS, `one case took ${Math.round(ms)} ms (bound ${CASE_BOUND_MS} ms): ${describeInput(c.input)}`);
  let lines: string[] | undefined;
  const errors: NodeletError[] = [];
  for (const e of found) {
    assert.ok(e instanceof NodeletError, `not a NodeletError: ${String(e)}`);
    errors.push(e);
    assert.equal(e.details.file, FILE, e.located);
    assert.ok(!e.message.startsWith('internal error'), e.located);
    assert.ok(e.message.length <= MAX_MESSAGE_LENGTH, `a message of ${e.message.length} characters: ${e.message.slice(0, 200)}…`);
    const { line, column } = e.details;
    if (line === undefined) {
      assert.ok(e.code === ManifestErrorCode.ManifestTooLarge || WHOLE_FILE_MESSAGES.has(e.message), `no line: ${e.located}`);
      assert.equal(e.located, `${FILE}: ${e.message}`);
      continue;
    }
    assert.ok(Number.isInteger(line) && Number.isInteger(column), e.located);
    assert.equal(e.located, `${FILE}:${line}:${column}: ${e.message}`);
    // The position must exist in the text: line within the file, column at most one past the line's end.
    lines ??= linesOf(c.input);
    const text = lines[line - 1];
    assert.ok(line >= 1 && text !== undefined, `line ${line} of ${lines.length}: ${e.located}`);
    assert.ok(column !== undefined && column >= 1 && column <= text.length + 1, `column ${column} of ${text.length + 1}: ${e.located}`);
  }
  return errors;
}

// The lines as the decoder counts them: after the BOM, split at \n only (the `yaml` line counter's rule).
function linesOf(input: string | Uint8Array): string[] {
  const text = typeof input === 'string' ? input.replace(/^\uFEFF/, '') : new TextDecoder().decode(input);
  return text.split('\n');
}

function describeInput(input: string | Uint8Array): string {
  const size = typeof input === 'string' ? `${input.length} chars` : `${input.byteLength} bytes`;
  const head = typeof input === 'string' ? input.slice(0, 80) : Buffer.from(input.subarray(0, 40)).toString('hex');
  return `${size}, starting ${JSON.stringify(head)}`;
}

// ---------------------------------------------------------------------------------------------
// Rendering: the same value written as YAML or JSON, then perhaps damaged as text

type Form = 'yaml' | 'yaml-flow' | 'yaml-quoted' | 'json' | 'json-pretty';
const form = fc.constantFrom<Form>('yaml', 'yaml-flow', 'yaml-quoted', 'json', 'json-pretty');

function render(value: unknown, f: Form): string {
  if (f === 'json') return JSON.stringify(value) ?? 'null';
  if (f === 'json-pretty') return JSON.stringify(value, null, 2) ?? 'null';
  return stringify(value, {
    version: '1.1',
    collectionStyle: f === 'yaml-flow' ? 'flow' : 'any',
    defaultStringType: f === 'yaml-quoted' ? 'QUOTE_DOUBLE' : 'PLAIN',
  });
}

/** A damage to the text of a manifest, at a position taken modulo its length. */
type TextEdit =
  | { op: 'insert'; at: number; s: string }
  | { op: 'delete'; at: number; n: number }
  | { op: 'truncate'; at: number }
  | { op: 'indent'; at: number; by: number }
  | { op: 'swap-lines'; at: number };

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: fc.oneof(fc.constantFrom(...YAML_FRAGMENTS), fc.string({ unit: anyChar, maxLength: 4 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat() }),
);

function applyEdit(text: string, e: TextEdit): string {
  const at = text.length === 0 ? 0 : e.at % (text.length + 1);
  switch (e.op) {
    case 'insert':
      return text.slice(0, at) + e.s + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.n);
    case 'truncate':
      return text.slice(0, at);
    case 'indent':
    case 'swap-lines': {
      const lines = text.split('\n');
      const i = e.at % lines.length;
      const line = lines[i] ?? '';
      if (e.op === 'indent') lines[i] = e.by >= 0 ? ' '.repeat(e.by) + line : line.replace(new RegExp(`^ {0,${-e.by}}`), '');
      else [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length] ?? '', line];
      return lines.join('\n');
    }
  }
}

/** How the text reaches the decoder: as a string or as UTF-8 bytes, with or without BOM and CRLF. */
type Encoding = { bytes: boolean; bom: boolean; crlf: boolean };
const encoding: fc.Arbitrary<Encoding> = fc.record({ bytes: fc.boolean(), bom: fc.boolean(), crlf: fc.boolean() });

function encode(text: string, enc: Encoding): string | Uint8Array {
  const t = (enc.bom ? '\uFEFF' : '') + (enc.crlf ? text.replace(/\n/g, '\r\n') : text);
  return enc.bytes ? new TextEncoder().encode(t) : t;
}

const source = fc.constantFrom<Case['source']>('file', 'http');

// ---------------------------------------------------------------------------------------------
// Hostile inputs. Each generator yields a small recipe that the property builds into text, so a failure
// prints the recipe, not megabytes.

const POD_HEAD = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz\nspec:\n  containers:\n  - name: a\n    image: busybox\n';

// Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, surrogates, past U+10FFFF, cut short.
const INVALID_UTF8 = [[0xff], [0xfe], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];

/** Binary junk: random bytes (NUL included), a manifest with invalid UTF-8 spliced in, UTF-16, gzip. */
const binary: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.array(fc.constantFrom(0x00, 0x0a, 0x20, 0x3a, 0x2d, 0x5b, 0x7b, 0x80, 0xc3, 0xed, 0xff), { maxLength: 200 }).map((b) => Uint8Array.from(b)),
  fc.tuple(mutatedPod, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INVALID_UTF8)), { minLength: 1, maxLength: 3 })).map(([pod, cuts]) => {
    const bytes = [...new TextEncoder().encode(render(pod, 'yaml'))];
    for (const [at, seq] of cuts) bytes.splice(at % (bytes.length + 1), 0, ...seq);
    return Uint8Array.from(bytes);
  }),
  // UTF-16: its BOM is not UTF-8; without one, its NULs are, and it fails as YAML instead.
  fc.tuple(validPod, fc.boolean()).map(([pod, bom]) => Uint8Array.from(Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(render(pod, 'yaml'), 'utf16le')]))),
  fc.uint8Array({ maxLength: 100 }).map((rest) => Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, ...rest])),
);

type DeepShape = 'flow-seq' | 'flow-map' | 'json' | 'mixed-flow' | 'block-map' | 'block-seq' | 'block-seq-inline';
interface DeepRecipe {
  shape: DeepShape;
  depth: number;
  closed: boolean;
  where: 'root' | 'command' | 'unknown-field';
}
/** Deep nesting of maps and sequences: shallow, right at the flow-depth limit, or far past it. */
const deep: fc.Arbitrary<DeepRecipe> = fc.record({
  shape: fc.constantFrom<DeepShape>('flow-seq', 'flow-map', 'json', 'mixed-flow', 'block-map', 'block-seq', 'block-seq-inline'),
  depth: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_FLOW_DEPTH - 2, max: MAX_FLOW_DEPTH + 2 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20000 }) },
  ),
  closed: fc.boolean(),
  where: fc.constantFrom<DeepRecipe['where']>('root', 'command', 'unknown-field'),
});

function buildDeep(r: DeepRecipe): string {
  const indent = r.where === 'root' ? 0 : 6;
  // Indented block nesting grows as depth², so it stops at a depth that still fits in a few MB.
  const d = r.shape === 'block-map' || r.shape === 'block-seq' ? Math.min(r.depth, 2000) : r.depth;
  let value: string;
  switch (r.shape) {
    case 'flow-seq':
      value = '['.repeat(d) + (r.closed ? 'x' + ']'.repeat(d) : '');
      break;
    case 'flow-map':
      value = '{a: '.repeat(d) + (r.closed ? '1' + '}'.repeat(d) : '');
      break;
    case 'json':
      value = '{"a":'.repeat(d) + (r.closed ? '1' + '}'.repeat(d) : '');
      break;
    case 'mixed-flow':
      value = '[{"a": '.repeat(Math.ceil(d / 2)) + (r.closed ? '1' + '}]'.repeat(Math.ceil(d / 2)) : '');
      break;
    case 'block-map':
    case 'block-seq': {
      const step = r.shape === 'block-map' ? 'a:' : '-';
      const lines = Array.from({ length: d }, (_, i) => ' '.repeat(indent + i) + step);
      value = (r.where === 'root' ? '' : '\n') + lines.join('\n') + (r.closed ? ' 1' : '');
      break;
    }
    case 'block-seq-inline':
      value = (r.where === 'root' ? '' : '\n' + ' '.repeat(indent)) + '- '.repeat(d) + (r.closed ? '1' : '');
      break;
  }
  if (r.where === 'root') return value + '\n';
  if (r.where === 'command') return `${POD_HEAD}    command: ${value}\n`;
  return `${POD_HEAD}  x-deep: ${value.replace(/\n {6}/g, '\n    ')}\n`;
}

interface AliasRecipe {
  levels: number;
  width: number;
  style: 'flow' | 'block' | 'merge';
  inPod: boolean;
  twist: 'none' | 'alias-first' | 'cycle' | 'unknown-alias' | 'anchor-redefined';
}
/** Billion-laughs documents: `levels` anchors, each aliasing the one before `width` times. */
const aliasBomb: fc.Arbitrary<AliasRecipe> = fc.record({
  levels: fc.integer({ min: 1, max: 12 }),
  width: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 10000 }) }),
  style: fc.constantFrom<AliasRecipe['style']>('flow', 'block', 'merge'),
  inPod: fc.boolean(),
  twist: fc.constantFrom<AliasRecipe['twist']>('none', 'alias-first', 'cycle', 'unknown-alias', 'anchor-redefined'),
});

function buildAliasBomb(r: AliasRecipe): string {
  // Wide levels are about the cost of many aliases, not of depth: keep about 20,000 aliases at most.
  const levels = Math.max(1, Math.min(r.levels, Math.floor(20000 / r.width)));
  const pad = r.inPod ? '  ' : '';
  const out: string[] = [];
  if (r.twist === 'alias-first') out.push(`${pad}early: *l${levels - 1}`);
  for (let i = 0; i < levels; i++) {
    const item = i === 0 ? (r.style === 'merge' ? '{k0: lol}' : 'lol') : `*l${i - 1}`;
    const items = Array<string>(r.width).fill(item);
    if (r.style === 'flow') out.push(`${pad}l${i}: &l${i} [${items.join(', ')}]`);
    else if (r.style === 'block') out.push(`${pad}l${i}: &l${i}`, ...items.map((x) => `${pad}  - ${x}`));
    else out.push(`${pad}l${i}: &l${i}`, `${pad}  k${i}: ${i}`, `${pad}  <<: [${items.join(', ')}]`);
  }
  if (r.twist === 'cycle') out.push(`${pad}c: &c [*c]`);
  if (r.twist === 'unknown-alias') out.push(`${pad}u: *nope`);
  if (r.twist === 'anchor-redefined') out.push(`${pad}r: &l0 again`, `${pad}s: *l0`);
  return r.inPod ? `${POD_HEAD}  env:\n  - name: X\n    value: *l0\nx-lol:\n${out.join('\n')}\n` : out.join('\n') + '\n';
}

type WideShape = 'map' | 'flow-map' | 'seq' | 'flow-seq' | 'labels' | 'bad-labels' | 'unknown-json' | 'env' | 'ports' | 'containers' | 'volumes' | 'anchors' | 'documents';
interface WideRecipe {
  shape: WideShape;
  n: number;
  duplicate: boolean;
}
/** Wide collections: tens of thousands of keys, items, containers or documents. */
const wide: fc.Arbitrary<WideRecipe> = fc.record({
  shape: fc.constantFrom<WideShape>('map', 'flow-map', 'seq', 'flow-seq', 'labels', 'bad-labels', 'unknown-json', 'env', 'ports', 'containers', 'volumes', 'anchors', 'documents'),
  n: fc.integer({ min: 1000, max: 30000 }),
  duplicate: fc.boolean(),
});

function buildWide(r: WideRecipe): string {
  const n = r.shape === 'documents' || r.shape === 'containers' || r.shape === 'volumes' ? Math.min(r.n, 5000) : r.n;
  const idx = Array.from({ length: n }, (_, i) => i);
  if (r.duplicate) idx.push(0);
  const head = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: wide\n';
  switch (r.shape) {
    case 'map':
      return idx.map((i) => `k${i}: ${i}`).join('\n') + '\n';
    case 'flow-map':
      return `{${idx.map((i) => `"k${i}": ${i}`).join(', ')}}`;
    case 'seq':
      return idx.map((i) => `- ${i}`).join('\n') + '\n';
    case 'flow-seq':
      return `[${idx.join(',')}]`;
    case 'labels':
      return `${head}  labels:\n${idx.map((i) => `    k${i}: v${i}`).join('\n')}\nspec:\n  containers: [{name: a, image: b}]\n`;
    case 'bad-labels':
      return `${head}  labels:\n${idx.map((i) => `    k${i}: "v!${i}"`).join('\n')}\nspec:\n  containers: [{name: a, image: b}]\n`;
    case 'unknown-json': {
      // One line: every unknown field is looked for on the same line.
      const spec: Record<string, unknown> = { containers: [{ name: 'a', image: 'b' }] };
      for (const i of idx) spec[`hostNetwor${i}`] = true;
      return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide' }, spec });
    }
    case 'env':
      return `${head}spec:\n  containers:\n  - name: a\n    image: b\n    env:\n${idx.map((i) => `    - {name: E${i}, value: v}`).join('\n')}\n`;
    case 'ports':
      return `${head}spec:\n  containers:\n  - name: a\n    image: b\n    ports:\n${idx.map((i) => `    - {containerPort: ${(i % 65535) + 1}, name: p${i.toString(36)}}`).join('\n')}\n`;
    case 'containers':
      return `${head}spec:\n  containers:\n${idx.map((i) => `  - {name: c${i}, image: b, volumeMounts: [{name: v${i}, mountPath: /m}]}`).join('\n')}\n`;
    case 'volumes':
      return `${head}spec:\n  containers:\n  - name: a\n    image: b\n    volumeMounts:\n${idx.map((i) => `    - {name: v${i}, mountPath: /m${i}}`).join('\n')}\n  volumes:\n${idx.map((i) => `  - {name: v${i}, emptyDir: {}}`).join('\n')}\n`;
    case 'anchors':
      return `a: &a0 x\n${idx.map((i) => `k${i}: &a${i + 1} *a${i}`).join('\n')}\n`;
    case 'documents':
      return idx.map((i) => `${head}  labels: {i: "${i}"}\nspec:\n  containers: [{name: a, image: b}]\n`).join('---\n');
  }
}

type HugeKind = 'plain' | 'double' | 'escapes' | 'single-multibyte' | 'literal' | 'folded' | 'astral' | 'annotation' | 'key' | 'root' | 'comment' | 'json' | 'kind' | 'json-unknown-key' | 'json-label-key' | 'stray-token';
interface HugeRecipe {
  kind: HugeKind;
  bytes: number;
  asBytes: boolean;
}
/** Multi-MB scalars, many of them right at or past the 10 MiB limit. */
const huge: fc.Arbitrary<HugeRecipe> = fc.record({
  kind: fc.constantFrom<HugeKind>('plain', 'double', 'escapes', 'single-multibyte', 'literal', 'folded', 'astral', 'annotation', 'key', 'root', 'comment', 'json', 'kind', 'json-unknown-key', 'json-label-key', 'stray-token'),
  bytes: fc.constantFrom(1 << 20, 4 << 20, MAX_MANIFEST_BYTES - 4096, MAX_MANIFEST_BYTES, MAX_MANIFEST_BYTES + 1, MAX_MANIFEST_BYTES + 4096, 2 * MAX_MANIFEST_BYTES),
  asBytes: fc.boolean(),
});

/** A manifest of exactly `r.bytes` bytes of UTF-8, most of them one scalar. */
function buildHuge(r: HugeRecipe): string {
  const image = `${POD_HEAD.replace('    image: busybox\n', '')}    image: `;
  const recipes: Record<HugeKind, [string, string, string]> = {
    plain: [image, 'x', '\n'],
    double: [image + '"', 'x', '"\n'],
    escapes: [image + '"', '\\n', '"\n'],
    'single-multibyte': [image + "'", '€', "'\n"],
    literal: [image + '|\n', '      ' + 'y'.repeat(73) + '\n', ''],
    folded: [image + '>\n', '      ' + 'y'.repeat(73) + '\n', ''],
    astral: [image, '😀', '\n'],
    annotation: ['apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n    a: ', 'é', '\nspec:\n  containers: [{name: a, image: b}]\n'],
    key: ['', 'k', ': 1\n'],
    root: ['', 'r', '\n'],
    comment: [POD_HEAD + '# ', 'c', '\n'],
    json: ['{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big"},"spec":{"containers":[{"name":"a","image":"', 'x', '"}]}}'],
    kind: ['apiVersion: v1\nkind: ', 'k', '\n'],
    'json-unknown-key': ['{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big"},"spec":{"containers":[{"name":"a","image":"b"}],"', 'u', '":1}}'],
    'json-label-key': ['{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big","labels":{"', 'l', '":1}},"spec":{"containers":[{"name":"a","image":"b"}]}}'],
    // yaml quotes the token it did not expect in its message.
    'stray-token': ['--- |\n  t\n---{\n  a: ', 's', '\n'],
  };
  const [head, unit, tail] = recipes[r.kind];
  const fill = r.bytes - Buffer.byteLength(head) - Buffer.byteLength(tail);
  const n = Math.floor(fill / Buffer.byteLength(unit));
  return head + unit.repeat(n) + 'x'.repeat(fill - n * Buffer.byteLength(unit)) + tail;
}

// A document of a multi-document stream: pods, mutated pods, pod lists, junk, or nothing.
const podList = fc
  .record({
    kind: fc.constantFrom('PodList', 'List'),
    items: fc.array(fc.oneof(validPod, mutatedPod, validPod.map(({ kind: _k, apiVersion: _a, ...rest }) => rest)), { maxLength: 3 }),
  })
  .map((l) => ({ apiVersion: 'v1', ...l }));
const streamDoc = fc.oneof(
  fc.tuple(fc.oneof(validPod, mutatedPod, podList), form).map(([v, f]) => render(v, f)),
  yamlish,
  fc.constantFrom('', '# only a comment\n', 'null\n', '~\n', '[]\n', '{}\n', '--- |\n  text\n'),
);
const separator = fc.constantFrom('---\n', '--- \n', '\n---\n', '...\n---\n', '---\n# c\n', '--- !!map\n', '...\n', '---');
/** Multi-document YAML streams, perhaps behind a directive. */
const stream = fc
  .tuple(fc.constantFrom('', '%YAML 1.1\n---\n', '%YAML 1.2\n---\n', '%TAG !k! tag:k8s,2024:\n---\n', '---\n'), fc.array(fc.tuple(streamDoc, separator), { maxLength: 6 }))
  .map(([directive, docs]) => directive + docs.map(([d, sep]) => (d.endsWith('\n') || d === '' ? d : d + '\n') + sep).join(''));

// ---------------------------------------------------------------------------------------------
// Properties

describe('fuzz: decode → validate → default lets out only located NodeletErrors, quickly', () => {
  it('holds for valid pods with mutated fields, written as YAML or JSON and perhaps damaged as text', () => {
    fc.assert(
      fc.property(mutatedPod, form, fc.array(textEdit, { maxLength: 2 }), encoding, source, (pod, f, edits, enc, src) => {
        const text = edits.reduce(applyEdit, render(pod, f));
        check({ input: encode(text, enc), source: src });
      }),
      { numRuns: runs(0.45) },
    );
  });
  it('holds for random text, YAML-like or not', () => {
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ unit: anyChar, maxLength: 300 }), fc.tuple(fc.jsonValue(), form).map(([v, f]) => render(v, f))), source, (text, src) => {
        check({ input: text, source: src });
      }),
      { numRuns: runs(0.25) },
    );
  });

  it('holds for binary junk and invalid UTF-8, which are refused as a whole file', () => {
    fc.assert(
      fc.property(binary, source, (bytes, src) => {
        check({ input: bytes, source: src });
      }),
      { numRuns: runs(0.12) },
    );
  });

  it('holds for multi-document YAML streams', () => {
    fc.assert(
      fc.property(stream, encoding, source, (text, enc, src) => {
        check({ input: encode(text, enc), source: src });
      }),
      { numRuns: runs(0.1) },
    );
  });

  it('holds for deep nesting of maps and sequences', () => {
    fc.assert(
      fc.property(deep, source, (r, src) => {
        check({ input: buildDeep(r), source: src });
      }),
      { numRuns: runs(0.04) },
    );
  });

  it('holds for alias bombs, which are refused before they expand', () => {
    fc.assert(
      fc.property(aliasBomb, source, (r, src) => {
        const errors = check({ input: buildAliasBomb(r), source: src });
        // The last level alone expands width^(levels-1) aliases.
        const levels = Math.max(1, Math.min(r.levels, Math.floor(20000 / r.width)));
        if (r.width ** (levels - 1) > 1000) assert.ok(errors.length > 0, 'a bomb was expanded');
      }),
      { numRuns: runs(0.04) },
    );
  });

  it('holds for wide maps, lists and streams', () => {
    fc.assert(
      fc.property(wide, source, (r, src) => {
        check({ input: buildWide(r), source: src });
      }),
      { numRuns: runs(0.0004) },
    );
  });

  it('holds for multi-MB scalars, and refuses what is past the size limit as a whole file', () => {
    fc.assert(
      fc.property(huge, source, (r, src) => {
        const text = buildHuge(r);
        const errors = check({ input: r.asBytes ? new TextEncoder().encode(text) : text, source: src });
        const tooLarge = errors.filter((e) => e.code === ManifestErrorCode.ManifestTooLarge);
        assert.equal(tooLarge.length, r.bytes > MAX_MANIFEST_BYTES ? 1 : 0, `${r.bytes} bytes: ${errors.map((e) => e.located).join('; ')}`);
      }),
      { numRuns: runs(0.0002) },
    );
  });
});

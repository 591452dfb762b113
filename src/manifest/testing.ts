// Test helpers of the manifest package (excluded from the build, which is why the fast-check
// generators live here too: a file of another name would ship in dist/): fixtures, dedent, a
// decode-and-validate shortcut that keeps the source locator, as loadPodManifest does, and the
// generators of valid and mutated pods shared by the property and fuzz tests.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { NodeletError } from '../errors.js';
import type { Pod } from '../api/types.js';
import { decodePods } from './decode.js';
import type { LoadOptions } from './load.js';
import { validatePod } from './validate.js';

/** The directory of sample manifests. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../test/fixtures/manifests/', import.meta.url));

/** The bytes of a sample manifest in test/fixtures/manifests. */
export function fixture(name: string): Buffer {
  return readFileSync(FIXTURES_DIR + name);
}

/** Strips the common indentation and the first newline of a template literal, so YAML can be inlined. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n').replace(/[ ]+$/, '');
}

/** Load options for tests: node `node-1`, file source, a fixed first-seen time. */
export function loadOpts(overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    file: 'web.yaml',
    nodeName: 'node-1',
    source: 'file',
    origin: '/etc/kubernetes/manifests/web.yaml',
    seenAt: new Date('2026-11-25T15:04:05.123Z'),
    ...overrides,
  };
}

/** Decodes one pod from YAML text and validates it with locations; decode errors are returned too. */
export function validateText(text: string, file = 'web.yaml', nodeName = 'node-1'): NodeletError[] {
  const d = decodePods(text, file, { allowList: false });
  if (!d.ok) return d.errors;
  const first = d.pods[0];
  if (!first) throw new Error('no pod decoded');
  return validatePod(first.pod, { file, locate: first.locate, nodeName });
}

/** A minimal valid manifest with `spec` lines appended under `spec:` (indented by 2). */
export function podWithSpec(specLines: string): string {
  const indented = specLines
    .split('\n')
    .map((l) => (l.trim() === '' ? l : `  ${l}`))
    .join('\n');
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n${indented}\n`;
}

// ---------------------------------------------------------------------------------------------
// Generators (fast-check)

const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,12}[a-z0-9])?$/);
const portName = fc.stringMatching(/^[a-z]{1,4}(-[a-z0-9]{1,3}){0,2}$/);
// Printable ASCII other than '=' (the relaxed env var name rule).
const envName = fc.stringMatching(/^[!-<>-~ ]{1,16}$/);
const labelKey = fc.tuple(fc.option(fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{2,5}){0,2}$/), { nil: undefined }), fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?$/))
  .map(([prefix, name]) => (prefix ? `${prefix}/${name}` : name));
const labelValue = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?$/);
// Code points, mostly ASCII. (Built from integers: fast-check's own full-Unicode units build a
// 1.1-million-entry reverse map on first use, which costs more than the whole property.)
const codePoint = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0x10ffff }));
export const anyChar = codePoint.map((cp) => (cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)));
const validChar = codePoint.map((cp) => (cp >= 0xd800 && cp <= 0xdfff ? 'x' : String.fromCodePoint(cp)));
// Any text a UTF-8 file can hold: strings of whole code points, including YAML-significant ones.
const text = fc.oneof(
  fc.string({ unit: validChar, maxLength: 30 }),
  fc.constantFrom('yes', 'no', 'y', 'n', 'on', 'off', 'true', 'null', '~', '0644', '0x1F', '1_000', '1e3', '.inf', '2001-12-14', '- a', 'a: b', '#x', '&a', '*a', '!!str', '<<', '', ' ', '"', "'"),
);
const port = fc.integer({ min: 1, max: 65535 });

/** Builds an object from entries, leaving out undefined values. */
function obj(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const quantityPair = fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 4000 }), fc.nat(3)).map(([a, b, style]) => {
  const [req, lim] = a <= b ? [a, b] : [b, a];
  const fmt = (m: number) => [`${m}m`, String(m / 1000), m / 1000, `${m}e-3`][style] as string | number;
  return { req: fmt(req), lim: fmt(lim) };
});
const memoryPair = fc.tuple(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 0, max: 1024 })).map(([lim, less]) => ({
  lim: `${lim}Mi`,
  req: `${Math.max(0, lim - less) * 1024}Ki`,
}));

interface VolumeSpec {
  name: string;
  source: Record<string, unknown>;
}
const volumeSource = fc.oneof(
  fc.stringMatching(/^(\/[a-z0-9]{1,6}){1,3}$/).map((path) => ({ hostPath: { path } })),
  fc.constant({ emptyDir: {} }),
  fc.constant({ downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }),
);

const containerArb = (name: string, volumes: VolumeSpec[]) =>
  fc
    .record({
      image: maybe(fc.constantFrom('nginx', 'nginx:1.27', 'busybox:latest', 'registry:5000/a/b@sha256:abc')),
      command: maybe(fc.array(text, { maxLength: 2 })),
      env: maybe(
        fc.uniqueArray(fc.record({ name: envName, value: text }), { maxLength: 3, selector: (e) => e.name }),
      ),
      ports: maybe(
        fc.uniqueArray(fc.record({ name: portName, containerPort: port, protocol: maybe(fc.constantFrom('TCP', 'UDP', 'SCTP')) }), {
          maxLength: 2,
          selector: (p) => p.name,
        }),
      ),
      cpu: maybe(quantityPair),
      memory: maybe(memoryPair),
      mounts: fc.subarray(volumes),
    })
    .map((c) =>
      obj({
        name,
        image: c.image,
        command: c.command,
        env: c.env,
        ports: c.ports?.map((p) => obj(p)),
        resources:
          c.cpu || c.memory
            ? {
                limits: obj({ cpu: c.cpu?.lim, memory: c.memory?.lim }),
                requests: obj({ cpu: c.cpu?.req, memory: c.memory?.req }),
              }
            : undefined,
        volumeMounts: c.mounts.length > 0 ? c.mounts.map((v) => ({ name: v.name, mountPath: `/mnt/${v.name}` })) : undefined,
      }),
    );

/** Valid static pods, as a user might write them. */
export const validPod: fc.Arbitrary<Pod> = fc
  .record({
    name: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}$/),
    namespace: maybe(dnsLabel),
    labels: maybe(fc.dictionary(labelKey, labelValue, { maxKeys: 3 })),
    annotations: maybe(fc.dictionary(labelKey, text, { maxKeys: 2 })),
    names: fc.uniqueArray(dnsLabel, { minLength: 1, maxLength: 3 }),
    initCount: fc.nat(1),
    volumes: fc.uniqueArray(fc.record({ name: dnsLabel, source: volumeSource }), { maxLength: 3, selector: (v) => v.name }),
    restartPolicy: maybe(fc.constantFrom('Always', 'OnFailure', 'Never')),
    grace: maybe(fc.nat(600)),
    hostNetwork: maybe(fc.boolean()),
  })
  .chain((p) => {
    const initNames = p.names.length > 1 ? p.names.slice(0, p.initCount) : [];
    const mainNames = p.names.slice(initNames.length);
    return fc
      .tuple(
        fc.tuple(...initNames.map((n) => containerArb(n, p.volumes))),
        fc.tuple(...mainNames.map((n) => containerArb(n, p.volumes))),
      )
      .map(([init, main]) => {
        // With the host's network, host ports default to container ports: keep them distinct.
        if (p.hostNetwork) for (const c of main) delete c.ports;
        return {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: obj({ name: p.name, namespace: p.namespace, labels: p.labels, annotations: p.annotations }),
          spec: obj({
            initContainers: init.length > 0 ? init : undefined,
            containers: main,
            volumes: p.volumes.length > 0 ? p.volumes.map((v) => ({ name: v.name, ...v.source })) : undefined,
            restartPolicy: p.restartPolicy,
            terminationGracePeriodSeconds: p.grace,
            hostNetwork: p.hostNetwork,
          }),
        } as unknown as Pod;
      });
  });

/** A deterministic shuffle of every object's keys (arrays keep their order: order is content). */
export function shuffleKeys(value: unknown, seed: number): unknown {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
    }
    return Object.fromEntries(keys.map((k) => [k, walk((v as Record<string, unknown>)[k])]));
  };
  return walk(value);
}

/** Every path into a JSON value, for mutations. */
export function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

/** A copy of `value` with the node at one of its paths replaced (or deleted when `replacement` is undefined). */
export function mutate(value: unknown, pick: number, replacement: unknown): unknown {
  const all = paths(value);
  const path = all[pick % all.length] ?? [];
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined && !Array.isArray(node)) delete node[last];
  else node[last] = replacement ?? null;
  return copy;
}

/** Fragments that make random text look like YAML, so the parser's corners get visited. */
export const YAML_FRAGMENTS: readonly string[] = [
  'apiVersion: v1\n', 'kind: Pod\n', 'kind: PodList\n', 'items:\n', 'metadata:\n', '  name: web\n', 'spec:\n', '  containers:\n',
  '  - name: a\n', ':', ' ', '  ', '\n', '\t', '-', '- ', '[', ']', '{', '}', ',', '&a ', '*a', '"', "'", '#', '---\n', '...\n',
  '|', '>', '!!str ', '!!binary ', '!!set ', '!!omap ', '!foo ', '<<: *a\n', '? ', '%YAML 1.2\n', '%TAG ! x\n', '\\', '\u00e9', '\ufeff', '\u0000', 'null', 'yes', '0644',
];

/** Random text built mostly of YAML fragments. */
export const yamlish = fc
  .array(fc.oneof(fc.constantFrom(...YAML_FRAGMENTS), fc.string({ maxLength: 5 })), { maxLength: 40 })
  .map((parts) => parts.join(''));

/** Reads the node at `path` of a JSON value (undefined when the path leads nowhere). */
function getAt(value: unknown, path: (string | number)[]): unknown {
  let node = value;
  for (const key of path) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  return node;
}

// Numbers a field of a Pod may not hold: negative, fractional, past int32/int64/2^53, not finite.
const badNumber = fc.constantFrom(-1, -0, 0, 0.5, 65536, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e21, 1e308, -1e308, Number.MIN_VALUE, NaN, Infinity, -Infinity);

// Names that break DNS-label/subdomain, path and YAML 1.1 rules.
const badName = fc.oneof(
  fc.constantFrom('', 'A', 'Web', '-a', 'a-', 'a_b', 'a..b', '.', '..', '../etc/passwd', 'a/b', ' a', 'a ', 'a\nb', 'a\0b', 'é', '\u202ex', 'web:1', '*', '~', 'null', 'yes', '0644', '1e3'),
  fc.integer({ min: 54, max: 300 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: anyChar, maxLength: 20 }),
);

/** One edit of a decoded pod: what happens to the field at a random path. */
export type PodMutation =
  | { op: 'delete' }
  | { op: 'replace'; value: unknown }
  | { op: 'retype'; choice: number }
  | { op: 'number'; value: number }
  | { op: 'name'; value: string }
  | { op: 'rename'; key: string };

const podMutation: fc.Arbitrary<PodMutation> = fc.oneof(
  fc.constant({ op: 'delete' as const }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => ({ op: 'replace' as const, value })),
  fc.nat().map((choice) => ({ op: 'retype' as const, choice })),
  badNumber.map((value) => ({ op: 'number' as const, value })),
  badName.map((value) => ({ op: 'name' as const, value })),
  fc.oneof(fc.constantFrom('comand', 'Name', 'image ', 'containers', 'metadata', '__proto__', 'constructor', 'x.y', '[0]', ''), fc.string({ maxLength: 8 })).map(
    (key) => ({ op: 'rename' as const, key }),
  ),
);

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

// A value of another JSON type than `old`, so each field also meets the types it does not expect.
function otherType(old: unknown, choice: number): unknown {
  const all = ['80', 80, 80.5, true, null, [], ['x'], {}, { a: 1 }];
  const others = all.filter((v) => typeName(v) !== typeName(old));
  return others[choice % others.length];
}

/** A copy of `value` with one mutation applied at the `pick`-th of the paths it fits. */
export function applyMutation(value: unknown, pick: number, m: PodMutation): unknown {
  const all = paths(value);
  const fits = all.filter((p) => {
    const v = getAt(value, p);
    if (m.op === 'number') return typeof v === 'number';
    if (m.op === 'name') return typeof v === 'string';
    if (m.op === 'rename') return typeof p[p.length - 1] === 'string';
    return true;
  });
  const pool = fits.length > 0 ? fits : all;
  const path = pool[pick % pool.length] ?? [];
  if (path.length === 0) return m.op === 'delete' || m.op === 'rename' ? {} : m.op === 'replace' ? m.value : null;
  const copy = structuredClone(value);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  const old = parent[last];
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
      break;
    case 'replace':
      parent[last] = m.value;
      break;
    case 'retype':
      parent[last] = otherType(old, m.choice);
      break;
    case 'number':
    case 'name':
      parent[last] = m.value;
      break;
    case 'rename':
      delete parent[last];
      Object.defineProperty(parent, m.key, { value: old, enumerable: true, writable: true, configurable: true });
      break;
  }
  return copy;
}

/** Valid pods with zero to three mutations (delete, replace, retype, bad numbers, bad names, renamed keys). */
export const mutatedPod: fc.Arbitrary<unknown> = fc
  .tuple(validPod, fc.array(fc.tuple(fc.nat(), podMutation), { maxLength: 3 }))
  .map(([pod, edits]) => edits.reduce<unknown>((v, [pick, m]) => applyMutation(v, pick, m), pod));

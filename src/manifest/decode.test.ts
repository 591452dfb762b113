import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeManifest, decodePods, MAX_MANIFEST_BYTES } from './decode.js';
import { yaml } from './testing.js';

const POD = yaml`
  apiVersion: v1
  kind: Pod
  metadata:
    name: web
  spec:
    containers:
    - name: web
`;

interface ErrorCase {
  name: string;
  input: string | Uint8Array;
  code: string;
  /** Substring of the message. */
  message: string;
  line?: number;
  column?: number;
  allowList?: boolean;
}

// Every decode error: its code, its message and where it points.
const errorCases: ErrorCase[] = [
  { name: 'an empty file has no pod', input: '', code: 'InvalidManifest', message: 'no pod in file' },
  { name: 'a file of comments has no pod', input: '# nothing here\n# at all\n', code: 'InvalidManifest', message: 'no pod in file' },
  { name: 'only document separators is no pod', input: '---\n---\n', code: 'InvalidManifest', message: 'no pod in file' },
  {
    name: 'a YAML indentation error points at the line and column',
    input: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: a\n      image: b\n     command: [x]\n',
    code: 'InvalidManifest',
    message: 'syntax error',
    line: 9,
    column: 6,
  },
  {
    name: 'a JSON syntax error has a line and column',
    input: '{\n  "apiVersion": "v1",\n  "kind": "Pod",,\n  "metadata": {}\n}\n',
    code: 'InvalidManifest',
    message: 'syntax error',
    line: 3,
    column: 17,
  },
  {
    name: 'an unterminated JSON object is an error',
    input: '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}',
    code: 'InvalidManifest',
    message: 'syntax error',
    line: 1,
  },
  {
    name: 'a duplicate YAML key names the key and its position',
    input: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n',
    code: 'InvalidManifest',
    message: 'duplicate key "name"',
    line: 5,
    column: 3,
  },
  {
    name: 'a duplicate JSON key names the key and its position',
    input: '{"apiVersion": "v1",\n "kind": "Pod",\n "kind": "Pod"}',
    code: 'InvalidManifest',
    message: 'duplicate key "kind"',
    line: 3,
    column: 2,
  },
  {
    name: 'kind Deployment is not supported',
    input: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n',
    code: 'UnsupportedKind',
    message: 'kind Deployment is not supported: static pods can only be Pods',
    line: 2,
    column: 7,
  },
  {
    name: 'a PodList is not a static pod file',
    input: 'apiVersion: v1\nkind: PodList\nitems: []\n',
    code: 'UnsupportedKind',
    message: 'kind PodList is not supported: static pods can only be Pods',
    line: 2,
    column: 7,
  },
  { name: 'a missing kind is reported', input: 'apiVersion: v1\nmetadata:\n  name: web\n', code: 'InvalidManifest', message: 'kind is missing', line: 1, column: 1 },
  { name: 'a missing apiVersion is reported', input: 'kind: Pod\nmetadata:\n  name: web\n', code: 'InvalidManifest', message: 'apiVersion is missing', line: 1, column: 1 },
  { name: 'a kind that is not a string is reported', input: 'apiVersion: v1\nkind: [Pod]\n', code: 'InvalidManifest', message: 'kind must be a string', line: 2, column: 7 },
  {
    name: 'apiVersion of a Pod must be v1',
    input: 'apiVersion: apps/v1\nkind: Pod\nmetadata:\n  name: web\n',
    code: 'UnsupportedKind',
    message: 'apiVersion apps/v1 is not supported for kind Pod',
    line: 1,
    column: 13,
  },
  { name: 'a list at the top is not a pod', input: '- a\n- b\n', code: 'InvalidManifest', message: 'expected a Pod object, got a list', line: 1, column: 1 },
  { name: 'a scalar at the top is not a pod', input: 'hello\n', code: 'InvalidManifest', message: 'expected a Pod object, got a string', line: 1, column: 1 },
  {
    name: 'two documents in a static pod file are refused at the second',
    input: `${POD}---\n${POD}`,
    code: 'InvalidManifest',
    message: 'exactly one Pod, found 2 YAML documents',
    line: 9,
    column: 1,
  },
  {
    name: 'invalid UTF-8 is refused',
    input: new Uint8Array([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]),
    code: 'InvalidManifest',
    message: 'not valid UTF-8',
  },
  {
    name: 'an alias without its anchor is refused at the alias',
    input: 'apiVersion: v1\nkind: Pod\nmetadata: *nothing\n',
    code: 'InvalidManifest',
    message: 'unknown YAML alias *nothing',
    line: 3,
    column: 11,
  },
  {
    name: 'a recursive alias is refused',
    input: 'apiVersion: v1\nkind: Pod\nmetadata: &m\n  self: *m\n',
    code: 'InvalidManifest',
    message: 'cycle',
  },
  {
    // yaml's own line counter skips the line breaks inside tokens it cannot place (after `---{`).
    name: 'errors after a broken document start keep their true lines',
    input: '--- |\n  text\n---{\n  a: v1,\n  b: c,\n',
    code: 'InvalidManifest',
    message: 'Unexpected map-value-ind token',
    line: 4,
    column: 4,
    allowList: true,
  },
  {
    name: 'a list item of another kind is refused with its position (http)',
    input: 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n',
    code: 'UnsupportedKind',
    message: 'kind Service is not supported: static pods can only be Pods',
    line: 8,
    column: 9,
    allowList: true,
  },
  {
    name: 'items of a PodList must be a list (http)',
    input: 'apiVersion: v1\nkind: PodList\nitems: {a: 1}\n',
    code: 'InvalidManifest',
    message: 'items of a PodList must be a list',
    line: 3,
    column: 8,
    allowList: true,
  },
];

describe('decodePods errors', () => {
  for (const c of errorCases) {
    it(c.name, () => {
      const res = decodePods(c.input, 'web.yaml', { allowList: c.allowList ?? false });
      assert.equal(res.ok, false, 'expected an error');
      if (res.ok) return;
      const err = res.errors.find((e) => e.message.includes(c.message));
      assert.ok(err, `no error containing ${JSON.stringify(c.message)} in ${JSON.stringify(res.errors.map((e) => e.located))}`);
      assert.equal(err.code, c.code);
      assert.equal(err.details.file, 'web.yaml');
      if (c.line !== undefined) assert.equal(err.details.line, c.line, err.located);
      if (c.column !== undefined) assert.equal(err.details.column, c.column, err.located);
    });
  }

  it('renders a located message as file:line:col: message', () => {
    const res = decodePods('apiVersion: apps/v1\nkind: Deployment\n', 'web.yaml', { allowList: false });
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.located, 'web.yaml:2:7: kind Deployment is not supported: static pods can only be Pods');
  });

  it('reports every bad document of an http body, not just the first', () => {
    const res = decodePods('apiVersion: v1\nkind: Secret\n---\napiVersion: v1\nkind: ConfigMap\n', 'u', { allowList: true });
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.deepEqual(
      res.errors.map((e) => e.located),
      [
        'u:2:7: kind Secret is not supported: static pods can only be Pods',
        'u:5:7: kind ConfigMap is not supported: static pods can only be Pods',
      ],
    );
  });
});

describe('decodePods', () => {
  it('decodes one YAML pod with its position', () => {
    const res = decodePods(POD, 'web.yaml', { allowList: false });
    assert.ok(res.ok);
    assert.equal(res.pods.length, 1);
    assert.equal(res.pods[0]?.pod.metadata?.name, 'web');
    assert.equal(res.pods[0]?.line, 1);
    assert.equal(res.pods[0]?.column, 1);
  });

  it('decodes JSON with the same result as YAML', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web' }] } });
    const a = decodePods(json, 'web.json', { allowList: false });
    const b = decodePods(POD, 'web.yaml', { allowList: false });
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.pods[0]?.pod, b.pods[0]?.pod);
  });

  it('decodes bytes, dropping a UTF-8 byte order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(POD)]);
    const res = decodePods(bytes, 'web.yaml', { allowList: false });
    assert.ok(res.ok);
    assert.equal(res.pods[0]?.pod.kind, 'Pod');
  });

  it('ignores a leading and a trailing document separator', () => {
    const res = decodePods(`---\n${POD}---\n`, 'web.yaml', { allowList: false });
    assert.ok(res.ok, JSON.stringify(!res.ok && res.errors.map((e) => e.located)));
    assert.equal(res.pods.length, 1);
  });

  it('reads YAML 1.1 like the kubelet: 0644 is octal, merge keys merge', () => {
    const text = yaml`
      apiVersion: v1
      kind: Pod
      metadata:
        name: web
        labels: &l {app: web}
      spec:
        volumes:
        - name: info
          downwardAPI: {defaultMode: 0644}
        nodeSelector:
          <<: *l
          zone: a
        containers: [{name: web}]
    `;
    const res = decodePods(text, 'web.yaml', { allowList: false });
    assert.ok(res.ok);
    const spec = res.pods[0]?.pod.spec;
    assert.equal(spec?.volumes?.[0]?.downwardAPI?.defaultMode, 0o644);
    assert.deepEqual(spec?.nodeSelector, { app: 'web', zone: 'a' });
  });

  it('keeps timestamps as strings, as the kubelet does', () => {
    const res = decodePods('apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations: {date: 2001-12-14}\n', 'f', { allowList: false });
    assert.ok(res.ok);
    assert.equal(res.pods[0]?.pod.metadata?.annotations?.date, '2001-12-14');
  });

  it('keeps a __proto__ key as data without touching prototypes', () => {
    const res = decodePods('{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"__proto__":{"polluted":"yes"}}}}', 'f', { allowList: false });
    assert.ok(res.ok);
    const labels = res.pods[0]?.pod.metadata?.labels as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(labels, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('un-shares aliased nodes, so editing one copy does not edit the other', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - &c {name: a, env: [{name: X, value: "1"}]}\n  - *c\n';
    const res = decodePods(text, 'f', { allowList: false });
    assert.ok(res.ok);
    const cs = res.pods[0]?.pod.spec?.containers ?? [];
    assert.notEqual(cs[0], cs[1]);
    assert.deepEqual(cs[0], cs[1]);
  });

  it('decodes a PodList whose items have no kind (http)', () => {
    const text = 'apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n';
    const res = decodePods(text, 'u', { allowList: true });
    assert.ok(res.ok);
    assert.deepEqual(res.pods.map((p) => [p.pod.metadata?.name, p.pod.kind, p.pod.apiVersion, p.line, p.column]), [
      ['a', 'Pod', 'v1', 4, 3],
      ['b', 'Pod', 'v1', 5, 3],
    ]);
    // The locator of an item resolves paths inside that item.
    assert.deepEqual(res.pods[1]?.locate('metadata.name'), { line: 5, column: 20 });
  });

  it('decodes a kubectl-style List and several documents (http)', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n';
    const res = decodePods(`${list}---\n${POD}`, 'u', { allowList: true });
    assert.ok(res.ok);
    assert.deepEqual(res.pods.map((p) => p.pod.metadata?.name), ['a', 'web']);
  });

  it('treats an empty http body as zero pods', () => {
    const res = decodePods('', 'u', { allowList: true });
    assert.deepEqual(res, { ok: true, pods: [] });
  });

  it('treats an empty PodList as zero pods', () => {
    const res = decodePods('{"apiVersion":"v1","kind":"PodList","items":null}', 'u', { allowList: true });
    assert.deepEqual(res, { ok: true, pods: [] });
  });
});

describe('decodeManifest', () => {
  it('returns every document with its position', () => {
    const res = decodeManifest(`a: 1\n---\n\n  b: 2\n`, 'f');
    assert.ok(res.ok);
    assert.deepEqual(res.objects.map((o) => [o.value, o.line, o.column]), [
      [{ a: 1 }, 1, 1],
      [{ b: 2 }, 4, 3],
    ]);
  });

  it('reports "no pod in file" for an empty file', () => {
    const res = decodeManifest('   \n', 'empty.yaml');
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.located, 'empty.yaml: no pod in file');
  });

  it('caps the number of syntax errors reported', () => {
    const res = decodeManifest('a: [\n'.repeat(50), 'f');
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.ok(res.errors.length <= 10);
  });
});

describe('hostile input', () => {
  it('rejects a 50 MB string before parsing it', () => {
    const big = 'a'.repeat(50 * 1024 * 1024);
    const res = decodeManifest(big, 'big.yaml');
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.code, 'ManifestTooLarge');
    assert.match(res.errors[0]?.message ?? '', /larger than the limit of 10485760 bytes/);
  });

  it('rejects 50 MB of bytes before decoding them', () => {
    const res = decodePods(new Uint8Array(50 * 1024 * 1024), 'big.yaml', { allowList: true });
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.code, 'ManifestTooLarge');
  });

  it('rejects a string whose UTF-8 form is just over the limit', () => {
    const res = decodeManifest('é'.repeat(MAX_MANIFEST_BYTES / 2 + 1), 'f');
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.code, 'ManifestTooLarge');
  });

  it('rejects a billion-laughs alias bomb without expanding it', () => {
    const bomb = yaml`
      apiVersion: v1
      kind: Pod
      metadata:
        name: lol
        annotations:
          a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
          b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
          c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
          d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
          e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
          f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
          g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
          h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
          i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    `;
    const res = decodePods(bomb, 'lol.yaml', { allowList: false });
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.code, 'InvalidManifest');
    assert.match(res.errors[0]?.located ?? '', /^lol\.yaml:1:1: too many YAML alias expansions/);
  });

  it('checks the keys of a 30,000-key map in linear time', () => {
    // yaml's own check compares each key with every earlier one: about 20 s for this map.
    const keys = Array.from({ length: 30_000 }, (_, i) => `k${i}: ${i}`);
    const started = performance.now();
    const res = decodeManifest([...keys, 'k7: again'].join('\n'), 'wide.yaml');
    assert.ok(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms`);
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.deepEqual(res.errors.map((e) => e.located), ['wide.yaml:30001:1: duplicate key "k7": map keys must be unique']);
  });

  it('lets merge keys and .nan keys repeat, as yaml does', () => {
    const res = decodeManifest('a: &a {x: 1}\nb: &b {z: 2}\nc:\n  <<: *a\n  <<: *b\nd:\n  .nan: 1\n  .nan: 2\n', 'f.yaml');
    assert.ok(res.ok, JSON.stringify(!res.ok && res.errors.map((e) => e.located)));
    assert.deepEqual((res.objects[0]?.value as { c: unknown }).c, { x: 1, z: 2 });
  });

  it('refuses 10,000 aliases of one anchor quickly', () => {
    // Looking each alias up by walking the whole document took about 20 s here.
    const text = `a: &a 1\nb: [${Array<string>(10_000).fill('*a').join(', ')}]\n`;
    const started = performance.now();
    const res = decodeManifest(text, 'f.yaml');
    assert.ok(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms`);
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.match(res.errors[0]?.message ?? '', /too many YAML alias expansions/);
  });

  it('keeps a syntax error short when the token it quotes is huge', () => {
    const res = decodeManifest(`--- |\n  t\n---{\n  a: ${'x'.repeat(100_000)}\n`, 'f.yaml');
    assert.equal(res.ok, false);
    if (res.ok) return;
    for (const e of res.errors) assert.ok(e.message.length <= 300, `${e.message.length} characters`);
  });

  it('sends no warning to stderr for a list used as a map key', async () => {
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      decodeManifest('? [a]\n: 1\n', 'f.yaml');
      // process.emitWarning fires on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it('rejects absurdly deep nesting with a position', () => {
    const res = decodeManifest(`a: ${'['.repeat(200_000)}`, 'deep.yaml');
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.match(res.errors[0]?.message ?? '', /more than 1000 levels deep/);
    assert.equal(res.errors[0]?.details.line, 1);
    assert.equal(res.errors[0]?.details.column, 1004);
  });

  it('survives nesting just under the bracket limit', () => {
    const res = decodeManifest(`${'['.repeat(999)}${']'.repeat(999)}`, 'deep.yaml');
    // Either a value or an error is fine; it must not throw.
    assert.equal(typeof res.ok, 'boolean');
  });

  it('survives deep block nesting', () => {
    const text = Array.from({ length: 1500 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    const res = decodeManifest(text, 'deep.yaml');
    assert.equal(typeof res.ok, 'boolean');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { decodePods } from './decode.js';
import { findUnknownFields, keyLocator, KNOWN_FIELDS, UNKNOWN_FIELD } from './known-fields.js';
import { loadPodManifest } from './load.js';
import { FIXTURES_DIR, fixture, loadOpts, yaml } from './testing.js';

// Decodes one pod and returns its unknown-field warnings as `line:col: message`, the way
// loadPodManifest locates them (on the key).
function warnings(text: string): string[] {
  const d = decodePods(text, 'p.yaml', { allowList: false });
  assert.ok(d.ok, JSON.stringify(!d.ok && d.errors.map((e) => e.located)));
  const pod = d.pods[0]!;
  return findUnknownFields(pod.pod, keyLocator(text, pod.locate), 'p.yaml').map((w) => w.located);
}

// A pod with `body` (indented as under `spec:`, at column 3) spliced in.
function podWith(body: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n${body.replace(/^/gm, '  ')}\n`;
}

describe('findUnknownFields', () => {
  const cases: { name: string; spec: string; want: string[] }[] = [
    {
      name: 'a container field',
      spec: 'containers:\n- name: c\n  image: busybox\n  comand: [sh]',
      want: ['p.yaml:9:5: unknown field "spec.containers[0].comand" (did you mean "command"?)'],
    },
    {
      name: 'a field of a pod spec',
      spec: 'restartPolicy: Always\nterminationGracePeriodSecond: 3\ncontainers: [{name: c, image: busybox}]',
      want: ['p.yaml:7:3: unknown field "spec.terminationGracePeriodSecond" (did you mean "terminationGracePeriodSeconds"?)'],
    },
    {
      name: 'inside a probe handler',
      spec: 'containers:\n- name: c\n  image: busybox\n  readinessProbe:\n    httpGet:\n      paht: /healthz\n      port: 80',
      want: ['p.yaml:11:9: unknown field "spec.containers[0].readinessProbe.httpGet.paht" (did you mean "path"?)'],
    },
    {
      name: 'a probe field next to its handler',
      spec: 'containers:\n- name: c\n  image: busybox\n  livenessProbe:\n    exec: {command: ["true"]}\n    periodSecond: 3',
      want: ['p.yaml:11:7: unknown field "spec.containers[0].livenessProbe.periodSecond" (did you mean "periodSeconds"?)'],
    },
    {
      name: 'env valueFrom in an init container, in flow style',
      spec: 'initContainers:\n- name: i\n  image: busybox\n  env: [{name: A, valueFrom: {fieldRef: {feildPath: metadata.name}}}]\ncontainers: [{name: c, image: busybox}]',
      want: ['p.yaml:9:44: unknown field "spec.initContainers[0].env[0].valueFrom.fieldRef.feildPath" (did you mean "fieldPath"?)'],
    },
    {
      name: 'a volume source with the wrong case',
      spec: 'containers: [{name: c, image: busybox}]\nvolumes:\n- name: data\n  hostpath:\n    path: /srv',
      want: ['p.yaml:9:5: unknown field "spec.volumes[0].hostpath" (did you mean "hostPath"?)'],
    },
    {
      name: 'inside a downwardAPI volume item',
      spec: 'containers: [{name: c, image: busybox}]\nvolumes:\n- name: info\n  downwardAPI:\n    items:\n    - path: labels\n      fieldRef: {fieldPath: metadata.labels}\n      mod: 0644',
      want: ['p.yaml:13:9: unknown field "spec.volumes[0].downwardAPI.items[0].mod" (did you mean "mode"?)'],
    },
    {
      name: 'in a container securityContext and its capabilities',
      spec: 'containers:\n- name: c\n  image: busybox\n  securityContext:\n    runAsUsr: 1000\n    capabilities: {drop: [ALL], ad: [NET_ADMIN]}',
      want: [
        'p.yaml:10:7: unknown field "spec.containers[0].securityContext.runAsUsr" (did you mean "runAsUser"?)',
        'p.yaml:11:35: unknown field "spec.containers[0].securityContext.capabilities.ad" (did you mean "add"?)',
      ],
    },
    {
      name: 'in the pod securityContext sysctls',
      spec: 'containers: [{name: c, image: busybox}]\nsecurityContext:\n  sysctls: [{name: net.core.somaxconn, vaule: "1024"}]',
      want: ['p.yaml:8:42: unknown field "spec.securityContext.sysctls[0].vaule" (did you mean "value"?)'],
    },
    {
      name: 'deep in node affinity',
      spec:
        'containers: [{name: c, image: busybox}]\naffinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n      - matchExpression: []',
      want: [
        'p.yaml:11:11: unknown field "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpression" (did you mean "matchExpressions"?)',
      ],
    },
    {
      name: 'a field nothing resembles: no suggestion, and nothing reported inside it',
      spec: 'containers: [{name: c, image: busybox}]\nzzzzzz:\n  comand: x',
      want: ['p.yaml:7:3: unknown field "spec.zzzzzz"'],
    },
    {
      name: 'a quoted key and a key that names an Object.prototype member',
      spec: 'containers:\n- name: c\n  image: busybox\n  "constructor": 1',
      want: ['p.yaml:9:5: unknown field "spec.containers[0].constructor"'],
    },
    {
      name: 'free-form maps, status and every other volume source are not reported',
      spec: [
        'nodeSelector: {kubernetes.io/os: linux, anything: goes}',
        'overhead: {cpu: 1m}',
        'containers:',
        '- name: c',
        '  image: busybox',
        '  resources: {limits: {example.com/gpu: 1, memory: 1Gi}, requests: {cpu: 1}}',
        'volumes:',
        '- {name: a, nfs: {server: s, path: /p}}',
        '- {name: b, csi: {driver: d, volumeAttributes: {whatever: x}}}',
        '- {name: c, projected: {sources: [{serviceAccountToken: {path: t}}, {downwardAPI: {items: [{path: n, fieldRef: {fieldPath: metadata.name}}]}}]}}',
      ].join('\n'),
      want: [],
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      assert.deepEqual(warnings(podWith(c.spec)), c.want);
    });
  }

  it('reports metadata typos but not label, annotation or status contents', () => {
    const text = yaml`
      apiVersion: v1
      kind: Pod
      metadata:
        name: p
        labels: {comand: x}
        annotations: {example.com/anything: y}
        namspace: kube-system
      spec:
        containers: [{name: c, image: busybox}]
      status:
        phase: Running
        whatever: {comand: 1}
    `;
    assert.deepEqual(warnings(text), ['p.yaml:7:3: unknown field "metadata.namspace" (did you mean "namespace"?)']);
  });

  it('reports a top-level field, with details for tools', () => {
    const text = yaml`
      apiVersion: v1
      kind: Pod
      metadata: {name: p}
      sepc: {}
    `;
    const d = decodePods(text, 'p.yaml', { allowList: false });
    assert.ok(d.ok);
    const [w, ...rest] = findUnknownFields(d.pods[0]!.pod, keyLocator(text, d.pods[0]!.locate), 'p.yaml');
    assert.equal(rest.length, 0);
    assert.equal(w?.code, UNKNOWN_FIELD);
    assert.equal(w?.message, 'unknown field "sepc" (did you mean "spec"?)');
    assert.deepEqual(w?.details, { file: 'p.yaml', line: 4, column: 1, field: 'sepc' });
  });

  it('locates fields of a JSON manifest', () => {
    const text = '{\n  "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},\n  "spec": {"containers": [{"name": "c", "image": "busybox", "comand": ["sh"]}]}\n}\n';
    assert.deepEqual(warnings(text), ['p.yaml:3:61: unknown field "spec.containers[0].comand" (did you mean "command"?)']);
  });

  it('works without a locator or file, and on values that are not pods', () => {
    assert.deepEqual(
      findUnknownFields({ spec: { containers: [{ name: 'c', args: [], comand: [] }, 'not an object'] } }).map((w) => [w.located, w.details]),
      [['unknown field "spec.containers[0].comand" (did you mean "command"?)', { field: 'spec.containers[0].comand' }]],
    );
    for (const v of [null, 'x', 1, [], { spec: 'x' }, { spec: { containers: 'x' } }]) assert.deepEqual(findUnknownFields(v), []);
  });

  it('finds nothing in the valid fixtures', () => {
    for (const name of readdirSync(FIXTURES_DIR).filter((n) => n !== 'deployment.yaml' && n !== 'bad-indent.yaml')) {
      const res = loadPodManifest(fixture(name), loadOpts({ file: name }));
      assert.deepEqual(res.warnings.map((w) => w.located), [], name);
    }
  });

  it('has a type for every type it refers to', () => {
    for (const [type, fields] of Object.entries(KNOWN_FIELDS)) {
      for (const [field, kind] of Object.entries(fields)) {
        if (kind === '-' || kind === 'map' || kind === 'any') continue;
        assert.ok(KNOWN_FIELDS[kind.replace(/\[\]$/, '')], `${type}.${field}: ${kind}`);
      }
    }
  });
});

describe('loadPodManifest warnings', () => {
  it('accepts a pod with an unknown field and returns the warning', () => {
    const text = podWith('containers:\n- name: c\n  image: busybox\n  comand: [sh]');
    const res = loadPodManifest(text, loadOpts());
    assert.ok(res.ok);
    assert.deepEqual(res.warnings.map((w) => w.located), ['web.yaml:9:5: unknown field "spec.containers[0].comand" (did you mean "command"?)']);
  });

  it('returns warnings next to errors, and none when the text does not decode', () => {
    const bad = loadPodManifest(podWith('restartPolicy: Sometimes\ncontainers:\n- name: c\n  image: busybox\n  imagePullPolicy: Always\n  imagePulPolicy: Never'), loadOpts());
    assert.ok(!bad.ok);
    assert.match(bad.errors[0]?.message ?? '', /Sometimes/);
    assert.deepEqual(bad.warnings.map((w) => w.located), ['web.yaml:11:5: unknown field "spec.containers[0].imagePulPolicy" (did you mean "imagePullPolicy"?)']);
    const broken = loadPodManifest('apiVersion: v1\nkind: [', loadOpts());
    assert.ok(!broken.ok);
    assert.deepEqual(broken.warnings, []);
  });

  it('locates an unknown key that ends in brackets', () => {
    // The path `…[a][]` reads back as the empty key, and indexOf('') finds the empty string at the
    // end of the line over and over: this hung. (A path cannot name such a key: the warning points
    // at the container.)
    const res = loadPodManifest(podWith('containers:\n- name: c\n  image: busybox\n  "a][": 1'), loadOpts());
    assert.ok(res.ok);
    assert.deepEqual(res.warnings.map((w) => w.located), ['web.yaml:7:5: unknown field "spec.containers[0].a]["']);
  });

  it('locates a multi-MB unknown key without building a RegExp of it', () => {
    // `new RegExp(key)` threw "Regular expression too large" out of loadPodManifest.
    const key = 'x'.repeat(1 << 20);
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'b' }], [key]: 1 } });
    const res = loadPodManifest(text, loadOpts());
    assert.ok(res.ok);
    assert.equal(res.warnings.length, 1);
    assert.equal(res.warnings[0]?.details.line, 1);
    assert.ok((res.warnings[0]?.message.length ?? 0) <= 1000);
  });

  it('reports 20,000 unknown fields of a one-line JSON manifest quickly, suggesting for the first ones', () => {
    const spec: Record<string, unknown> = { containers: [{ name: 'c', image: 'b' }] };
    for (let i = 0; i < 20_000; i++) spec[`hostNetwor${i}`] = true;
    const started = performance.now();
    const res = loadPodManifest(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec }), loadOpts());
    // A search of the whole line per field, and an edit distance per field, took over a minute.
    assert.ok(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms`);
    assert.ok(res.ok);
    assert.equal(res.warnings.length, 20_000);
    assert.match(res.warnings[0]?.located ?? '', /^web\.yaml:1:\d+: unknown field "spec\.hostNetwor0" \(did you mean "hostNetwork"\?\)$/);
    assert.equal(res.warnings[19_999]?.message, 'unknown field "spec.hostNetwor19999"');
  });

  it('locates keys past a byte-order mark and CRLF line ends', () => {
    const text = '\uFEFF' + podWith('containers:\n- {name: c, image: busybox, comand: [sh]}').replace(/\n/g, '\r\n');
    const res = loadPodManifest(Buffer.from(text, 'utf8'), loadOpts());
    assert.ok(res.ok);
    assert.deepEqual(res.warnings.map((w) => w.located), ['web.yaml:7:31: unknown field "spec.containers[0].comand" (did you mean "command"?)']);
  });
});

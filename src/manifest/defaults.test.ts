import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.js';
import { applyStaticPodDefaults, defaultPullPolicy, formatRFC3339Nano } from './defaults.js';
import { loadOpts } from './testing.js';
import { staticPodUID } from './uid.js';

const minimal = (): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web' }] } });

describe('applyStaticPodDefaults: the kubelet layer (common.go)', () => {
  const opts = loadOpts({ nodeName: 'Node-1.Example' });

  it('names the pod <name>-<lowercased node>, binds it to the node, puts it in default', () => {
    const pod = applyStaticPodDefaults(minimal(), opts);
    assert.equal(pod.metadata?.name, 'web-node-1.example');
    assert.equal(pod.metadata?.namespace, 'default');
    assert.equal(pod.spec?.nodeName, 'Node-1.Example');
  });

  it('keeps a namespace that was given', () => {
    const p = minimal();
    p.metadata!.namespace = 'kube-system';
    assert.equal(applyStaticPodDefaults(p, opts).metadata?.namespace, 'kube-system');
  });

  it('sets the UID from the pod as given, and the config annotations', () => {
    const input = minimal();
    const pod = applyStaticPodDefaults(input, opts);
    const uid = staticPodUID(input, opts.nodeName, 'file', opts.origin);
    assert.equal(pod.metadata?.uid, uid);
    assert.deepEqual(pod.metadata?.annotations, {
      'kubernetes.io/config.hash': uid,
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.seen': '2026-11-25T15:04:05.123Z',
      'nodelet.io/config.file': '/etc/kubernetes/manifests/web.yaml',
    });
  });

  it('keeps the user annotations next to ours and overrides a forged config.hash', () => {
    const p = minimal();
    p.metadata!.annotations = { 'example.com/a': 'b', 'kubernetes.io/config.hash': 'forged' };
    const pod = applyStaticPodDefaults(p, opts);
    assert.equal(pod.metadata?.annotations?.['example.com/a'], 'b');
    assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.hash'], pod.metadata?.uid);
  });

  it('adds the NoExecute toleration to file pods, once', () => {
    const pod = applyStaticPodDefaults(minimal(), opts);
    assert.deepEqual(pod.spec?.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    const again = minimal();
    again.spec!.tolerations = [{ key: 'a', operator: 'Exists' }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }];
    assert.deepEqual(applyStaticPodDefaults(again, opts).spec?.tolerations, [
      { key: 'a', operator: 'Exists' },
      { operator: 'Exists', effect: 'NoExecute' },
    ]);
  });

  it('does not add the toleration to http pods, as the kubelet only does it for files', () => {
    const pod = applyStaticPodDefaults(minimal(), { ...opts, source: 'http', origin: 'http://x/pods' });
    assert.equal(pod.spec?.tolerations, undefined);
    assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.source'], 'http');
  });

  it('replaces any status with phase Pending', () => {
    const p: Pod = { ...minimal(), status: { phase: 'Running', podIP: '10.0.0.1' } };
    assert.deepEqual(applyStaticPodDefaults(p, opts).status, { phase: 'Pending' });
  });

  it('does not modify its input', () => {
    const input = minimal();
    const before = JSON.stringify(input);
    applyStaticPodDefaults(input, opts);
    assert.equal(JSON.stringify(input), before);
  });
});

describe('applyStaticPodDefaults: the API-server layer (core/v1/defaults.go)', () => {
  it('fills the pod spec defaults kubectl -o yaml shows', () => {
    const spec = applyStaticPodDefaults(minimal(), loadOpts()).spec!;
    assert.equal(spec.restartPolicy, 'Always');
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.equal(spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.schedulerName, 'default-scheduler');
    assert.equal(spec.enableServiceLinks, true);
    assert.deepEqual(spec.securityContext, {});
    assert.equal(spec.priority, 0);
  });

  it('keeps values that were given, including zero', () => {
    const p = minimal();
    Object.assign(p.spec!, { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, dnsPolicy: 'Default', enableServiceLinks: false, priority: 5 });
    const spec = applyStaticPodDefaults(p, loadOpts()).spec!;
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.terminationGracePeriodSeconds, 0);
    assert.equal(spec.dnsPolicy, 'Default');
    assert.equal(spec.enableServiceLinks, false);
    assert.equal(spec.priority, 5);
  });

  it('fills container defaults for containers and init containers', () => {
    const p = minimal();
    p.spec!.initContainers = [{ name: 'init', image: 'busybox:1.36' }];
    p.spec!.containers = [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }];
    const spec = applyStaticPodDefaults(p, loadOpts()).spec!;
    for (const c of [...spec.initContainers!, ...spec.containers]) {
      assert.equal(c.terminationMessagePath, '/dev/termination-log');
      assert.equal(c.terminationMessagePolicy, 'File');
      assert.deepEqual(c.resources, {});
    }
    assert.equal(spec.initContainers![0]!.imagePullPolicy, 'IfNotPresent');
    assert.equal(spec.containers[0]!.imagePullPolicy, 'Always');
    assert.deepEqual(spec.containers[0]!.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  });

  it('defaults requests to limits where a request is missing', () => {
    const p = minimal();
    p.spec!.containers[0]!.resources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } };
    assert.deepEqual(applyStaticPodDefaults(p, loadOpts()).spec!.containers[0]!.resources, {
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '500m', memory: '1Gi' },
    });
  });

  it('copies containerPort to hostPort with hostNetwork', () => {
    const p = minimal();
    p.spec!.hostNetwork = true;
    p.spec!.containers[0]!.ports = [{ containerPort: 80 }, { containerPort: 81, hostPort: 81 }];
    assert.deepEqual(applyStaticPodDefaults(p, loadOpts()).spec!.containers[0]!.ports, [
      { containerPort: 80, hostPort: 80, protocol: 'TCP' },
      { containerPort: 81, hostPort: 81, protocol: 'TCP' },
    ]);
  });

  it('fills probe and httpGet defaults', () => {
    const p = minimal();
    p.spec!.containers[0]!.livenessProbe = { httpGet: { port: 8080 } };
    p.spec!.containers[0]!.readinessProbe = { exec: { command: ['true'] }, periodSeconds: 2 };
    p.spec!.containers[0]!.lifecycle = { preStop: { httpGet: { port: 'http', path: '/quit' } } };
    const c = applyStaticPodDefaults(p, loadOpts()).spec!.containers[0]!;
    assert.deepEqual(c.livenessProbe, {
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.equal(c.readinessProbe?.periodSeconds, 2);
    assert.deepEqual(c.lifecycle?.preStop?.httpGet, { port: 'http', path: '/quit', scheme: 'HTTP' });
  });

  it('fills volume defaults: emptyDir for no source, hostPath type, downward API modes and apiVersion', () => {
    const p = minimal();
    p.spec!.volumes = [
      { name: 'a' },
      { name: 'b', hostPath: { path: '/b' } },
      { name: 'c', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'd', projected: { sources: [{ downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
    ];
    p.spec!.containers[0]!.env = [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }];
    const spec = applyStaticPodDefaults(p, loadOpts()).spec!;
    assert.deepEqual(spec.volumes, [
      { name: 'a', emptyDir: {} },
      { name: 'b', hostPath: { path: '/b', type: '' } },
      { name: 'c', downwardAPI: { defaultMode: 0o644, items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } }] } },
      { name: 'd', projected: { defaultMode: 0o644, sources: [{ downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } }] } }] } },
    ]);
    assert.equal(spec.containers[0]!.env![0]!.valueFrom?.fieldRef?.apiVersion, 'v1');
  });
});

describe('defaultPullPolicy', () => {
  const table: [string | undefined, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry:5000/team/app', 'Always'],
    ['registry:5000/team/app:v1', 'IfNotPresent'],
    ['nginx@sha256:0123abcd', 'IfNotPresent'],
    ['nginx:latest@sha256:0123abcd', 'Always'],
    ['', 'IfNotPresent'],
    [undefined, 'IfNotPresent'],
  ];
  for (const [image, want] of table) {
    it(`${JSON.stringify(image)} → ${want}`, () => assert.equal(defaultPullPolicy(image), want));
  }
});

describe('formatRFC3339Nano', () => {
  it('renders UTC as Go RFC3339Nano: trailing zeros of the fraction dropped', () => {
    assert.equal(formatRFC3339Nano(new Date('2026-11-25T15:04:05.123Z')), '2026-11-25T15:04:05.123Z');
    assert.equal(formatRFC3339Nano(new Date(0)), '1970-01-01T00:00:00Z');
    assert.equal(formatRFC3339Nano(new Date('2026-11-25T15:04:05.120Z')), '2026-11-25T15:04:05.12Z');
  });
});

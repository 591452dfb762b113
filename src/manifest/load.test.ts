import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadPodManifest } from './load.js';
import { fixture, loadOpts } from './testing.js';

describe('loadPodManifest', () => {
  it('loads good.yaml into a defaulted static pod', () => {
    const res = loadPodManifest(fixture('good.yaml'), loadOpts({ file: 'good.yaml', origin: '/m/good' }));
    assert.ok(res.ok, JSON.stringify(!res.ok && res.errors.map((e) => e.located)));
    const pod = res.pod;
    assert.equal(pod.metadata?.name, 'web-node-1');
    assert.equal(pod.metadata?.namespace, 'kube-system');
    assert.match(pod.metadata?.uid ?? '', /^[0-9a-f]{32}$/);
    assert.equal(pod.spec?.nodeName, 'node-1');
    assert.equal(pod.spec?.terminationGracePeriodSeconds, 10);
    assert.equal(pod.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(pod.spec?.containers[0]?.resources?.requests, { cpu: '100m', memory: '64Mi' });
    assert.equal(pod.status?.phase, 'Pending');
  });

  it('gives good.yaml and good.json (same content, other order) the same UID', () => {
    const a = loadPodManifest(fixture('good.yaml'), loadOpts({ file: 'good.yaml', origin: '/m/good' }));
    const b = loadPodManifest(fixture('good.json'), loadOpts({ file: 'good.json', origin: '/m/good' }));
    assert.ok(a.ok && b.ok);
    assert.equal(a.pod.metadata?.uid, b.pod.metadata?.uid);
    assert.deepEqual(a.pod, b.pod);
  });

  it('refuses deployment.yaml with UnsupportedKind at the kind', () => {
    const res = loadPodManifest(fixture('deployment.yaml'), loadOpts({ file: 'deployment.yaml' }));
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.deepEqual(res.errors.map((e) => [e.code, e.located]), [
      ['UnsupportedKind', 'deployment.yaml:2:7: kind Deployment is not supported: static pods can only be Pods'],
    ]);
  });

  it('refuses bad-indent.yaml with the line and column of the bad line', () => {
    const res = loadPodManifest(fixture('bad-indent.yaml'), loadOpts({ file: 'bad-indent.yaml' }));
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.errors[0]?.code, 'InvalidManifest');
    assert.match(res.errors[0]?.located ?? '', /^bad-indent\.yaml:9:6: syntax error: .*indentation/);
  });

  it('refuses secret-volume.yaml: static pods may not reference secrets', () => {
    const res = loadPodManifest(fixture('secret-volume.yaml'), loadOpts({ file: 'secret-volume.yaml' }));
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.deepEqual(res.errors.map((e) => e.located), [
      'secret-volume.yaml:15:7: static pods may not reference secrets (spec.volumes[0].secret)',
    ]);
  });

  it('refuses a name that is too long with the node name appended', () => {
    const text = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${'a'.repeat(240)}\nspec:\n  containers: [{name: a}]\n`;
    const res = loadPodManifest(text, loadOpts({ nodeName: 'a-rather-long-node-name' }));
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.match(res.errors[0]?.located ?? '', /^web\.yaml:4:9: metadata\.name: Invalid value: .*must be no more than 229 characters/);
  });

  it('keeps messages short when a kind or a key is megabytes long', () => {
    const big = 'x'.repeat(1 << 20);
    const texts = [
      `apiVersion: v1\nkind: ${big}\n`,
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', labels: { [big]: 1 } }, spec: { containers: [{ name: 'a', image: 'b' }] } }),
    ];
    for (const text of texts) {
      const res = loadPodManifest(text, loadOpts());
      assert.equal(res.ok, false);
      if (res.ok) continue;
      for (const e of res.errors) {
        assert.ok(e.message.length <= 1000, `${e.message.length} characters`);
        assert.ok(String(e.details.field ?? '').length <= 1000);
      }
    }
  });

  it('refuses an empty file', () => {
    const res = loadPodManifest('', loadOpts());
    assert.deepEqual(res.ok ? [] : res.errors.map((e) => e.located), ['web.yaml: no pod in file']);
  });
});

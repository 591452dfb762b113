import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, podWithSpec, validateText, yaml } from './testing.js';

interface Case {
  name: string;
  spec: string;
  /** Exact messages expected, with [line, column]. */
  want: [string, number, number][];
}

const C = 'containers:\n- name: web\n';

// What a static pod may not reference, and where each refusal points (spec lines start at line 6, column 3).
const cases: Case[] = [
  {
    name: 'a service account',
    spec: `serviceAccountName: builder\n${C}`,
    want: [['static pods may not reference serviceaccounts (spec.serviceAccountName)', 6, 23]],
  },
  {
    name: 'the deprecated serviceAccount field',
    spec: `serviceAccount: builder\n${C}`,
    want: [['static pods may not reference serviceaccounts (spec.serviceAccount)', 6, 19]],
  },
  {
    name: 'image pull secrets',
    spec: `imagePullSecrets: [{name: regcred}]\n${C}`,
    want: [['static pods may not reference secrets (spec.imagePullSecrets)', 6, 21]],
  },
  {
    name: 'a secret volume',
    spec: `volumes:\n- name: s\n  secret:\n    secretName: db\n${C}`,
    want: [['static pods may not reference secrets (spec.volumes[0].secret)', 8, 5]],
  },
  {
    name: 'a configMap volume',
    spec: `volumes:\n- {name: c, configMap: {name: cfg}}\n${C}`,
    want: [['static pods may not reference configmaps (spec.volumes[0].configMap)', 7, 26]],
  },
  {
    name: 'a persistentVolumeClaim volume',
    spec: `volumes:\n- {name: p, persistentVolumeClaim: {claimName: data}}\n${C}`,
    want: [['static pods may not reference persistentvolumeclaims (spec.volumes[0].persistentVolumeClaim)', 7, 38]],
  },
  {
    name: 'an ephemeral volume (a PVC from a template)',
    spec: `volumes:\n- {name: e, ephemeral: {volumeClaimTemplate: {spec: {}}}}\n${C}`,
    want: [['static pods may not reference persistentvolumeclaims (spec.volumes[0].ephemeral)', 7, 26]],
  },
  {
    name: 'a CSI volume',
    spec: `volumes:\n- {name: c, csi: {driver: example.com/x}}\n${C}`,
    want: [['static pods may not reference csidrivers (spec.volumes[0].csi)', 7, 20]],
  },
  {
    name: 'projected secret, configMap, serviceAccountToken and clusterTrustBundle sources',
    spec: yaml`
      volumes:
      - name: p
        projected:
          sources:
          - secret: {name: s}
          - configMap: {name: c}
          - serviceAccountToken: {path: token}
          - clusterTrustBundle: {name: b, path: b}
          - downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}
      containers:
      - name: web
    `,
    want: [
      ['static pods may not reference secrets (spec.volumes[0].projected.sources[0].secret)', 10, 17],
      ['static pods may not reference configmaps (spec.volumes[0].projected.sources[1].configMap)', 11, 20],
      ['static pods may not reference serviceaccounts (spec.volumes[0].projected.sources[2].serviceAccountToken)', 12, 30],
      ['static pods may not reference clustertrustbundles (spec.volumes[0].projected.sources[3].clusterTrustBundle)', 13, 29],
    ],
  },
  {
    name: 'env from secretKeyRef and configMapKeyRef, in init containers too',
    spec: yaml`
      initContainers:
      - name: init
        env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}]
      containers:
      - name: web
        env:
        - name: B
          valueFrom:
            configMapKeyRef: {name: c, key: k}
    `,
    want: [
      ['static pods may not reference secrets (spec.initContainers[0].env[0].valueFrom.secretKeyRef)', 8, 47],
      ['static pods may not reference configmaps (spec.containers[0].env[0].valueFrom.configMapKeyRef)', 14, 26],
    ],
  },
  {
    name: 'envFrom secretRef and configMapRef',
    spec: 'containers:\n- name: web\n  envFrom:\n  - secretRef: {name: s}\n  - configMapRef: {name: c}',
    want: [
      ['static pods may not reference secrets (spec.containers[0].envFrom[0].secretRef)', 9, 18],
      ['static pods may not reference configmaps (spec.containers[0].envFrom[1].configMapRef)', 10, 21],
    ],
  },
  {
    name: 'resource claims',
    spec: 'resourceClaims: [{name: gpu, resourceClaimName: gpu}]\ncontainers:\n- name: web\n  resources: {claims: [{name: gpu}]}',
    want: [
      ['static pods may not reference resourceclaims (spec.resourceClaims)', 6, 19],
      ['static pods may not reference resourceclaims (spec.containers[0].resources.claims)', 9, 25],
    ],
  },
  {
    name: 'ephemeral containers',
    spec: `${C}ephemeralContainers:\n- name: debug\n  image: busybox`,
    want: [['static pods may not have ephemeral containers (spec.ephemeralContainers)', 8, 3]],
  },
  {
    name: 'volume types nodelet does not run',
    spec: `volumes:\n- {name: nas, nfs: {server: nas, path: /x}}\n- {name: g, gitRepo: {repository: x}}\n- {name: i, image: {reference: busybox}}\n${C}`,
    want: [
      ['spec.volumes[0].nfs: Forbidden: nfs volumes are not supported for static pods by nodelet: use hostPath, emptyDir, downwardAPI or projected downwardAPI', 7, 22],
      ['spec.volumes[1].gitRepo: Forbidden: gitRepo volumes are not supported for static pods by nodelet: use hostPath, emptyDir, downwardAPI or projected downwardAPI', 8, 24],
      ['spec.volumes[2].image: Forbidden: image volumes are not supported for static pods by nodelet: use hostPath, emptyDir, downwardAPI or projected downwardAPI', 9, 22],
    ],
  },
];

describe('static pod rules', () => {
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const errors = validateText(podWithSpec(c.spec));
      assert.deepEqual(
        errors.map((e) => [e.message, e.details.line, e.details.column]),
        c.want,
        JSON.stringify(errors.map((e) => e.located), null, 1),
      );
      for (const e of errors) assert.equal(e.code, 'FailedValidation');
    });
  }

  it('allows an empty serviceAccountName, empty lists and allowed volume types', () => {
    const errors = validateText(
      podWithSpec(yaml`
        serviceAccountName: ""
        imagePullSecrets: []
        ephemeralContainers: []
        resourceClaims: []
        volumes:
        - {name: a, hostPath: {path: /a}}
        - {name: b, emptyDir: {}}
        - {name: c, downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}}
        - {name: d, projected: {sources: [{downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}}]}}
        containers:
        - name: web
      `),
    );
    assert.deepEqual(errors.map((e) => e.located), []);
  });

  it('reports the secret-volume fixture at the secret key', () => {
    const errors = validateText(fixture('secret-volume.yaml').toString(), 'secret-volume.yaml');
    assert.deepEqual(errors.map((e) => e.located), [
      'secret-volume.yaml:15:7: static pods may not reference secrets (spec.volumes[0].secret)',
    ]);
  });
});

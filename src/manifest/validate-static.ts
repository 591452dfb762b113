// The rules that make a static pod different from an API pod. A static pod runs before (or without)
// the API server, so it may not reference API objects: the NodeRestriction admission plugin
// (plugin/pkg/admission/noderestriction/admission.go) refuses such mirror pods, and the kubelet
// could not resolve them anyway. Mirroring that, we refuse service accounts, Secrets, ConfigMaps,
// PVCs, CSI and ephemeral volumes, projected API sources, resource claims and ephemeral containers.
// Beyond that, nodelet runs only the volume types it implements.

import type { FieldErrors } from './field-errors.js';
import { isObj, isSet, own, type Obj } from './read.js';
import { PROJECTED_SOURCES, VOLUME_SOURCES } from './validate-volumes.js';

/** Volume sources a static pod may use with nodelet. */
export const ALLOWED_VOLUME_SOURCES = ['hostPath', 'emptyDir', 'downwardAPI', 'projected'] as const;

// Volume sources that reference an API object, and the resource they reference.
const REFERENCING_VOLUMES: Record<string, string> = {
  secret: 'secrets',
  configMap: 'configmaps',
  persistentVolumeClaim: 'persistentvolumeclaims',
  // A generic ephemeral volume is a PVC created from a template.
  ephemeral: 'persistentvolumeclaims',
  csi: 'csidrivers',
};

const REFERENCING_PROJECTIONS: Record<string, string> = {
  secret: 'secrets',
  configMap: 'configmaps',
  serviceAccountToken: 'serviceaccounts',
  clusterTrustBundle: 'clustertrustbundles',
  podCertificate: 'podcertificaterequests',
};

/** The message for a static pod that references an API object: `static pods may not reference secrets (spec.volumes[0].secret)`. */
export function staticReferenceMessage(kind: string, fieldPath: string): string {
  return `static pods may not reference ${kind} (${fieldPath})`;
}

/**
 * Validates the static-pod rules of the kubelet and NodeRestriction on a decoded pod: no references
 * to API objects, no ephemeral containers, only the volume types nodelet supports. Type errors are
 * left to the API validation; this only looks at what is present.
 */
export function validateStaticPodRules(errs: FieldErrors, pod: Obj): void {
  const spec = own(pod, 'spec');
  if (!isObj(spec)) return;
  const ref = (kind: string, path: string) => errs.add(path, staticReferenceMessage(kind, path));

  for (const key of ['serviceAccountName', 'serviceAccount']) {
    const sa = own(spec, key);
    if (typeof sa === 'string' && sa !== '') ref('serviceaccounts', `spec.${key}`);
  }
  const pullSecrets = own(spec, 'imagePullSecrets');
  if (Array.isArray(pullSecrets) && pullSecrets.length > 0) ref('secrets', 'spec.imagePullSecrets');
  const claims = own(spec, 'resourceClaims');
  if (Array.isArray(claims) && claims.length > 0) ref('resourceclaims', 'spec.resourceClaims');
  const ephemeral = own(spec, 'ephemeralContainers');
  if (Array.isArray(ephemeral) && ephemeral.length > 0) {
    errs.add('spec.ephemeralContainers', 'static pods may not have ephemeral containers (spec.ephemeralContainers)');
  }

  forEachObj(own(spec, 'volumes'), 'spec.volumes', (vol, path) => {
    for (const source of VOLUME_SOURCES) {
      if (!isSet(vol, source)) continue;
      const kind = REFERENCING_VOLUMES[source];
      if (kind) {
        ref(kind, `${path}.${source}`);
      } else if (!(ALLOWED_VOLUME_SOURCES as readonly string[]).includes(source)) {
        errs.forbidden(
          `${path}.${source}`,
          `${source} volumes are not supported for static pods by nodelet: use hostPath, emptyDir, downwardAPI or projected downwardAPI`,
        );
      }
    }
    const projected = own(vol, 'projected');
    if (!isObj(projected)) return;
    forEachObj(own(projected, 'sources'), `${path}.projected.sources`, (src, sp) => {
      for (const source of PROJECTED_SOURCES) {
        const kind = REFERENCING_PROJECTIONS[source];
        if (kind && isSet(src, source)) ref(kind, `${sp}.${source}`);
      }
    });
  });

  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    forEachObj(own(spec, list), `spec.${list}`, (c, cp) => {
      forEachObj(own(c, 'env'), `${cp}.env`, (env, ep) => {
        const from = own(env, 'valueFrom');
        if (!isObj(from)) return;
        if (isSet(from, 'secretKeyRef')) ref('secrets', `${ep}.valueFrom.secretKeyRef`);
        if (isSet(from, 'configMapKeyRef')) ref('configmaps', `${ep}.valueFrom.configMapKeyRef`);
      });
      forEachObj(own(c, 'envFrom'), `${cp}.envFrom`, (src, sp) => {
        if (isSet(src, 'secretRef')) ref('secrets', `${sp}.secretRef`);
        if (isSet(src, 'configMapRef')) ref('configmaps', `${sp}.configMapRef`);
      });
      const resources = own(c, 'resources');
      if (isObj(resources)) {
        const rc = own(resources, 'claims');
        if (Array.isArray(rc) && rc.length > 0) ref('resourceclaims', `${cp}.resources.claims`);
      }
    });
  }
}

function forEachObj(list: unknown, path: string, fn: (item: Obj, path: string) => void): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    if (isObj(item)) fn(item, `${path}[${i}]`);
  });
}

// A minimal OpenAPI v3 description, only so that `kubectl apply`/`create` reach the server and print
// its 405 instead of failing on the client with "failed to download openapi". kubectl validates
// client-side unless the server accepts `fieldValidation` on the kind's PATCH operation
// (staging/src/k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go supportsQueryParamV3); this
// document says it does, so validation is left to the server, whose answer to every write is 405.

import { versionInfo } from './version.js';

/** The `/openapi/v3` root: one group-version document, core/v1. */
export function openAPIV3Root(): object {
  return { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${HASH}` } } };
}

// Constant content: a constant hash lets kubectl cache the document.
const HASH = 'nodelet1';

/** `/openapi/v3/api/v1`: the pod PATCH operation, with its `fieldValidation` parameter and its 405. */
export function openAPIV3CoreV1(): object {
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (nodelet, read-only)', version: versionInfo().gitVersion },
    paths: {
      '/api/v1/namespaces/{namespace}/pods/{name}': {
        patch: {
          description: 'Refused: static pods are managed through the manifest directory (405 MethodNotAllowed).',
          operationId: 'patchCoreV1NamespacedPod',
          parameters: [{ name: 'fieldValidation', in: 'query', description: 'Accepted, then refused with the rest of the write.', schema: { type: 'string', uniqueItems: true } }],
          responses: { '405': { description: 'MethodNotAllowed' } },
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': { group: '', kind: 'Pod', version: 'v1' },
        },
      },
    },
    components: { schemas: {} },
  };
}

// Pod validation: the API server's Pod-create validation (pkg/apis/core/validation/validation.go,
// ValidatePodCreate → ValidateObjectMeta + ValidatePodSpec) for the fields that matter to a node,
// then the static-pod rules of the kubelet (pkg/kubelet/config/common.go) and NodeRestriction.
// Every problem is collected; nothing stops at the first error.

import type { NodeletError } from '../errors.js';
import type { Pod } from '../api/types.js';
import { checkDNS1123Label, checkDNS1123Subdomain, checkQualifiedName } from './dns.js';
import { FieldErrors, type Locate } from './field-errors.js';
import { isObj, own, readObj, readString, readStringMap, type Obj } from './read.js';
import { validateLabelMap, validatePodSpec } from './validate-pod-spec.js';
import { validateStaticPodRules } from './validate-static.js';

/** Where validation errors are reported and, optionally, the node the pod will be named after. */
export interface ValidateContext {
  /** The file name errors are reported against (`web.yaml:3:5: …`). */
  file: string;
  /** Maps a field path to its line and column in the source, when the source is known. */
  locate?: Locate;
  /**
   * The node name: when given, the static pod's final name `<name>-<node>` is checked too (it must
   * stay a DNS subdomain of at most 253 characters).
   */
  nodeName?: string;
}

/** The message for a pod without `metadata.name` (the kubelet's wording in common.go applyDefaults). */
export const NAME_REQUIRED_MESSAGE = 'name is needed for the pod';

// apimachinery ValidateAnnotations: total size of keys and values.
const MAX_ANNOTATIONS_BYTES = 256 * 1024;
const MAX_NAME_LENGTH = 253;

/**
 * Validates a decoded, not yet defaulted static pod and returns every problem found (empty = valid),
 * each a `FailedValidation` NodeletError with file, field path and, when `ctx.locate` can find the
 * field, line and column. Accepts any JSON value and never throws.
 */
export function validatePod(pod: Pod, ctx: ValidateContext): NodeletError[] {
  const errs = new FieldErrors(ctx.file, ctx.locate);
  try {
    const value: unknown = pod;
    if (!isObj(value)) {
      errs.add('', `expected a Pod object, got ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value}`);
      return errs.errors;
    }
    validateMetadata(errs, value, ctx.nodeName);
    const spec = readObj(errs, value, 'spec', 'spec');
    if (spec) validatePodSpec(errs, spec);
    else if (own(value, 'spec') === undefined || own(value, 'spec') === null) errs.required('spec');
    validateStaticPodRules(errs, value);
  } catch (cause) {
    // Validation reads untrusted data; a bug here must surface as an error on this manifest, not
    // as an exception that takes the caller (the file source of every pod) down.
    errs.add('', `internal error while validating the pod: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  return errs.errors;
}

function validateMetadata(errs: FieldErrors, pod: Obj, nodeName: string | undefined): void {
  const meta = readObj(errs, pod, 'metadata', 'metadata');
  if (!meta) {
    if (own(pod, 'metadata') === undefined || own(pod, 'metadata') === null) {
      errs.add('metadata.name', NAME_REQUIRED_MESSAGE, 'metadata');
    }
    return;
  }
  const name = readString(errs, meta, 'name', 'metadata.name');
  const rawName = own(meta, 'name');
  if (!name) {
    // A name of the wrong type was reported by readString already.
    if (rawName === undefined || rawName === null || rawName === '') errs.add('metadata.name', NAME_REQUIRED_MESSAGE);
  } else {
    const nameErrs = checkDNS1123Subdomain(name);
    for (const msg of nameErrs) errs.invalid('metadata.name', name, msg);
    if (nameErrs.length === 0 && nodeName !== undefined) {
      // The kubelet names a static pod `<name>-<lowercased node>`; that name must be valid too.
      const full = `${name}-${nodeName.toLowerCase()}`;
      if (full.length > MAX_NAME_LENGTH) {
        errs.invalid('metadata.name', name, `must be no more than ${MAX_NAME_LENGTH - nodeName.length - 1} characters: the static pod name ${JSON.stringify(full.slice(0, 40) + '…')} (name + "-" + node name) would be longer than ${MAX_NAME_LENGTH}`);
      } else {
        for (const msg of checkDNS1123Subdomain(full)) errs.invalid('metadata.name', full, `static pod name (name + "-" + node name): ${msg}`);
      }
    }
  }
  const namespace = readString(errs, meta, 'namespace', 'metadata.namespace');
  if (namespace) for (const msg of checkDNS1123Label(namespace)) errs.invalid('metadata.namespace', namespace, msg);

  const labels = readStringMap(errs, meta, 'labels', 'metadata.labels');
  if (labels) validateLabelMap(errs, labels, 'metadata.labels');

  const annotations = readStringMap(errs, meta, 'annotations', 'metadata.annotations');
  if (annotations) {
    let total = 0;
    for (const [k, v] of annotations) {
      total += Buffer.byteLength(k) + Buffer.byteLength(v);
      // apimachinery lowercases annotation keys before the check.
      for (const msg of checkQualifiedName(k.toLowerCase())) errs.invalid('metadata.annotations', k, msg, `metadata.annotations[${k}]`);
    }
    if (total > MAX_ANNOTATIONS_BYTES) {
      errs.add('metadata.annotations', `metadata.annotations: Too long: may not be more than ${MAX_ANNOTATIONS_BYTES} bytes`);
    }
  }
}

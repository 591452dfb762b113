// The whole pipeline for one static pod manifest, as the kubelet's file source runs it
// (pkg/kubelet/config/common.go tryDecodeSinglePod): decode → validate → default.

import { NodeletError } from '../errors.js';
import type { Pod } from '../api/types.js';
import { decodePods } from './decode.js';
import { ManifestErrorCode } from './field-errors.js';
import { findUnknownFields, keyLocator } from './known-fields.js';
import { applyStaticPodDefaults } from './defaults.js';
import { validatePod } from './validate.js';

/** Where a manifest came from and for which node it is loaded. */
export interface LoadOptions {
  /** The name errors are reported against (`web.yaml:3:5: …`): usually the path as the user gave it. */
  file: string;
  /** The node name: the pod is named `<name>-<lowercased nodeName>` and bound to this node. */
  nodeName: string;
  /** Which source read the manifest: the `kubernetes.io/config.source` annotation. */
  source: 'file' | 'http';
  /** Full file path or URL, used in the UID hash and the `nodelet.io/config.file` annotation. */
  origin: string;
  /** When the manifest was first seen: the `kubernetes.io/config.seen` annotation. */
  seenAt: Date;
}

/**
 * The outcome of {@link loadPodManifest}: a ready-to-run Pod, or every error found. `warnings` are
 * findings that do not stop the pod (unknown fields, which the kubelet ignores); empty when the
 * manifest could not be decoded.
 */
export type LoadResult = { ok: true; pod: Pod; warnings: NodeletError[] } | { ok: false; errors: NodeletError[]; warnings: NodeletError[] };

/**
 * Loads one static pod manifest: decodes exactly one Pod (YAML or JSON), validates it as the API
 * server and the kubelet would, and applies the static-pod and API defaults. Errors carry file,
 * line and column. Unknown fields are returned as `warnings` (see {@link findUnknownFields}) and do
 * not make the result fail: the kubelet ignores them. Never throws for bad input.
 */
export function loadPodManifest(bytes: Uint8Array | string, opts: LoadOptions): LoadResult {
  const decoded = decodePods(bytes, opts.file, { allowList: false });
  if (!decoded.ok) return { ...decoded, warnings: [] };
  const first = decoded.pods[0];
  // decodePods without lists yields exactly one pod or errors; this only satisfies the type checker.
  if (!first) return { ok: false, errors: [new NodeletError(ManifestErrorCode.InvalidManifest, 'no pod in file', { details: { file: opts.file } })], warnings: [] };
  // On the decoded value, before defaulting adds fields of its own. The text was decoded once already
  // (decodePods succeeded), so this second decode cannot fail; TextDecoder drops a BOM as decodePods does.
  const text = typeof bytes === 'string' ? bytes.replace(/^\uFEFF/, '') : new TextDecoder().decode(bytes);
  const warnings = findUnknownFields(first.pod, keyLocator(text, first.locate), opts.file);
  const errors = validatePod(first.pod, { file: opts.file, locate: first.locate, nodeName: opts.nodeName });
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, pod: applyStaticPodDefaults(first.pod, opts), warnings };
}

/**
 * Loads what a `--manifest-url` serves: one Pod or a PodList (YAML or JSON), each pod validated and
 * defaulted like a file's. As the kubelet's http source (config/common.go tryDecodePodList), one
 * invalid pod fails the whole body, so the caller keeps the pods it had. An empty body is no pods.
 */
export function loadPodList(bytes: Uint8Array | string, opts: LoadOptions): { ok: true; pods: Pod[] } | { ok: false; errors: NodeletError[] } {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  if (text.trim() === '') return { ok: true, pods: [] };
  const decoded = decodePods(bytes, opts.file, { allowList: true });
  if (!decoded.ok) return decoded;
  const errors: NodeletError[] = [];
  const pods: Pod[] = [];
  for (const d of decoded.pods) {
    const errs = validatePod(d.pod, { file: opts.file, locate: d.locate, nodeName: opts.nodeName });
    if (errs.length > 0) errors.push(...errs);
    else pods.push(applyStaticPodDefaults(d.pod, opts));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, pods };
}

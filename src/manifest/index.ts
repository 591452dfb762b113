// The manifest package: bytes → a validated, defaulted static Pod. Pure functions, no I/O
// (DESIGN §1). The pipeline is loadPodManifest = decodePods → validatePod → applyStaticPodDefaults.

export { loadPodList, loadPodManifest, type LoadOptions, type LoadResult } from './load.js';
export {
  decodeManifest,
  decodePods,
  unsupportedKindMessage,
  MAX_MANIFEST_BYTES,
  MAX_ALIAS_COUNT,
  MAX_FLOW_DEPTH,
  type DecodedObject,
  type DecodedPod,
  type DecodeManifestResult,
  type DecodePodsResult,
  type DecodePodsOptions,
} from './decode.js';
export { validatePod, NAME_REQUIRED_MESSAGE, type ValidateContext } from './validate.js';
export { staticReferenceMessage, ALLOWED_VOLUME_SOURCES } from './validate-static.js';
export { applyStaticPodDefaults, formatRFC3339Nano, defaultPullPolicy, type DefaultsOptions } from './defaults.js';
export { staticPodUID, canonicalJSON } from './uid.js';
export { parseQuantity, compareQuantities, formatQuantity, addQuantities, type Quantity } from './quantity.js';
export { findUnknownFields, keyLocator, KNOWN_FIELDS, UNKNOWN_FIELD, type FieldKind } from './known-fields.js';
export { ManifestErrorCode, type Locate, type Position } from './field-errors.js';

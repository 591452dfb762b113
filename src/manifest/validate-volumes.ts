// Pod volumes, as pkg/apis/core/validation/validation.go (ValidateVolumes, validateVolumeSource,
// validateDownwardAPIVolumeSource, validateProjectedVolumeSource) checks them. Which sources a static
// pod may use at all is decided in validate-static.ts.

import { checkDNS1123Label, checkQualifiedName } from './dns.js';
import type { FieldErrors } from './field-errors.js';
import { isNegativeQuantity, parseQuantity, QUANTITY_SYNTAX_ERROR } from './quantity.js';
import { isSet, own, readInt, readObj, readObjArray, readString, type Obj } from './read.js';

/** Every volume source field of a core/v1 VolumeSource, in API order. */
export const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
] as const;

/** Every source field of a projected volume's `sources[]` element. */
export const PROJECTED_SOURCES = [
  'secret', 'downwardAPI', 'configMap', 'serviceAccountToken', 'clusterTrustBundle', 'podCertificate',
] as const;

/** hostPath `type` values (core/v1 HostPathType); "" means no check. */
export const HOST_PATH_TYPES = [
  '', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice',
] as const;

/** `resourceFieldRef.resource` values (validation.go validContainerResourceFieldPathExpressions). */
export const RESOURCE_FIELD_PATHS = [
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
] as const;

/** `fieldRef.fieldPath` values allowed in a downwardAPI volume (validVolumeDownwardAPIFieldPathExpressions). */
export const VOLUME_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.labels', 'metadata.annotations', 'metadata.uid',
] as const;

const MAX_MODE = 0o777;

/**
 * Validates `spec.volumes` and returns the volumes by name (first of a duplicated name wins), so
 * container volumeMounts can be checked against them.
 */
export function validateVolumes(errs: FieldErrors, spec: Obj): Map<string, Obj> {
  const byName = new Map<string, Obj>();
  for (const { item, path } of readObjArray(errs, spec, 'volumes', 'spec.volumes')) {
    const name = readString(errs, item, 'name', `${path}.name`);
    if (!name) {
      errs.required(`${path}.name`);
    } else {
      for (const msg of checkDNS1123Label(name)) errs.invalid(`${path}.name`, name, msg);
      if (byName.has(name)) errs.duplicate(`${path}.name`, name);
      else byName.set(name, item);
    }
    const sources = VOLUME_SOURCES.filter((s) => isSet(item, s));
    // No source at all is fine: the API server defaults it to emptyDir (SetDefaults_Volume).
    if (sources.length > 1) errs.forbidden(`${path}.${sources[1]}`, 'may not specify more than 1 volume type');
    const hostPath = readObj(errs, item, 'hostPath', `${path}.hostPath`);
    if (hostPath) validateHostPath(errs, hostPath, `${path}.hostPath`);
    const emptyDir = readObj(errs, item, 'emptyDir', `${path}.emptyDir`);
    if (emptyDir) validateEmptyDir(errs, emptyDir, `${path}.emptyDir`);
    const downward = readObj(errs, item, 'downwardAPI', `${path}.downwardAPI`);
    if (downward) validateDownwardAPIVolume(errs, downward, `${path}.downwardAPI`);
    const projected = readObj(errs, item, 'projected', `${path}.projected`);
    if (projected) validateProjected(errs, projected, `${path}.projected`);
  }
  return byName;
}

function validateHostPath(errs: FieldErrors, hp: Obj, path: string): void {
  const p = readString(errs, hp, 'path', `${path}.path`);
  if (!p) errs.required(`${path}.path`);
  else if (p.split('/').includes('..')) errs.invalid(`${path}.path`, p, "must not contain '..'");
  const type = readString(errs, hp, 'type', `${path}.type`);
  if (type !== undefined && !(HOST_PATH_TYPES as readonly string[]).includes(type)) {
    errs.unsupported(`${path}.type`, type, HOST_PATH_TYPES.filter((t) => t !== ''));
  }
}

function validateEmptyDir(errs: FieldErrors, ed: Obj, path: string): void {
  const medium = readString(errs, ed, 'medium', `${path}.medium`);
  if (medium !== undefined && medium !== '' && medium !== 'Memory' && medium !== 'HugePages' && !medium.startsWith('HugePages-')) {
    errs.unsupported(`${path}.medium`, medium, ['', 'Memory', 'HugePages', 'HugePages-<size>']);
  }
  const size = own(ed, 'sizeLimit');
  if (size !== undefined && size !== null) validateQuantityValue(errs, size, `${path}.sizeLimit`);
}

/** Reports a value that is not a non-negative quantity. */
export function validateQuantityValue(errs: FieldErrors, value: unknown, path: string): void {
  if (typeof value !== 'string' && typeof value !== 'number') {
    errs.wrongType(path, 'quantity (string or number)', value);
    return;
  }
  const q = parseQuantity(value);
  if (!q) errs.invalid(path, value, QUANTITY_SYNTAX_ERROR);
  else if (isNegativeQuantity(q)) errs.invalid(path, value, 'must be greater than or equal to 0');
}

/** Reports a file mode outside 0–0777 (`defaultMode`, `mode`). */
export function validateMode(errs: FieldErrors, obj: Obj, key: string, path: string): void {
  const mode = readInt(errs, obj, key, path);
  if (mode !== undefined && (mode < 0 || mode > MAX_MODE)) {
    errs.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive');
  }
}

function validateDownwardAPIVolume(errs: FieldErrors, dv: Obj, path: string): void {
  validateMode(errs, dv, 'defaultMode', `${path}.defaultMode`);
  validateDownwardAPIItems(errs, dv, path);
}

function validateDownwardAPIItems(errs: FieldErrors, dv: Obj, path: string): void {
  for (const { item, path: p } of readObjArray(errs, dv, 'items', `${path}.items`)) {
    const filePath = readString(errs, item, 'path', `${p}.path`);
    if (!filePath) errs.required(`${p}.path`);
    else validateLocalNonReservedPath(errs, filePath, `${p}.path`);
    validateMode(errs, item, 'mode', `${p}.mode`);
    const fieldRef = readObj(errs, item, 'fieldRef', `${p}.fieldRef`);
    const resRef = readObj(errs, item, 'resourceFieldRef', `${p}.resourceFieldRef`);
    if (fieldRef && resRef) {
      errs.invalid(p, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously');
    } else if (!fieldRef && !resRef) {
      errs.required(p, 'one of fieldRef and resourceFieldRef is required');
    }
    if (fieldRef) validateFieldRef(errs, fieldRef, `${p}.fieldRef`, VOLUME_FIELD_PATHS, true);
    if (resRef) validateResourceFieldRef(errs, resRef, `${p}.resourceFieldRef`, true);
  }
}

function validateProjected(errs: FieldErrors, pv: Obj, path: string): void {
  validateMode(errs, pv, 'defaultMode', `${path}.defaultMode`);
  for (const { item, path: p } of readObjArray(errs, pv, 'sources', `${path}.sources`)) {
    const kinds = PROJECTED_SOURCES.filter((s) => isSet(item, s));
    if (kinds.length > 1) errs.forbidden(`${p}.${kinds[1]}`, 'may not specify more than 1 volume type per source');
    else if (kinds.length === 0) errs.required(p, 'must specify one volume source');
    const downward = readObj(errs, item, 'downwardAPI', `${p}.downwardAPI`);
    if (downward) validateDownwardAPIItems(errs, downward, `${p}.downwardAPI`);
  }
}

/**
 * A path inside a volume: relative, no `..` element, not starting with `..` (validation.go
 * validateLocalNonReservedPath; the `..data` swap directory of atomic writers is reserved).
 */
export function validateLocalNonReservedPath(errs: FieldErrors, p: string, path: string): void {
  validateLocalDescendingPath(errs, p, path);
  if (p.startsWith('..')) errs.invalid(path, p, "must not start with '..'");
}

/** A relative path that does not climb out of its base (validation.go validateLocalDescendingPath). */
export function validateLocalDescendingPath(errs: FieldErrors, p: string, path: string): void {
  if (p.startsWith('/')) errs.invalid(path, p, 'must be a relative path');
  if (p.split(/[\\/]/).includes('..')) errs.invalid(path, p, "must not contain '..'");
}

/**
 * An ObjectFieldSelector (`fieldRef`): apiVersion v1 when given, and a field path from `allowed` or
 * a single label/annotation (`metadata.labels['app']`).
 */
export function validateFieldRef(
  errs: FieldErrors,
  ref: Obj,
  path: string,
  allowed: readonly string[],
  allowWholeMaps: boolean,
): void {
  const apiVersion = readString(errs, ref, 'apiVersion', `${path}.apiVersion`);
  if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== 'v1') {
    errs.unsupported(`${path}.apiVersion`, apiVersion, ['v1']);
  }
  const fieldPath = readString(errs, ref, 'fieldPath', `${path}.fieldPath`);
  if (!fieldPath) {
    errs.required(`${path}.fieldPath`);
    return;
  }
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) {
    for (const msg of checkQualifiedName((sub[2] ?? '').toLowerCase())) errs.invalid(`${path}.fieldPath`, fieldPath, msg);
    return;
  }
  const whole = fieldPath === 'metadata.labels' || fieldPath === 'metadata.annotations';
  if (!allowed.includes(fieldPath) || (whole && !allowWholeMaps)) {
    const list = [...allowed, "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']"];
    errs.unsupported(`${path}.fieldPath`, fieldPath, list);
  }
}

/** A ResourceFieldSelector (`resourceFieldRef`); in a volume it must name its container. */
export function validateResourceFieldRef(errs: FieldErrors, ref: Obj, path: string, inVolume: boolean): void {
  const container = readString(errs, ref, 'containerName', `${path}.containerName`);
  if (inVolume && !container) errs.required(`${path}.containerName`);
  const resource = readString(errs, ref, 'resource', `${path}.resource`);
  if (!resource) {
    errs.required(`${path}.resource`);
  } else if (
    !(RESOURCE_FIELD_PATHS as readonly string[]).includes(resource) &&
    !/^(limits|requests)\.hugepages-.+$/.test(resource)
  ) {
    errs.unsupported(`${path}.resource`, resource, [...RESOURCE_FIELD_PATHS, 'limits.hugepages-<size>', 'requests.hugepages-<size>']);
  }
  const divisor = own(ref, 'divisor');
  if (divisor !== undefined && divisor !== null) validateQuantityValue(errs, divisor, `${path}.divisor`);
}

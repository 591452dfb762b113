// Container (and pod-level) resource requirements, as validation.go ValidateResourceRequirements:
// names are standard or fully-qualified extended resources, values are non-negative quantities,
// requests never exceed limits, and extended resources and hugepages cannot be overcommitted.

import { checkQualifiedName } from './dns.js';
import type { FieldErrors } from './field-errors.js';
import { compareQuantities, isIntegerQuantity, isNegativeQuantity, parseQuantity, QUANTITY_SYNTAX_ERROR, type Quantity } from './quantity.js';
import { readObj, type Obj } from './read.js';

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];
const POD_LEVEL_RESOURCES = ['cpu', 'memory'];

/**
 * Validates a ResourceRequirements object at `path` (`spec.containers[0].resources`, or with
 * `podLevel` the pod's `spec.resources`, which allows only cpu, memory and hugepages).
 */
export function validateResources(errs: FieldErrors, res: Obj, path: string, podLevel = false): void {
  const limits = readQuantities(errs, res, 'limits', `${path}.limits`, podLevel);
  const requests = readQuantities(errs, res, 'requests', `${path}.requests`, podLevel);

  for (const [name, req] of requests) {
    const lim = limits.get(name);
    const overcommitable = !isExtended(name) && !isHugePages(name);
    if (!overcommitable) {
      if (!lim) {
        errs.forbidden(`${path}.limits`, `Limit must be set for non overcommitable resources (${name})`);
      } else if (compareQuantities(req, lim) !== 0) {
        errs.invalid(`${path}.requests[${name}]`, req.text, `must be equal to ${name} limit of ${lim.text}`);
      }
    } else if (lim && compareQuantities(req, lim) > 0) {
      errs.invalid(`${path}.requests[${name}]`, req.text, `must be less than or equal to ${name} limit of ${lim.text}`);
    }
  }
}

function readQuantities(errs: FieldErrors, res: Obj, key: string, path: string, podLevel: boolean): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  const obj = readObj(errs, res, key, path);
  if (!obj) return out;
  for (const [name, value] of Object.entries(obj)) {
    const p = `${path}[${name}]`;
    validateResourceName(errs, name, path, p, podLevel);
    if (typeof value !== 'string' && typeof value !== 'number') {
      errs.wrongType(p, 'quantity (string or number)', value);
      continue;
    }
    const q = parseQuantity(value);
    if (!q) {
      errs.invalid(p, value, QUANTITY_SYNTAX_ERROR);
      continue;
    }
    if (isNegativeQuantity(q)) errs.invalid(p, q.text, 'must be greater than or equal to 0');
    else if (isExtended(name) && !isIntegerQuantity(q)) errs.invalid(p, q.text, 'must be an integer');
    out.set(name, q);
  }
  return out;
}

function validateResourceName(errs: FieldErrors, name: string, mapPath: string, at: string, podLevel: boolean): void {
  if (podLevel) {
    if (!POD_LEVEL_RESOURCES.includes(name) && !isHugePages(name)) {
      errs.add(mapPath, `${mapPath}: Unsupported value: ${JSON.stringify(name)}: supported values: "cpu", "memory", "hugepages-<size>"`, at);
    }
    return;
  }
  if (STANDARD_CONTAINER_RESOURCES.includes(name)) return;
  if (isHugePages(name)) {
    if (!parseQuantity(name.slice('hugepages-'.length))) errs.invalid(mapPath, name, 'must be hugepages-<page size quantity>', at);
    return;
  }
  if (!name.includes('/')) {
    errs.invalid(mapPath, name, 'must be a standard resource type or fully qualified', at);
    return;
  }
  for (const msg of checkQualifiedName(name)) errs.invalid(mapPath, name, msg, at);
  if (!isExtended(name)) errs.invalid(mapPath, name, 'must be a standard resource for containers', at);
}

function isHugePages(name: string): boolean {
  return name.startsWith('hugepages-');
}

// An extended resource is a fully-qualified name outside the kubernetes.io domain
// (pkg/apis/core/helper IsExtendedResourceName).
function isExtended(name: string): boolean {
  if (!name.includes('/') || name.startsWith('requests.')) return false;
  const prefix = name.slice(0, name.indexOf('/'));
  return !(prefix === 'kubernetes.io' || prefix.endsWith('.kubernetes.io'));
}

// What the API server does to a pod on its way into storage, in the double's terms: the defaulting of
// pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_Pod), the
// QoS class of pkg/apis/core/helper/qos, and a small part of the validation of
// pkg/apis/core/validation (ValidatePodCreate / ValidatePodUpdate). Admission plugins (ServiceAccount,
// DefaultTolerationSeconds, Priority, NodeRestriction) are not run.

import type { FieldError } from './errors.js';

/** A JSON object as stored: always with metadata. */
export type Obj = Record<string, any> & { metadata: Record<string, any> };

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An image's pull policy default: Always for `:latest` or no tag, else IfNotPresent (defaults.go). */
function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Record<string, any>): void {
  if (c.image && !c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(String(c.image));
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // SetDefaults_Pod: limits without requests make the requests.
  const r = c.resources;
  if (isObj(r.limits)) {
    r.requests ??= {};
    for (const [k, v] of Object.entries(r.limits)) if (r.requests[k] === undefined) r.requests[k] = v;
  }
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (isObj(p)) p.protocol ??= 'TCP';
}

/** Fills a pod's spec defaults in place, as the API server's defaulting does on create. */
export function defaultPod(pod: Obj): void {
  const spec = (pod.spec ??= {});
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) if (isObj(c)) defaultContainer(c);
  }
}

/** The QoS class (BestEffort, Burstable, Guaranteed) of a pod, simplified to cpu and memory. */
export function podQOS(pod: Obj): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].filter(isObj);
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** metadata.name checks every resource here shares (ValidateObjectMeta with a DNS-1123 subdomain name). */
export function validateName(name: string): FieldError[] {
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return [
      {
        field: 'metadata.name',
        type: 'Invalid',
        value: name,
        detail:
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      },
    ];
  }
  return [];
}

/** The pod checks the double makes on create: containers present, each with a name and an image. */
export function validatePod(pod: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const containers = pod.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errs.push({ field: 'spec.containers', type: 'Required', detail: '' });
    return errs;
  }
  containers.forEach((c: any, i: number) => {
    if (!c?.name) errs.push({ field: `spec.containers[${i}].name`, type: 'Required', detail: '' });
    if (!c?.image) errs.push({ field: `spec.containers[${i}].image`, type: 'Required', detail: '' });
  });
  return errs;
}

/**
 * ValidatePodUpdate's rule that a pod's spec is immutable but for container images,
 * activeDeadlineSeconds, tolerations and terminationGracePeriodSeconds (simplified: tolerations may
 * change freely here, the real server only allows additions).
 */
export function validatePodSpecUpdate(spec: any, old: any): FieldError[] {
  const mask = (s: any) => {
    const c = structuredClone(s ?? {});
    for (const list of ['containers', 'initContainers']) for (const x of c[list] ?? []) delete x.image;
    delete c.activeDeadlineSeconds;
    delete c.tolerations;
    delete c.terminationGracePeriodSeconds;
    return JSON.stringify(sortKeys(c));
  };
  if (mask(spec) === mask(old)) return [];
  return [
    {
      field: 'spec',
      type: 'Forbidden',
      detail:
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    },
  ];
}

/** A copy with object keys sorted, so two objects compare equal as JSON whatever their key order. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

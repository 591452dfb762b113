// Pod-level fields of a PodSpec, as validation.go ValidatePodSpec checks them: policies, DNS,
// host namespaces, tolerations, host aliases, the pod security context and pod-level resources.
// Containers and volumes have their own files.

import { checkDNS1123Label, checkDNS1123Subdomain, checkLabelValue, checkQualifiedName, isIP } from './dns.js';
import type { FieldErrors } from './field-errors.js';
import { own, readArray, readBool, readInt, readObj, readObjArray, readString, readStringArray, readStringMap, type Obj } from './read.js';
import { validateAllContainers, validateId } from './validate-containers.js';
import { validateResources } from './validate-resources.js';
import { validateVolumes } from './validate-volumes.js';

/** Pod restartPolicy values. */
export const RESTART_POLICIES = ['Always', 'Never', 'OnFailure'] as const;
/** Pod dnsPolicy values. */
export const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;
/** Toleration and taint effects. */
export const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'] as const;

const MAX_INT32 = 2147483647;
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCHES = 32;

/** Validates a PodSpec found at `spec`. */
export function validatePodSpec(errs: FieldErrors, spec: Obj): void {
  const hostNetwork = readBool(errs, spec, 'hostNetwork', 'spec.hostNetwork') === true;
  const hostPID = readBool(errs, spec, 'hostPID', 'spec.hostPID') === true;
  readBool(errs, spec, 'hostIPC', 'spec.hostIPC');
  readBool(errs, spec, 'hostUsers', 'spec.hostUsers');
  readBool(errs, spec, 'enableServiceLinks', 'spec.enableServiceLinks');
  readBool(errs, spec, 'automountServiceAccountToken', 'spec.automountServiceAccountToken');
  if (readBool(errs, spec, 'shareProcessNamespace', 'spec.shareProcessNamespace') === true && hostPID) {
    errs.invalid('spec.shareProcessNamespace', true, 'ShareProcessNamespace and HostPID cannot both be enabled');
  }

  const restart = readString(errs, spec, 'restartPolicy', 'spec.restartPolicy');
  if (restart !== undefined && restart !== '' && !(RESTART_POLICIES as readonly string[]).includes(restart)) {
    errs.unsupported('spec.restartPolicy', restart, RESTART_POLICIES);
  }
  const grace = readInt(errs, spec, 'terminationGracePeriodSeconds', 'spec.terminationGracePeriodSeconds');
  if (grace !== undefined && grace < 0) {
    errs.invalid('spec.terminationGracePeriodSeconds', grace, 'must be greater than or equal to 0');
  }
  const deadline = readInt(errs, spec, 'activeDeadlineSeconds', 'spec.activeDeadlineSeconds');
  if (deadline !== undefined && (deadline < 1 || deadline > MAX_INT32)) {
    errs.invalid('spec.activeDeadlineSeconds', deadline, `must be between 1 and ${MAX_INT32}, inclusive`);
  }

  const volumes = validateVolumes(errs, spec);
  // Sleep hooks are checked against the grace period after defaulting (30 s when unset), as the
  // API server validates defaulted pods; an invalid period is already reported above.
  const gracePeriod = grace === undefined ? (own(spec, 'terminationGracePeriodSeconds') == null ? 30 : undefined) : grace < 0 ? undefined : grace;
  validateAllContainers(errs, spec, { volumes, hostNetwork, gracePeriod });

  validateDNS(errs, spec);
  for (const key of ['hostname', 'subdomain']) {
    const v = readString(errs, spec, key, `spec.${key}`);
    if (v) for (const msg of checkDNS1123Label(v)) errs.invalid(`spec.${key}`, v, msg);
  }
  for (const key of ['priorityClassName', 'schedulerName', 'runtimeClassName']) {
    const v = readString(errs, spec, key, `spec.${key}`);
    if (v) for (const msg of checkDNS1123Subdomain(v)) errs.invalid(`spec.${key}`, v, msg);
  }
  readString(errs, spec, 'serviceAccountName', 'spec.serviceAccountName');
  readString(errs, spec, 'serviceAccount', 'spec.serviceAccount');
  readInt(errs, spec, 'priority', 'spec.priority');
  readString(errs, spec, 'nodeName', 'spec.nodeName');

  const nodeSelector = readStringMap(errs, spec, 'nodeSelector', 'spec.nodeSelector');
  if (nodeSelector) validateLabelMap(errs, nodeSelector, 'spec.nodeSelector');
  validateTolerations(errs, spec);
  validateHostAliases(errs, spec);

  const os = readObj(errs, spec, 'os', 'spec.os');
  if (os) {
    const name = readString(errs, os, 'name', 'spec.os.name');
    if (!name) errs.required('spec.os.name');
    else if (name !== 'linux' && name !== 'windows') errs.unsupported('spec.os.name', name, ['linux', 'windows']);
  }
  const sc = readObj(errs, spec, 'securityContext', 'spec.securityContext');
  if (sc) validatePodSecurityContext(errs, sc);
  const resources = readObj(errs, spec, 'resources', 'spec.resources');
  if (resources) validateResources(errs, resources, 'spec.resources', true);
}

/** Validates label-syntax keys and values of a map (metadata.labels, spec.nodeSelector). */
export function validateLabelMap(errs: FieldErrors, map: Map<string, string>, path: string): void {
  for (const [k, v] of map) {
    for (const msg of checkQualifiedName(k)) errs.invalid(path, k, msg, `${path}[${k}]`);
    for (const msg of checkLabelValue(v)) errs.invalid(path, v, msg, `${path}[${k}]`);
  }
}

function validateDNS(errs: FieldErrors, spec: Obj): void {
  const policy = readString(errs, spec, 'dnsPolicy', 'spec.dnsPolicy');
  if (policy !== undefined && policy !== '' && !(DNS_POLICIES as readonly string[]).includes(policy)) {
    errs.unsupported('spec.dnsPolicy', policy, DNS_POLICIES);
  }
  const cfg = readObj(errs, spec, 'dnsConfig', 'spec.dnsConfig');
  if (policy === 'None' && !cfg) {
    errs.required('spec.dnsConfig', 'must provide `dnsConfig` when `dnsPolicy` is None');
  }
  if (!cfg) return;
  const nameservers = readStringArray(errs, cfg, 'nameservers', 'spec.dnsConfig.nameservers') ?? [];
  if (policy === 'None' && nameservers.length === 0) {
    errs.required('spec.dnsConfig.nameservers', 'must provide at least one DNS nameserver when `dnsPolicy` is None');
  }
  if (nameservers.length > MAX_DNS_NAMESERVERS) {
    errs.invalid('spec.dnsConfig.nameservers', nameservers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`);
  }
  nameservers.forEach((ns, i) => {
    if (!isIP(ns)) errs.invalid(`spec.dnsConfig.nameservers[${i}]`, ns, 'must be valid IP address');
  });
  const searches = readStringArray(errs, cfg, 'searches', 'spec.dnsConfig.searches') ?? [];
  if (searches.length > MAX_DNS_SEARCHES) {
    errs.invalid('spec.dnsConfig.searches', searches, `must not have more than ${MAX_DNS_SEARCHES} search paths`);
  }
  searches.forEach((s, i) => {
    // A trailing dot (fully qualified) is allowed in search paths.
    const name = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const msg of checkDNS1123Subdomain(name)) errs.invalid(`spec.dnsConfig.searches[${i}]`, s, msg);
  });
  for (const { item, path } of readObjArray(errs, cfg, 'options', 'spec.dnsConfig.options')) {
    if (!readString(errs, item, 'name', `${path}.name`)) errs.required(`${path}.name`, 'must not be empty');
    readString(errs, item, 'value', `${path}.value`);
  }
}

// validation.go ValidateTolerations.
function validateTolerations(errs: FieldErrors, spec: Obj): void {
  for (const { item, path } of readObjArray(errs, spec, 'tolerations', 'spec.tolerations')) {
    const key = readString(errs, item, 'key', `${path}.key`) ?? '';
    const operator = readString(errs, item, 'operator', `${path}.operator`) ?? '';
    const value = readString(errs, item, 'value', `${path}.value`) ?? '';
    const effect = readString(errs, item, 'effect', `${path}.effect`) ?? '';
    const seconds = readInt(errs, item, 'tolerationSeconds', `${path}.tolerationSeconds`);
    if (key !== '') for (const msg of checkQualifiedName(key)) errs.invalid(`${path}.key`, key, msg);
    if (key === '' && operator !== 'Exists') {
      errs.invalid(`${path}.operator`, operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"');
    }
    if (seconds !== undefined && effect !== 'NoExecute') {
      errs.invalid(`${path}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    if (operator === '' || operator === 'Equal') {
      for (const msg of checkLabelValue(value)) errs.invalid(`${path}.value`, value, msg);
    } else if (operator === 'Exists') {
      if (value !== '') errs.invalid(`${path}.value`, value, "value must be empty when `operator` is 'Exists'");
    } else {
      errs.unsupported(`${path}.operator`, operator, ['Equal', 'Exists']);
    }
    if (effect !== '' && !(TAINT_EFFECTS as readonly string[]).includes(effect)) {
      errs.unsupported(`${path}.effect`, effect, TAINT_EFFECTS);
    }
  }
}

function validateHostAliases(errs: FieldErrors, spec: Obj): void {
  for (const { item, path } of readObjArray(errs, spec, 'hostAliases', 'spec.hostAliases')) {
    const ip = readString(errs, item, 'ip', `${path}.ip`);
    if (!ip) errs.required(`${path}.ip`);
    else if (!isIP(ip)) errs.invalid(`${path}.ip`, ip, 'must be valid IP address');
    (readStringArray(errs, item, 'hostnames', `${path}.hostnames`) ?? []).forEach((h, i) => {
      for (const msg of checkDNS1123Subdomain(h)) errs.invalid(`${path}.hostnames[${i}]`, h, msg);
    });
  }
}

function validatePodSecurityContext(errs: FieldErrors, sc: Obj): void {
  const path = 'spec.securityContext';
  validateId(errs, sc, 'runAsUser', `${path}.runAsUser`);
  validateId(errs, sc, 'runAsGroup', `${path}.runAsGroup`);
  validateId(errs, sc, 'fsGroup', `${path}.fsGroup`);
  readBool(errs, sc, 'runAsNonRoot', `${path}.runAsNonRoot`);
  const groups = readArray(errs, sc, 'supplementalGroups', `${path}.supplementalGroups`);
  groups?.forEach((g, i) => {
    if (typeof g !== 'number' || !Number.isInteger(g)) errs.wrongType(`${path}.supplementalGroups[${i}]`, 'integer', g);
    else if (g < 0 || g > MAX_INT32) errs.invalid(`${path}.supplementalGroups[${i}]`, g, `must be between 0 and ${MAX_INT32}, inclusive`);
  });
  for (const { item, path: p } of readObjArray(errs, sc, 'sysctls', `${path}.sysctls`)) {
    if (!readString(errs, item, 'name', `${p}.name`)) errs.required(`${p}.name`);
    readString(errs, item, 'value', `${p}.value`);
  }
  const seccomp = readObj(errs, sc, 'seccompProfile', `${path}.seccompProfile`);
  if (seccomp) {
    const type = readString(errs, seccomp, 'type', `${path}.seccompProfile.type`);
    if (!type) errs.required(`${path}.seccompProfile.type`);
    else if (!['Localhost', 'RuntimeDefault', 'Unconfined'].includes(type)) {
      errs.unsupported(`${path}.seccompProfile.type`, type, ['Localhost', 'RuntimeDefault', 'Unconfined']);
    }
    const profile = readString(errs, seccomp, 'localhostProfile', `${path}.seccompProfile.localhostProfile`);
    if (type === 'Localhost' && !profile) errs.required(`${path}.seccompProfile.localhostProfile`, 'must be set when seccomp type is Localhost');
    if (type !== 'Localhost' && profile) errs.invalid(`${path}.seccompProfile.localhostProfile`, profile, 'can only be set when seccomp type is Localhost');
  }
}

// Containers and init containers, as validation.go validateContainers / validateInitContainers /
// validateContainerCommon: names, ports, env, mounts, probes, lifecycle hooks, resources, security.
// `image` is deliberately not required: the process runtime runs `command` on the host.

import { checkDNS1123Label, checkEnvVarName, checkPortName, checkPortNumber, isIP } from './dns.js';
import type { FieldErrors } from './field-errors.js';
import {
  isObj, isSet, own, readBool, readInt, readIntOrString, readObj, readObjArray, readString, readStringArray, type Obj,
} from './read.js';
import { validateResources } from './validate-resources.js';
import { validateFieldRef, validateLocalDescendingPath, validateResourceFieldRef } from './validate-volumes.js';

/** Port protocols (core/v1 Protocol). */
export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
/** imagePullPolicy values. */
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
/** terminationMessagePolicy values. */
export const TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'] as const;
/** volumeMounts[].mountPropagation values. */
export const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'] as const;

/** `fieldRef.fieldPath` values an env var may use (validation.go validEnvDownwardAPIFieldPathExpressions). */
export const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
] as const;

const ENV_SOURCES = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'] as const;
const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'] as const;
const httpHeaderName = /^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/;

/** What container validation needs to know about the pod around it. */
export interface PodContext {
  volumes: Map<string, Obj>;
  hostNetwork: boolean;
  /** spec.terminationGracePeriodSeconds, defaulted to 30 (sleep hooks must fit inside it); undefined when invalid. */
  gracePeriod: number | undefined;
}

/** Validates `spec.initContainers` and `spec.containers` (names unique across both). */
export function validateAllContainers(errs: FieldErrors, spec: Obj, pod: PodContext): void {
  const names = new Set<string>();
  const init = readObjArray(errs, spec, 'initContainers', 'spec.initContainers');
  const regular = readObjArray(errs, spec, 'containers', 'spec.containers');
  const containersValue = own(spec, 'containers');
  if (containersValue === undefined || containersValue === null || (Array.isArray(containersValue) && containersValue.length === 0)) {
    errs.required('spec.containers', 'a pod needs at least one container');
  }
  for (const { item, path } of init) validateContainer(errs, item, path, 'init', names, pod);
  const hostPorts = new Set<string>();
  for (const { item, path } of regular) {
    validateContainer(errs, item, path, 'regular', names, pod);
    accumulateHostPorts(errs, item, path, pod.hostNetwork, hostPorts);
  }
}

function validateContainer(errs: FieldErrors, c: Obj, path: string, kind: 'init' | 'regular', names: Set<string>, pod: PodContext): void {
  const name = readString(errs, c, 'name', `${path}.name`);
  if (!name) {
    errs.required(`${path}.name`);
  } else {
    for (const msg of checkDNS1123Label(name)) errs.invalid(`${path}.name`, name, msg);
    if (names.has(name)) errs.duplicate(`${path}.name`, name);
    names.add(name);
  }
  readString(errs, c, 'image', `${path}.image`);
  readStringArray(errs, c, 'command', `${path}.command`);
  readStringArray(errs, c, 'args', `${path}.args`);
  readString(errs, c, 'workingDir', `${path}.workingDir`);
  readString(errs, c, 'terminationMessagePath', `${path}.terminationMessagePath`);
  readBool(errs, c, 'stdin', `${path}.stdin`);
  readBool(errs, c, 'stdinOnce', `${path}.stdinOnce`);
  readBool(errs, c, 'tty', `${path}.tty`);
  oneOf(errs, c, 'imagePullPolicy', `${path}.imagePullPolicy`, PULL_POLICIES);
  oneOf(errs, c, 'terminationMessagePolicy', `${path}.terminationMessagePolicy`, TERMINATION_MESSAGE_POLICIES);

  // Container restartPolicy: on init containers only `Always` (a sidecar, KEP-753); on regular
  // containers not at all (the per-container restart rules of 1.34 are alpha and off by default).
  const restart = readString(errs, c, 'restartPolicy', `${path}.restartPolicy`);
  const sidecar = kind === 'init' && restart === 'Always';
  if (restart !== undefined && restart !== '') {
    if (kind === 'init' && restart !== 'Always') errs.unsupported(`${path}.restartPolicy`, restart, ['Always']);
    if (kind === 'regular') errs.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers');
  }

  validatePorts(errs, c, path, pod.hostNetwork);
  validateEnv(errs, c, path);
  validateEnvFrom(errs, c, path);
  const securityContext = readObj(errs, c, 'securityContext', `${path}.securityContext`);
  const privileged = securityContext ? validateContainerSecurityContext(errs, securityContext, `${path}.securityContext`) : false;
  validateVolumeMounts(errs, c, path, pod.volumes, privileged);
  validateVolumeDevices(errs, c, path, pod.volumes);
  const resources = readObj(errs, c, 'resources', `${path}.resources`);
  if (resources) validateResources(errs, resources, `${path}.resources`);

  // Plain init containers run to completion: probes and hooks make no sense for them.
  const probes = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
  if (kind === 'init' && !sidecar) {
    for (const field of ['lifecycle', ...probes]) {
      if (isSet(c, field)) errs.forbidden(`${path}.${field}`, 'may not be set for init containers without restartPolicy=Always');
    }
    return;
  }
  for (const field of probes) {
    const probe = readObj(errs, c, field, `${path}.${field}`);
    if (probe) validateProbe(errs, probe, `${path}.${field}`, field);
  }
  const lifecycle = readObj(errs, c, 'lifecycle', `${path}.lifecycle`);
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop'] as const) {
      const h = readObj(errs, lifecycle, hook, `${path}.lifecycle.${hook}`);
      if (h) validateHandler(errs, h, `${path}.lifecycle.${hook}`, LIFECYCLE_HANDLERS, pod.gracePeriod);
    }
  }
}

function oneOf(errs: FieldErrors, obj: Obj, key: string, path: string, allowed: readonly string[]): string | undefined {
  const v = readString(errs, obj, key, path);
  if (v !== undefined && v !== '' && !allowed.includes(v)) errs.unsupported(path, v, allowed);
  return v;
}

function validatePorts(errs: FieldErrors, c: Obj, path: string, hostNetwork: boolean): void {
  const names = new Set<string>();
  for (const { item, path: p } of readObjArray(errs, c, 'ports', `${path}.ports`)) {
    const name = readString(errs, item, 'name', `${p}.name`);
    if (name) {
      for (const msg of checkPortName(name)) errs.invalid(`${p}.name`, name, msg);
      if (names.has(name)) errs.duplicate(`${p}.name`, name);
      names.add(name);
    }
    const containerPort = readInt(errs, item, 'containerPort', `${p}.containerPort`);
    if (containerPort === undefined || containerPort === 0) {
      if (!isSet(item, 'containerPort') || containerPort === 0) errs.required(`${p}.containerPort`);
    } else {
      for (const msg of checkPortNumber(containerPort)) errs.invalid(`${p}.containerPort`, containerPort, msg);
    }
    const hostPort = readInt(errs, item, 'hostPort', `${p}.hostPort`);
    if (hostPort !== undefined && hostPort !== 0) {
      for (const msg of checkPortNumber(hostPort)) errs.invalid(`${p}.hostPort`, hostPort, msg);
      if (hostNetwork && containerPort !== undefined && hostPort !== containerPort) {
        errs.invalid(`${p}.hostPort`, hostPort, 'must match `containerPort` when `hostNetwork` is true');
      }
    }
    oneOf(errs, item, 'protocol', `${p}.protocol`, PROTOCOLS);
    const hostIP = readString(errs, item, 'hostIP', `${p}.hostIP`);
    if (hostIP && !isIP(hostIP)) errs.invalid(`${p}.hostIP`, hostIP, 'must be a valid IP address');
  }
}

// Two containers of one pod cannot bind the same host port (validation.go checkHostPortConflicts).
function accumulateHostPorts(errs: FieldErrors, c: Obj, path: string, hostNetwork: boolean, seen: Set<string>): void {
  const ports = own(c, 'ports');
  if (!Array.isArray(ports)) return;
  ports.forEach((port, i) => {
    if (!isObj(port)) return;
    const hp = own(port, 'hostPort');
    const cp = own(port, 'containerPort');
    // With hostNetwork the API server defaults hostPort to containerPort before this check.
    const effective = typeof hp === 'number' && hp !== 0 ? hp : hostNetwork && typeof cp === 'number' ? cp : 0;
    if (!Number.isInteger(effective) || effective === 0) return;
    const proto = typeof own(port, 'protocol') === 'string' && own(port, 'protocol') !== '' ? String(own(port, 'protocol')) : 'TCP';
    const ip = typeof own(port, 'hostIP') === 'string' ? String(own(port, 'hostIP')) : '';
    const key = `${ip}/${proto}/${effective}`;
    if (seen.has(key)) errs.duplicate(`${path}.ports[${i}].hostPort`, key);
    seen.add(key);
  });
}

function validateEnv(errs: FieldErrors, c: Obj, path: string): void {
  for (const { item, path: p } of readObjArray(errs, c, 'env', `${path}.env`)) {
    const name = readString(errs, item, 'name', `${p}.name`);
    if (!name) errs.required(`${p}.name`);
    else for (const msg of checkEnvVarName(name)) errs.invalid(`${p}.name`, name, msg);
    const value = readString(errs, item, 'value', `${p}.value`);
    const from = readObj(errs, item, 'valueFrom', `${p}.valueFrom`);
    if (!from) continue;
    const sources = ENV_SOURCES.filter((s) => isSet(from, s));
    if (value) errs.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty');
    if (sources.length === 0) {
      errs.invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
    } else if (sources.length > 1) {
      errs.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time');
    }
    const fieldRef = readObj(errs, from, 'fieldRef', `${p}.valueFrom.fieldRef`);
    if (fieldRef) validateFieldRef(errs, fieldRef, `${p}.valueFrom.fieldRef`, ENV_FIELD_PATHS, false);
    const resRef = readObj(errs, from, 'resourceFieldRef', `${p}.valueFrom.resourceFieldRef`);
    if (resRef) validateResourceFieldRef(errs, resRef, `${p}.valueFrom.resourceFieldRef`, false);
    // secretKeyRef / configMapKeyRef are refused for static pods in validate-static.ts.
  }
}

function validateEnvFrom(errs: FieldErrors, c: Obj, path: string): void {
  for (const { item, path: p } of readObjArray(errs, c, 'envFrom', `${path}.envFrom`)) {
    const prefix = readString(errs, item, 'prefix', `${p}.prefix`);
    if (prefix) for (const msg of checkEnvVarName(prefix)) errs.invalid(`${p}.prefix`, prefix, msg);
    const n = ['configMapRef', 'secretRef'].filter((s) => isSet(item, s)).length;
    if (n === 0) errs.invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`');
    else if (n > 1) errs.invalid(p, '', 'may not have more than one field specified at a time');
  }
}

function validateVolumeMounts(errs: FieldErrors, c: Obj, path: string, volumes: Map<string, Obj>, privileged: boolean): void {
  const mountPaths = new Set<string>();
  for (const { item, path: p } of readObjArray(errs, c, 'volumeMounts', `${path}.volumeMounts`)) {
    const name = readString(errs, item, 'name', `${p}.name`);
    if (!name) errs.required(`${p}.name`);
    else if (!volumes.has(name)) errs.notFound(`${p}.name`, name);
    const mountPath = readString(errs, item, 'mountPath', `${p}.mountPath`);
    if (!mountPath) {
      errs.required(`${p}.mountPath`);
    } else {
      if (mountPaths.has(mountPath)) errs.invalid(`${p}.mountPath`, mountPath, 'must be unique');
      mountPaths.add(mountPath);
    }
    const readOnly = readBool(errs, item, 'readOnly', `${p}.readOnly`);
    const subPath = readString(errs, item, 'subPath', `${p}.subPath`);
    const subPathExpr = readString(errs, item, 'subPathExpr', `${p}.subPathExpr`);
    if (subPath && subPathExpr) errs.invalid(`${p}.subPathExpr`, subPathExpr, 'subPathExpr and subPath are mutually exclusive');
    if (subPath) validateLocalDescendingPath(errs, subPath, `${p}.subPath`);
    if (subPathExpr) validateLocalDescendingPath(errs, subPathExpr, `${p}.subPathExpr`);
    const propagation = oneOf(errs, item, 'mountPropagation', `${p}.mountPropagation`, MOUNT_PROPAGATIONS);
    if (propagation === 'Bidirectional' && !privileged) {
      errs.forbidden(`${p}.mountPropagation`, 'Bidirectional mount propagation is available only to privileged containers');
    }
    const rro = oneOf(errs, item, 'recursiveReadOnly', `${p}.recursiveReadOnly`, ['Disabled', 'Enabled', 'IfPossible']);
    if ((rro === 'Enabled' || rro === 'IfPossible') && readOnly !== true) {
      errs.forbidden(`${p}.recursiveReadOnly`, 'may only be specified when readOnly is true');
    }
    if (rro === 'Enabled' && propagation !== undefined && propagation !== '' && propagation !== 'None') {
      errs.forbidden(`${p}.recursiveReadOnly`, 'may only be specified when mountPropagation is None or not specified');
    }
  }
}

function validateVolumeDevices(errs: FieldErrors, c: Obj, path: string, volumes: Map<string, Obj>): void {
  for (const { item, path: p } of readObjArray(errs, c, 'volumeDevices', `${path}.volumeDevices`)) {
    const name = readString(errs, item, 'name', `${p}.name`);
    if (!readString(errs, item, 'devicePath', `${p}.devicePath`)) errs.required(`${p}.devicePath`);
    if (!name) {
      errs.required(`${p}.name`);
      continue;
    }
    const vol = volumes.get(name);
    if (!vol) errs.notFound(`${p}.name`, name);
    else if (!isSet(vol, 'persistentVolumeClaim') && !isSet(vol, 'ephemeral')) {
      errs.invalid(`${p}.name`, name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode');
    }
  }
}

function validateContainerSecurityContext(errs: FieldErrors, sc: Obj, path: string): boolean {
  const privileged = readBool(errs, sc, 'privileged', `${path}.privileged`);
  const escalation = readBool(errs, sc, 'allowPrivilegeEscalation', `${path}.allowPrivilegeEscalation`);
  if (privileged === true && escalation === false) {
    errs.invalid(`${path}`, escalation, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true');
  }
  readBool(errs, sc, 'readOnlyRootFilesystem', `${path}.readOnlyRootFilesystem`);
  readBool(errs, sc, 'runAsNonRoot', `${path}.runAsNonRoot`);
  validateId(errs, sc, 'runAsUser', `${path}.runAsUser`);
  validateId(errs, sc, 'runAsGroup', `${path}.runAsGroup`);
  oneOf(errs, sc, 'procMount', `${path}.procMount`, ['Default', 'Unmasked']);
  const caps = readObj(errs, sc, 'capabilities', `${path}.capabilities`);
  if (caps) {
    readStringArray(errs, caps, 'add', `${path}.capabilities.add`);
    readStringArray(errs, caps, 'drop', `${path}.capabilities.drop`);
  }
  return privileged === true;
}

/** A user or group id: an integer 0–2147483647 (validation.go ValidateNonnegativeField / IsValidUserID). */
export function validateId(errs: FieldErrors, obj: Obj, key: string, path: string): void {
  const id = readInt(errs, obj, key, path);
  if (id !== undefined && (id < 0 || id > 2147483647)) errs.invalid(path, id, 'must be between 0 and 2147483647, inclusive');
}

function validateProbe(errs: FieldErrors, probe: Obj, path: string, kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe'): void {
  validateHandler(errs, probe, path, PROBE_HANDLERS, undefined);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const v = readInt(errs, probe, f, `${path}.${f}`);
    if (v !== undefined && v < 0) errs.invalid(`${path}.${f}`, v, 'must be greater than or equal to 0');
  }
  const success = own(probe, 'successThreshold');
  if (kind !== 'readinessProbe' && typeof success === 'number' && success !== 1) {
    errs.invalid(`${path}.successThreshold`, success, 'must be 1');
  }
  const grace = readInt(errs, probe, 'terminationGracePeriodSeconds', `${path}.terminationGracePeriodSeconds`);
  if (grace !== undefined) {
    if (kind === 'readinessProbe') errs.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must not be set for readinessProbes');
    else if (grace <= 0) errs.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be greater than 0');
  }
}

// A probe or lifecycle handler: exactly one action, each action well formed.
function validateHandler(errs: FieldErrors, h: Obj, path: string, kinds: readonly string[], gracePeriod: number | undefined): void {
  const present = kinds.filter((k) => isSet(h, k));
  if (present.length === 0) errs.required(path, 'must specify a handler type');
  else if (present.length > 1) errs.forbidden(`${path}.${present[1]}`, 'may not specify more than 1 handler type');

  const exec = readObj(errs, h, 'exec', `${path}.exec`);
  if (exec) {
    const cmd = readStringArray(errs, exec, 'command', `${path}.exec.command`);
    if (!cmd || cmd.length === 0) errs.required(`${path}.exec.command`);
  }
  const http = readObj(errs, h, 'httpGet', `${path}.httpGet`);
  if (http) {
    readString(errs, http, 'path', `${path}.httpGet.path`);
    readString(errs, http, 'host', `${path}.httpGet.host`);
    validatePortNumOrName(errs, http, `${path}.httpGet.port`);
    oneOf(errs, http, 'scheme', `${path}.httpGet.scheme`, ['HTTP', 'HTTPS']);
    for (const { item, path: hp } of readObjArray(errs, http, 'httpHeaders', `${path}.httpGet.httpHeaders`)) {
      const name = readString(errs, item, 'name', `${hp}.name`);
      if (!name) errs.required(`${hp}.name`);
      else if (!httpHeaderName.test(name)) errs.invalid(`${hp}.name`, name, 'a valid HTTP header must consist of alphanumeric characters, \'-\', or other token characters');
      readString(errs, item, 'value', `${hp}.value`);
    }
  }
  const tcp = readObj(errs, h, 'tcpSocket', `${path}.tcpSocket`);
  if (tcp) {
    validatePortNumOrName(errs, tcp, `${path}.tcpSocket.port`);
    readString(errs, tcp, 'host', `${path}.tcpSocket.host`);
  }
  const grpc = readObj(errs, h, 'grpc', `${path}.grpc`);
  if (grpc) {
    const port = readInt(errs, grpc, 'port', `${path}.grpc.port`);
    if (port === undefined) errs.required(`${path}.grpc.port`);
    else for (const msg of checkPortNumber(port)) errs.invalid(`${path}.grpc.port`, port, msg);
    readString(errs, grpc, 'service', `${path}.grpc.service`);
  }
  const sleep = readObj(errs, h, 'sleep', `${path}.sleep`);
  if (sleep) {
    const seconds = readInt(errs, sleep, 'seconds', `${path}.sleep.seconds`);
    if (seconds === undefined) errs.required(`${path}.sleep.seconds`);
    else if (seconds < 0 || (gracePeriod !== undefined && seconds > gracePeriod)) {
      errs.invalid(`${path}.sleep.seconds`, seconds, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod ?? '-'})`);
    }
  }
}

function validatePortNumOrName(errs: FieldErrors, obj: Obj, path: string): void {
  const port = readIntOrString(errs, obj, 'port', path);
  if (port === undefined) errs.required(path);
  else if (typeof port === 'number') for (const msg of checkPortNumber(port)) errs.invalid(path, port, msg);
  else for (const msg of checkPortName(port)) errs.invalid(path, port, msg);
}

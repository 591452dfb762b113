// Every write (create, update, patch, delete) is refused with a Kubernetes Status 405 MethodNotAllowed
// whose message says where the truth lives: static pods are changed by editing their manifest file.

import type { IncomingMessage } from 'node:http';
import { ConfigFileAnnotation } from '../../api/types.js';
import type { NodeView } from '../node-view.js';
import { invalidName } from '../object-names.js';
import type { PodCache } from './pod-cache.js';
import { methodNotAllowed, type StatusError } from './status-errors.js';

/** What a refused write was aimed at, as far as the path tells. */
export interface WriteTarget {
  resource: string;
  namespace?: string;
  name?: string;
}

/**
 * The 405 for a write. For a pod nodelet runs, the message names its manifest file; for a create, the
 * pod named in `body` (read by the caller within the body limit) and the directory its manifest
 * belongs in.
 */
export async function refuseWrite(view: NodeView, cache: PodCache, req: IncomingMessage, target: WriteTarget, body?: Buffer): Promise<StatusError> {
  const dir = view.config.staticPodPath || '(no --pod-manifest-path is set)';
  const verb = req.method === 'DELETE' ? 'delete' : req.method === 'POST' ? 'create' : 'change';
  if (target.resource !== 'pods') {
    // exec, attach, port-forward and friends are not writes to a manifest: no advice about files then.
    const advice = target.resource.startsWith('pods/') ? '' : `; static pods are managed through the manifest directory ${dir}`;
    return methodNotAllowed(`nodelet's API is read-only: it cannot ${verb} ${target.resource}${advice}`, {
      kind: target.resource,
      ...(target.name ? { name: target.name } : {}),
    });
  }
  let name = target.name;
  if (!name && req.method === 'POST' && body) name = nameFromBody(body);
  const ns = target.namespace ?? 'default';
  const pod = name ? (cache.get(ns, name) ?? cache.get(ns, `${name}-${view.config.nodeName}`)) : undefined;
  const file = pod?.metadata?.annotations?.[ConfigFileAnnotation];
  const details = { kind: 'pods', ...(name ? { name: pod?.metadata?.name ?? name } : {}) };
  if (pod && file) {
    const todo = req.method === 'DELETE' ? 'delete' : 'change';
    const how = req.method === 'DELETE' ? 'remove' : 'edit';
    return methodNotAllowed(
      `static pods are managed through the manifest directory: to ${todo} pod "${pod.metadata!.name}", ${how} its manifest file ${file} (nodelet's API is read-only)`,
      details,
    );
  }
  const what = name ? `pod "${name}"` : 'a pod';
  if (req.method === 'POST') {
    return methodNotAllowed(`static pods are managed through the manifest directory: to create ${what}, write its manifest into ${dir} (nodelet's API is read-only)`, details);
  }
  return methodNotAllowed(`static pods are managed through the manifest directory ${dir}: nodelet runs no ${what} in namespace "${ns}" (nodelet's API is read-only)`, details);
}

// The name is repeated in the message only when it could name a pod at all.
function nameFromBody(body: Buffer): string | undefined {
  try {
    const obj = JSON.parse(body.toString('utf8')) as { metadata?: { name?: unknown } } | null;
    const name = obj?.metadata?.name;
    return typeof name === 'string' && !invalidName('pod', name) ? name : undefined;
  } catch {
    // A YAML or protobuf body: the message goes without the name.
    return undefined;
  }
}

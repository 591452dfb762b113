// Every write (create, update, patch, delete) is refused with a Kubernetes Status 405 MethodNotAllowed
// whose message says where the truth lives: static pods are changed by editing their manifest file.

import type { IncomingMessage } from 'node:http';
import { ConfigFileAnnotation } from '../../api/types.js';
import type { NodeView } from '../node-view.js';
import type { PodCache } from './pod-cache.js';
import { methodNotAllowed, type StatusError } from './status-errors.js';

/** What a refused write was aimed at, as far as the path tells. */
export interface WriteTarget {
  resource: string;
  namespace?: string;
  name?: string;
}

// A create's body is read only to name the pod in the message; anything larger is not worth reading.
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The 405 for a write. For a pod nodelet runs, the message names its manifest file; for a create, the
 * pod named in the body and the directory its manifest belongs in.
 */
export async function refuseWrite(view: NodeView, cache: PodCache, req: IncomingMessage, target: WriteTarget): Promise<StatusError> {
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
  if (!name && req.method === 'POST') name = await nameFromBody(req);
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

async function nameFromBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(c as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata?: { name?: unknown } };
    return typeof body.metadata?.name === 'string' ? body.metadata.name : undefined;
  } catch {
    // A YAML or protobuf body: the message goes without the name.
    return undefined;
  }
}

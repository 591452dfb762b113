import type { Pod } from '../api/types.js';
import { NodeletError } from '../errors.js';

/**
 * Finds the pod a user means: its name (`web-node1`) or its manifest's own name (`web`, which static
 * pods get the node name appended to), in one namespace or, when unambiguous, in any.
 */
export function resolvePod(pods: Pod[], name: string, namespace: string | undefined): Pod {
  const inNs = pods.filter((p) => !namespace || (p.metadata?.namespace ?? 'default') === namespace);
  const exact = inNs.filter((p) => p.metadata?.name === name);
  if (exact.length === 1) return exact[0]!;
  const node = inNs[0]?.spec?.nodeName;
  const suffixed = inNs.filter((p) => node && p.metadata?.name === `${name}-${node}`);
  if (suffixed.length === 1) return suffixed[0]!;
  if (exact.length + suffixed.length > 1) {
    throw new NodeletError('BadRequest', `pod ${name} exists in several namespaces: choose one with -n`);
  }
  throw new NodeletError('NotFound', `pod ${name} not found${namespace ? ` in namespace ${namespace}` : ''}`);
}

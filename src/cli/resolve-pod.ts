import { ConfigSeenAnnotation, type Pod } from '../api/types.js';
import { NodeletError } from '../errors.js';

/**
 * Finds the pod a user means: its name (`web-node1`) or its manifest's own name (`web`, which static
 * pods get the node name appended to), in one namespace or, when unambiguous, in any. While an edited
 * manifest's old pod is still stopping, both versions share a name: the newer one is meant.
 */
export function resolvePod(pods: Pod[], name: string, namespace: string | undefined): Pod {
  const inNs = pods.filter((p) => !namespace || nsOf(p) === namespace);
  const node = inNs[0]?.spec?.nodeName;
  const exact = newestByName(inNs.filter((p) => p.metadata?.name === name));
  if (exact.length === 1) return exact[0]!;
  const suffixed = newestByName(inNs.filter((p) => node && p.metadata?.name === `${name}-${node}`));
  if (suffixed.length === 1 && exact.length === 0) return suffixed[0]!;
  const found = [...exact, ...suffixed];
  if (found.length > 1) {
    const where = found.map((p) => `${nsOf(p)}/${p.metadata?.name}`).join(', ');
    throw new NodeletError('BadRequest', `pod ${name} is ambiguous (${where}): choose one with -n or its full name`);
  }
  throw new NodeletError('NotFound', `pod ${name} not found${namespace ? ` in namespace ${namespace}` : ''}`);
}

function nsOf(p: Pod): string {
  return p.metadata?.namespace ?? 'default';
}

/** One pod per namespace/name: the one nodelet saw last (an edit's new pod, not the old one stopping). */
function newestByName(pods: Pod[]): Pod[] {
  const byName = new Map<string, Pod>();
  for (const p of pods) {
    const key = `${nsOf(p)}/${p.metadata?.name}`;
    const had = byName.get(key);
    if (!had || seenAt(p) >= seenAt(had)) byName.set(key, p);
  }
  return [...byName.values()];
}

function seenAt(p: Pod): number {
  const seen = Date.parse(p.metadata?.annotations?.[ConfigSeenAnnotation] ?? '');
  return Number.isNaN(seen) ? 0 : seen;
}

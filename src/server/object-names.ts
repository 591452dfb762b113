// Names taken from a URL are checked against the syntax their objects have before anything is looked
// up with them: a namespace and a container name are DNS-1123 labels, a pod or event name a DNS-1123
// subdomain (the API server's ValidateNamespaceName, ValidatePodName, container name rules). Nothing
// that could not name an object goes further, nor is it echoed back.

import { checkDNS1123Label, checkDNS1123Subdomain } from '../manifest/dns.js';

/** What a URL names: a namespace, a pod, an event, a container, an API group. */
export type NameKind = 'namespace' | 'pod' | 'event' | 'container' | 'group';

/** Why the name of a `kind` is refused (the value itself is not repeated), or undefined when it is valid. */
export function invalidName(kind: NameKind, value: string): string | undefined {
  const label = kind === 'namespace' || kind === 'container';
  const errs = label ? checkDNS1123Label(value) : checkDNS1123Subdomain(value);
  if (errs.length === 0) return undefined;
  return `invalid ${kind} name: it must be a ${label ? 'DNS-1123 label of at most 63' : 'DNS-1123 subdomain of at most 253'} characters`;
}

import type { Pod } from '../api/types.js';
import type { DnsConfig } from '../runtime/types.js';

// pkg/kubelet/network/dns/dns.go: the resolver limits the kubelet enforces.
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** Parses resolv.conf text into nameservers, search domains and options (dns.go parseResolvConf). */
export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.servers.push(fields[0]);
    // The last search line wins, as in glibc.
    else if (key === 'search') out.searches = fields.filter((d) => d !== '.');
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

/**
 * The resolver settings of a pod (dns.go GetPodDNS). nodelet has no cluster DNS, so ClusterFirst falls
 * back to the host's resolv.conf, as the kubelet does when clusterDNS is unset; `None` uses only the
 * pod's dnsConfig, which is merged on top of the others.
 */
export function podDnsConfig(pod: Pod, host: DnsConfig): DnsConfig {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const base: DnsConfig = policy === 'None' ? { servers: [], searches: [], options: [] } : structuredClone(host);
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    base.servers = unique([...base.servers, ...(extra.nameservers ?? []).filter((x): x is string => !!x)]);
    base.searches = unique([...base.searches, ...(extra.searches ?? []).filter((x): x is string => !!x)]);
    base.options = mergeOptions(base.options, (extra.options ?? []).flatMap((o) => (!o.name ? [] : o.value !== undefined ? [`${o.name}:${o.value}`] : [o.name])));
  }
  base.servers = base.servers.slice(0, MAX_NAMESERVERS);
  base.searches = base.searches.slice(0, MAX_SEARCHES);
  return base;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** Options by name; a later one (the pod's) replaces an earlier one (the host's). */
function mergeOptions(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...base, ...extra]) byName.set(o.split(':')[0]!, o);
  return [...byName.values()];
}

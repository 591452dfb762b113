/**
 * Orders strings by UTF-16 code units, as Go's `sort.Strings` orders the kubelet's and kubectl's lists
 * (byte order, the same for the ASCII of Kubernetes names). Not `localeCompare`: that is slower, and
 * its collation (case folded, punctuation ignored) is not the order Kubernetes prints.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

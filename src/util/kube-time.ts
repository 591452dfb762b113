/** A Kubernetes `metav1.Time`: RFC 3339 in UTC with whole seconds, as the API serialises it. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

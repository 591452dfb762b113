import type { Container, Pod } from '../api/types.js';
import type { Runtime } from '../runtime/types.js';

/** Whether the pod gets an IP of its own from the runtime (a CNI network); a host-network pod has the node's. */
export function hasOwnPodIP(pod: Pod, runtime: Runtime): boolean {
  return Boolean(runtime.podNetwork) && !pod.spec?.hostNetwork;
}

/** Whether the container's environment (and so its command and args, through `$(VAR)`) reads the pod IP. */
export function envReadsPodIP(c: Container): boolean {
  return (c.env ?? []).some((e) => {
    const p = e.valueFrom?.fieldRef?.fieldPath;
    return p === 'status.podIP' || p === 'status.podIPs';
  });
}

/**
 * The pod's own IP, asked of the runtime (CRI PodSandboxStatus) once per sandbox. The question is sent
 * as soon as the sandbox exists and its answer is not waited for on the way to the first container
 * start: the IP is first needed by the pod status, probes and hooks, which come after the start (or by
 * an env fieldRef, whose container waits for it). On a loaded containerd that takes one round trip off
 * every pod's start. A failed answer is asked again on the next sync.
 */
export class PodIPTracker {
  private ip: string | undefined;
  /** The sandbox whose IP is being asked or known, and the answer: resolves when it is in, never rejects. */
  private asked: { sandboxId: string; answer: Promise<void> } | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The IP of the current sandbox, when known. */
  get current(): string | undefined {
    return this.ip;
  }

  /** Known without asking: an adopted sandbox's, from the runtime's list. */
  adopt(sandboxId: string, ip: string | undefined): void {
    this.ip = ip;
    this.asked = { sandboxId, answer: Promise.resolve() };
  }

  /** A new sandbox: the old IP is forgotten, the new one asked (not awaited) when the pod has its own. */
  reset(sandboxId: string, ask: boolean): void {
    this.ip = undefined;
    this.asked = undefined;
    if (ask) this.ask(sandboxId);
  }

  /** Asks again for a sandbox whose earlier question failed; nothing when asked or known already. */
  ensureAsked(sandboxId: string): void {
    if (this.asked?.sandboxId !== sandboxId) this.ask(sandboxId);
  }

  /** Resolves once the current question (if any) has its answer. */
  async known(): Promise<void> {
    await this.asked?.answer;
  }

  private ask(sandboxId: string): void {
    const asked: { sandboxId: string; answer: Promise<void> } = {
      sandboxId,
      answer: this.runtime.podSandboxStatus(sandboxId).then(
        (sb) => {
          // A newer sandbox's question supersedes this one.
          if (this.asked === asked) this.ip = sb?.ip;
        },
        (err: unknown) => {
          if (this.asked !== asked) return;
          this.asked = undefined; // asked again on the next sync
          this.onError(err);
        },
      ),
    };
    this.asked = asked;
  }
}

/**
 * The exec probe (pkg/probe/exec/exec.go, prober.go newExecInContainer): the command runs in the
 * container through the runtime's ExecSync; exit 0 is success, any other exit a failure with the
 * output, a timeout a failure `command "…" timed out` (remote_runtime.go ExecSync with the
 * ExecProbeTimeout gate, on by default). A runtime error (container gone) is a prober error.
 */
import type { Container } from '../api/types.js';
import { expand } from '../container/expansion.js';
import { errorMessage } from '../errors.js';
import type { Runtime } from '../runtime/types.js';
import { MAX_BODY_BYTES } from './http-get.js';
import type { ProbeOutcome } from './types.js';

/** Extra time the runtime gets to report its own timeout before we stop waiting for it. */
const RUNTIME_GRACE_MS = 5_000;

/**
 * The probe's command with `$(VAR)` expanded from the container's literal env values only
 * (kubecontainer.ExpandContainerCommandOnlyStatic: no downward API in probes).
 */
export function expandProbeCommand(command: readonly string[], container: Container): string[] {
  const statics = new Map<string, string>();
  for (const e of container.env ?? []) if (!e.valueFrom) statics.set(e.name, e.value ?? '');
  return command.map((s) => expand(s, (n) => statics.get(n)));
}

/** Runs one exec probe; never throws. */
export async function execProbe(runtime: Runtime, containerId: string, command: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  let guard: NodeJS.Timeout | undefined;
  try {
    // The runtime enforces the timeout itself; this guard only keeps a hung runtime from parking the probe forever.
    const stuck = new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error(`runtime did not answer exec within ${timeoutSeconds}s`)), timeoutSeconds * 1000 + RUNTIME_GRACE_MS);
      guard.unref();
    });
    const r = await Promise.race([runtime.execSync(containerId, command, timeoutSeconds), stuck]);
    if (r.timedOut) return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
    // CombinedOutput in the kubelet; ExecSync gives the streams apart, so stdout then stderr.
    const output = (r.stdout + r.stderr).slice(0, MAX_BODY_BYTES);
    return r.exitCode === 0 ? { result: 'success', output } : { result: 'failure', output };
  } catch (err) {
    return { result: 'unknown', error: errorMessage(err) };
  } finally {
    clearTimeout(guard);
  }
}

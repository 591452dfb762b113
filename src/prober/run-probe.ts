/**
 * Runs the handler of one probe once (prober.go runProbe / runProbeWithRetries): exec, httpGet,
 * tcpSocket or grpc, each bounded by the probe's timeoutSeconds. Prober errors (not failures) are
 * retried up to 3 times, as the kubelet does.
 */
import type { Container, Pod } from '../api/types.js';
import type { HTTPGetAction, Probe } from 'kubernetes-types/core/v1.js';
import { errorMessage } from '../errors.js';
import type { Runtime } from '../runtime/types.js';
import { execProbe, expandProbeCommand } from './exec-probe.js';
import { formatPod } from './go-format.js';
import { grpcProbe } from './grpc-probe.js';
import { buildHttpGetRequest, type HttpGetRequest } from './http-get.js';
import { httpProbe } from './http-probe.js';
import { resolveContainerPort } from './probe-spec.js';
import { tcpProbe } from './tcp-probe.js';
import type { ProbeOutcome } from './types.js';

/** prober.go maxProbeRetries. */
const MAX_PROBE_RETRIES = 3;

/** What a probe runs against. */
export interface ProbeTarget {
  pod: Pod;
  container: Container;
  containerId: string;
  runtime: Runtime;
  podIP: string;
}

/** Runs `probe` once, retrying prober errors; never throws. */
export async function runProbe(probe: Probe, target: ProbeTarget, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  let outcome: ProbeOutcome = { result: 'unknown', error: 'probe not run' };
  for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
    if (signal?.aborted) return { result: 'unknown', error: 'probe canceled' };
    outcome = await runOnce(probe, target, timeoutSeconds, signal);
    if (outcome.result !== 'unknown') return outcome;
  }
  return outcome;
}

/**
 * The request of an httpGet probe, built once per action and pod IP: a probe every second for the
 * container's life would otherwise parse the same URL and headers every time.
 */
const builtRequests = new WeakMap<HTTPGetAction, { podIP: string; container: Container; req: HttpGetRequest }>();
function httpRequestOf(action: HTTPGetAction, t: ProbeTarget): HttpGetRequest {
  const built = builtRequests.get(action);
  if (built && built.podIP === t.podIP && built.container === t.container) return built.req;
  const req = buildHttpGetRequest(action, t.container, t.podIP, 'probe');
  builtRequests.set(action, { podIP: t.podIP, container: t.container, req });
  return req;
}

async function runOnce(probe: Probe, t: ProbeTarget, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const timeoutMs = timeoutSeconds * 1000;
  try {
    if (probe.exec) {
      return await execProbe(t.runtime, t.containerId, expandProbeCommand(probe.exec.command ?? [], t.container), timeoutSeconds);
    }
    if (probe.httpGet) {
      return await httpProbe(httpRequestOf(probe.httpGet, t), timeoutMs, signal);
    }
    if (probe.tcpSocket) {
      const port = resolveContainerPort(probe.tcpSocket.port, t.container);
      return await tcpProbe(probe.tcpSocket.host || t.podIP, port, timeoutMs, signal);
    }
    if (probe.grpc) {
      // GRPCAction has no host: always the pod IP (prober.go).
      return await grpcProbe(t.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutMs, signal);
    }
    return { result: 'unknown', error: `missing probe handler for ${formatPod(t.pod)}:${t.container.name}` };
  } catch (err) {
    // Port resolution and similar set-up errors: prober errors, as in the kubelet.
    return { result: 'unknown', error: errorMessage(err) };
  }
}

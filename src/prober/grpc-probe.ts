/**
 * The grpc probe (pkg/probe/grpc/grpc.go): connect (waiting until connected or the timeout, as
 * grpc.WithBlock), call grpc.health.v1.Health/Check with `service`, SERVING is success. A fresh
 * channel with its own subchannel pool per probe, closed afterwards, as the kubelet dials per probe:
 * a shared channel stuck in reconnect back-off would fail probes of a server that is already back.
 */
import { goDuration, joinHostPort, KUBE_VERSION } from './go-format.js';
import { decodeHealthResponse, encodeHealthRequest, HEALTH_CHECK_PATH, SERVING_STATUS } from './grpc-health.js';
import type { ProbeOutcome } from './types.js';

// Loaded on first use: most nodes never run a grpc probe, and grpc-js is slow to import.
let grpcModule: Promise<typeof import('@grpc/grpc-js')> | undefined;
const loadGrpc = () => (grpcModule ??= import('@grpc/grpc-js'));

/** Runs one gRPC health probe against host:port; never throws. */
export async function grpcProbe(host: string, port: number, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const grpc = await loadGrpc();
  const addr = joinHostPort(host, port);
  const timeout = goDuration(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': `kube-probe/${KUBE_VERSION}`,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
    'grpc.service_config_disable_resolution': 1,
  });
  try {
    if (signal?.aborted) return { result: 'failure', output: `error: failed to connect service at ${JSON.stringify(addr)}: context canceled` };
    const connectErr = await new Promise<Error | undefined>((resolve) => {
      const onAbort = () => resolve(new Error('context canceled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      client.waitForReady(deadline, (err) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(err ?? undefined);
      });
    });
    if (connectErr) {
      if (connectErr.message === 'context canceled') {
        return { result: 'failure', output: `error: failed to connect service at ${JSON.stringify(addr)}: context canceled` };
      }
      return { result: 'failure', output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeout}: context deadline exceeded` };
    }
    const res = await new Promise<{ status: number } | { code: number; details: string }>((resolve) => {
      const call = client.makeUnaryRequest(
        HEALTH_CHECK_PATH,
        encodeHealthRequest,
        decodeHealthResponse,
        { service },
        new grpc.Metadata(),
        { deadline },
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(err ? { code: err.code, details: err.details } : value!);
        },
      );
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    if ('code' in res) {
      const code = res.code;
      if (code === grpc.status.UNIMPLEMENTED) {
        return { result: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${res.details}` };
      }
      if (code === grpc.status.DEADLINE_EXCEEDED) return { result: 'failure', output: `timeout: health rpc did not complete within ${timeout}` };
      return { result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${goCodeName(grpc.status[code] ?? String(code))} desc = ${res.details}` };
    }
    if (res.status !== 1) {
      return { result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[res.status] ?? String(res.status))})` };
    }
    return { result: 'success', output: 'service healthy' };
  } finally {
    client.close();
  }
}

/** grpc-js `NOT_FOUND` → Go's codes.Code String() `NotFound`. */
function goCodeName(name: string): string {
  if (name === 'OK') return name;
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

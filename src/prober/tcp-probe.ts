/**
 * The tcpSocket probe (pkg/probe/tcp/tcp.go DoTCPProbe): a connection opened within the timeout is a
 * success, and is closed at once.
 */
import net from 'node:net';
import { joinHostPort } from './go-format.js';
import type { ProbeOutcome } from './types.js';

/** Connects to host:port; never throws. */
export function tcpProbe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host, port });
    const done = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` }), Math.max(1, timeoutMs));
    timer.unref();
    const onAbort = () => done({ result: 'failure', output: `dial tcp ${addr}: operation was canceled` });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ result: 'success', output: '' }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
      done({ result: 'failure', output: `dial tcp ${addr}: ${reason}` });
    });
  });
}

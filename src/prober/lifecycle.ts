/**
 * Lifecycle hooks, postStart and preStop (pkg/kubelet/lifecycle/handlers.go handlerRunner.Run): exec
 * through the runtime's ExecSync, httpGet with the probe client (`kube-lifecycle/1.30`, no certificate
 * check, same-host redirects), and sleep. As in the kubelet, an httpGet hook fails only when the request
 * fails (connection, timeout): the status code is not checked. tcpSocket is accepted by validation but
 * not supported, so it fails at run time. Messages are the kubelet's, so `FailedPostStartHook` and
 * `FailedPreStopHook` events read the same.
 */
import type { Container, Pod } from '../api/types.js';
import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';
import { errorMessage } from '../errors.js';
import type { EventRecorder } from '../events/recorder.js';
import type { Runtime } from '../runtime/types.js';
import { realClock, type Clock } from '../util/clock.js';
import { formatPod, goList, goQuote } from './go-format.js';
import { buildHttpGetRequest, httpGet, HttpGetError, isPlainHttpFromTls } from './http-get.js';

/** Where and how long a hook runs. */
export interface LifecycleContext {
  pod: Pod;
  container: Container;
  containerId: string;
  runtime: Runtime;
  /** Host for an httpGet hook without one. */
  podIP: string;
  /** The hook's budget: for preStop, what is left of the grace period. */
  timeoutMs: number;
  /** Aborts the hook (the container died, the pod was force-deleted). */
  signal?: AbortSignal;
  /** The clock a `sleep` hook waits on; the real clock by default. */
  clock?: Clock;
  /** Where the `LifecycleHTTPFallback` warning goes when an HTTPS hook had to be retried over HTTP. */
  events?: EventRecorder;
}

/** The outcome of a hook: `message` is empty on success and the kubelet's failure text otherwise. */
export interface LifecycleResult {
  ok: boolean;
  message: string;
}

/** Runs a lifecycle handler; resolves within `timeoutMs` (or on abort) and never throws. */
export async function runLifecycleHandler(handler: LifecycleHandler, ctx: LifecycleContext): Promise<LifecycleResult> {
  const where = `for Container ${goQuote(ctx.container.name)} in Pod ${goQuote(formatPod(ctx.pod))}`;
  try {
    if (handler.exec) {
      const command = handler.exec.command ?? [];
      const err = await runExec(command, ctx);
      return err === undefined ? ok() : { ok: false, message: `Exec lifecycle hook (${goList(command)}) ${where} failed - error: ${err.error}, message: ${goQuote(err.output)}` };
    }
    if (handler.httpGet) {
      const err = await runHttp(handler, ctx);
      return err === undefined ? ok() : { ok: false, message: `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where} failed - error: ${err}` };
    }
    if (handler.sleep) {
      const err = await runSleep(handler.sleep.seconds, ctx);
      return err === undefined ? ok() : { ok: false, message: `Sleep lifecycle hook (${handler.sleep.seconds}) ${where} failed - error: ${err}` };
    }
    return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(handler)}` };
  } catch (err) {
    return { ok: false, message: `Cannot run handler: ${errorMessage(err)}` };
  }
}

const ok = (): LifecycleResult => ({ ok: true, message: '' });

/** Exec hook: undefined on exit 0, else the error and the output (RunInContainer's CodeExitError). */
async function runExec(command: string[], ctx: LifecycleContext): Promise<{ error: string; output: string } | undefined> {
  if (ctx.timeoutMs <= 0) return { error: 'context deadline exceeded', output: '' };
  const exec = ctx.runtime
    .execSync(ctx.containerId, command, Math.max(1, Math.ceil(ctx.timeoutMs / 1000)))
    .then((r) => {
      if (r.timedOut) return { error: 'context deadline exceeded', output: r.stdout + r.stderr };
      if (r.exitCode === 0) return undefined;
      return { error: `command '${command.join(' ')}' exited with ${r.exitCode}: ${r.stderr}`, output: r.stdout + r.stderr };
    })
    .catch((err: unknown) => ({ error: errorMessage(err), output: '' }));
  // The runtime rounds the timeout up to whole seconds; the hook's budget is in milliseconds.
  const bound = bounded(ctx.timeoutMs, ctx.signal);
  try {
    return await Promise.race([exec, bound.promise.then((why) => ({ error: why, output: '' }))]);
  } finally {
    bound.cancel();
  }
}

/** httpGet hook: undefined when a response came back (any status), else the error text. */
async function runHttp(handler: LifecycleHandler, ctx: LifecycleContext): Promise<string | undefined> {
  const req = buildHttpGetRequest(handler.httpGet!, ctx.container, ctx.podIP, 'lifecycle');
  const started = Date.now();
  try {
    await httpGet(req, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
    return undefined;
  } catch (err) {
    if (!(err instanceof HttpGetError) || req.url.protocol !== 'https:' || !isPlainHttpFromTls(err)) return errorMessage(err);
    // handlers.go: an HTTPS hook answered in plain HTTP is retried over HTTP, without Authorization.
    const url = new URL(req.url.href);
    url.protocol = 'http:';
    const retry = { url, headers: req.headers.filter(([k]) => k.toLowerCase() !== 'authorization') };
    try {
      await httpGet(retry, { timeoutMs: Math.max(1, ctx.timeoutMs - (Date.now() - started)), signal: ctx.signal });
    } catch {
      return errorMessage(err);
    }
    const m = ctx.pod.metadata ?? {};
    ctx.events?.record(
      { namespace: m.namespace ?? 'default', name: m.name ?? '', uid: m.uid ?? '' },
      'Warning',
      'LifecycleHTTPFallback',
      `request to HTTPS lifecycle hook ${url.host} got HTTP response, retry with HTTP succeeded`,
    );
    return undefined;
  }
}

/** sleep hook: waits on the clock; cut short by the budget or an abort (handlers.go runSleepHandler). */
async function runSleep(seconds: number, ctx: LifecycleContext): Promise<string | undefined> {
  const clock = ctx.clock ?? realClock;
  const wantMs = Math.max(0, seconds) * 1000;
  if (wantMs === 0) return undefined;
  const cut = wantMs > ctx.timeoutMs;
  return new Promise((resolve) => {
    const onAbort = () => finish('container terminated before sleep hook finished');
    const finish = (err: string | undefined) => {
      timer.cancel();
      ctx.signal?.removeEventListener('abort', onAbort);
      resolve(err);
    };
    const timer = clock.setTimeout(() => finish(cut ? 'container terminated before sleep hook finished' : undefined), Math.min(wantMs, Math.max(0, ctx.timeoutMs)));
    if (ctx.signal?.aborted) return onAbort();
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A real-time bound: resolves with the reason at `ms` or on abort. */
function bounded(ms: number, signal?: AbortSignal): { promise: Promise<string>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('context deadline exceeded'), ms);
    timer.unref();
    onAbort = () => resolve('context canceled');
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  return {
    promise,
    cancel: () => {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    },
  };
}

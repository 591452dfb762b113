// POST /run/{ns}/{pod}/{container} and /run/{ns}/{pod}/{uid}/{container}: runs a command in a
// container's environment and answers with its output, as the kubelet's server.go getRun does
// (RunInContainer: the runtime's ExecSync, stdout then stderr). The command is the `cmd` form or
// query value split on spaces, the kubelet's legacy syntax. Ours beyond the kubelet, which waits
// without limit and returns whatever the runtime gives: a time limit (60 s, `timeout` up to 10 min),
// an output limit (1 MiB, then cut with a note), and a cap on commands running at once.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../config/duration.js';
import type { Runtime } from '../runtime/types.js';
import type { Logger } from '../util/log.js';
import type { UserInfo } from './auth/user.js';
import { findPod } from './container-logs.js';
import type { NodeView } from './node-view.js';
import { invalidName } from './object-names.js';
import type { RequestTarget } from './request-target.js';

/** The part of the runtime /run uses. */
export type CommandRunner = Pick<Runtime, 'execSync'>;

/** The limits of /run; see {@link DEFAULT_RUN_LIMITS}. */
export interface RunLimits {
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  /** Output bytes answered (stdout and stderr together); the rest is cut. */
  maxOutputBytes: number;
  /** Commands running at once, node-wide; beyond it a 429. */
  maxConcurrent: number;
  /** The server's idle timeout, put back on the connection when the answer is written. */
  idleTimeoutMs: number;
}

/**
 * The limits nodelet runs /run with.
 * - 60 s by default, at most 10 min: /run is for a quick look (`cat`, `env`, `ps`); a shell belongs to
 *   `kubectl exec`, which nodelet does not serve. The connection is exempt from the idle timeout
 *   meanwhile, since nothing is sent before the command ends.
 * - 1 MiB of output: held in memory until the command ends. (The process runtime itself keeps only
 *   the first 10 KiB of each stream, the probes' limit.)
 * - 16 at once: each is a process in a container and up to a MiB held; a client that goes away does
 *   not free its slot before its command ends, so hanging up and retrying cannot pile commands up.
 */
export const DEFAULT_RUN_LIMITS: Readonly<RunLimits> = Object.freeze({
  defaultTimeoutSeconds: 60,
  maxTimeoutSeconds: 600,
  maxOutputBytes: 1024 * 1024,
  maxConcurrent: 16,
  idleTimeoutMs: 30_000,
});

// How long past its own timeout the runtime gets to answer before the request gives up on it.
const RUNTIME_GRACE_MS = 5_000;

/** The /run route of one node. */
export interface RunRoute {
  handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget, body: Buffer | undefined, user: UserInfo): Promise<void>;
  /** Commands running now. */
  readonly running: number;
}

// A pod UID in a URL: ours are hex hashes, an API server's are RFC 4122 UUIDs.
const UID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Creates the /run route; without a runner every request is a 404 (a server that runs nothing). */
export function createRunRoute(view: NodeView, runner: CommandRunner | undefined, logger: Logger, limits: RunLimits = DEFAULT_RUN_LIMITS): RunRoute {
  let running = 0;
  return {
    get running() {
      return running;
    },
    async handle(req, res, target, body, user) {
      const seg = target.segments;
      if (!runner || (seg.length !== 4 && seg.length !== 5)) return text(res, 404, '404 page not found\n');
      if (req.method !== 'POST') return text(res, 405, `method ${req.method} not allowed: /run takes POST\n`, { allow: 'POST' });
      const [ns, pod] = [seg[1]!, seg[2]!];
      const uid = seg.length === 5 ? seg[3]! : undefined;
      const container = seg[seg.length - 1]!;
      const bad = invalidName('namespace', ns) ?? invalidName('pod', pod) ?? invalidName('container', container);
      if (bad) return text(res, 400, `${bad}\n`);
      if (uid !== undefined && !UID.test(uid)) return text(res, 400, 'invalid pod UID\n');
      const q = target.url.searchParams;
      const cmd = (formValue(req, body, 'cmd') ?? q.get('cmd') ?? '').split(' ').filter((a) => a !== '');
      if (cmd.length === 0) return text(res, 400, 'cmd is required: the command and its arguments separated by spaces\n');
      const timeout = timeoutSeconds(formValue(req, body, 'timeout') ?? q.get('timeout'), limits);
      if (typeof timeout === 'string') return text(res, 400, `${timeout}\n`);

      const snapshot = uid === undefined ? findPod(view, ns, pod) : view.pods().find((s) => s.pod.metadata?.uid === uid && (s.pod.metadata?.namespace ?? 'default') === ns && s.pod.metadata?.name === pod);
      // The kubelet's words for both.
      if (!snapshot) return text(res, 404, 'pod does not exist\n');
      const c = snapshot.containers.find((v) => v.name === container);
      if (!c?.current) return text(res, 404, `container not found (${JSON.stringify(container)})\n`);
      if (c.current.state !== 'running') return text(res, 400, `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} is not running\n`);

      if (running >= limits.maxConcurrent) {
        return text(res, 429, `too many requests: ${limits.maxConcurrent} commands are running on this node\n`, { 'retry-after': '1' });
      }
      running++;
      // Nothing is sent until the command ends: the idle timeout would cut a long one.
      req.socket.setTimeout(0);
      logger.info({ pod: `${ns}/${pod}`, container, user: user.name, command: cmd.join(' '), timeout: `${timeout}s` }, 'Running a command in a container');
      let guard: NodeJS.Timeout | undefined;
      try {
        const stuck = new Promise<never>((_, reject) => {
          guard = setTimeout(() => reject(new Error(`the runtime did not answer exec within ${timeout}s`)), timeout * 1000 + RUNTIME_GRACE_MS);
        });
        const r = await Promise.race([runner.execSync(c.current.id, cmd, timeout), stuck]);
        if (res.destroyed) return;
        req.socket.setTimeout(limits.idleTimeoutMs);
        const output = bounded(r.stdout + r.stderr, limits.maxOutputBytes);
        // The kubelet answers a failed command with a 500 and the error's text: `command '…' exited
        // with N: <stderr>` (remote_runtime.go ExecSync), or the timeout; ours carries stdout too.
        if (r.timedOut) return text(res, 500, `command ${JSON.stringify(cmd.join(' '))} timed out after ${timeout}s and was killed\n${output}`);
        if (r.exitCode !== 0) return text(res, 500, `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${output}`);
        return text(res, 200, output);
      } finally {
        clearTimeout(guard);
        running--;
      }
    },
  };
}

// A form value from an `application/x-www-form-urlencoded` body: Go's Request.FormValue, which the
// kubelet's go-restful reads, prefers the body's value to the query's.
function formValue(req: IncomingMessage, body: Buffer | undefined, key: string): string | undefined {
  if (!body || !/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return undefined;
  return new URLSearchParams(body.toString('utf8')).get(key) ?? undefined;
}

// `timeout`: whole seconds (`30`) or a Go duration (`30s`, `2m`), rounded up to a second.
function timeoutSeconds(raw: string | null | undefined, limits: RunLimits): number | string {
  if (raw === null || raw === undefined || raw === '') return limits.defaultTimeoutSeconds;
  let seconds: number;
  if (/^\d+$/.test(raw)) seconds = Number(raw);
  else {
    try {
      seconds = Math.ceil(parseDuration(raw) / 1000);
    } catch {
      return 'invalid timeout: give seconds (30) or a duration (30s, 2m)';
    }
  }
  if (seconds < 1 || seconds > limits.maxTimeoutSeconds) return `invalid timeout: must be between 1s and ${limits.maxTimeoutSeconds}s`;
  return seconds;
}

// The first `max` bytes of `s` (never half a character), with a line saying what was cut.
function bounded(s: string, max: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return `${b.subarray(0, end).toString('utf8')}\n[nodelet: output truncated: the first ${end} of ${b.length} bytes are shown]\n`;
}

function text(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * The wire between nodelet and its runtime supervisor: newline-delimited JSON over a unix socket.
 * Requests carry an id and get exactly one response; notices (container events, log errors) are
 * pushed to every client. Kept small and stable: a running supervisor outlives nodelet upgrades.
 */
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ContainerEvent } from '../../types.js';
import type { IsolationMode, IsolationSupport } from '../isolation/tools.js';
import type { CgroupSupport } from '../runtime-cgroups.js';

export const PROTOCOL_VERSION = 1;

/** Runtime methods the supervisor serves, named as in the Runtime interface. */
export const RUNTIME_METHODS = [
  'version',
  'runPodSandbox',
  'stopPodSandbox',
  'removePodSandbox',
  'listPodSandboxes',
  // Added within protocol 1: a supervisor started by an older nodelet answers UnknownMethod, and the
  // client falls back to listPodSandboxes.
  'podSandboxStatus',
  'createContainer',
  'startContainer',
  'stopContainer',
  'removeContainer',
  'listContainers',
  'containerStatus',
  'execSync',
] as const;

export type RuntimeMethod = (typeof RUNTIME_METHODS)[number];

/** Methods of the supervisor itself. */
export type SupervisorMethod = 'hello' | 'configure' | 'exitIfIdle';

export interface Request {
  id: number;
  method: RuntimeMethod | SupervisorMethod;
  params: unknown[];
}

export interface Response {
  id: number;
  result?: unknown;
  error?: { code: string; message: string };
}

export type Notice =
  | { notice: 'container'; event: ContainerEvent }
  | { notice: 'logError'; containerId: string; podUID: string; message: string };

/** What `hello` answers. */
export interface Hello {
  protocol: number;
  pid: number;
  startedAt: number;
  /** Set aside at the supervisor's start (damaged checkpoints, containers it had to stop). */
  recovery: string[];
  /**
   * Added within protocol 1: whether this supervisor can sandbox containers with bwrap. A supervisor
   * without it predates isolation: it would ignore mounts and security and run every container as a
   * plain host process, so the client must not rely on it for either.
   */
  isolation?: IsolationSupport;
  /**
   * Added within protocol 1: whether this supervisor puts pods and containers in cgroups (limits,
   * `OOMKilled`, usage), and where. A supervisor without it predates cgroups: the client does not
   * send it resources, and limits are not enforced until it is restarted.
   */
  cgroups?: CgroupSupport;
}

/** Log rotation settings sent with `configure` (the KubeletConfiguration's containerLog*). */
export interface LogSettings {
  maxSizeBytes: number;
  maxFiles: number;
}

/**
 * What `configure` carries: the log settings and, added within protocol 1 (sent only to a supervisor
 * whose hello reports `isolation`), the isolation of containers created from now on.
 */
export interface ConfigureSettings extends LogSettings {
  isolation?: IsolationMode;
}

/** Splits a byte stream into JSON messages, one per line. A line that is not JSON is reported, not fatal. */
export function jsonLines(onMessage: (msg: unknown) => void, onBadLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  // A chunk may end inside a multi-byte character: the decoder keeps the partial bytes for the next one.
  const decoder = new StringDecoder('utf8');
  return (chunk) => {
    pending += decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line) continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        onBadLine(line.slice(0, 200));
        continue;
      }
      onMessage(msg);
    }
  };
}

export function encode(msg: Request | Response | Notice): string {
  return `${JSON.stringify(msg)}\n`;
}

/**
 * Sends messages on `socket`, those of one event-loop turn in one write. Why: a resync of 1,000 pods
 * asks 1,000 statuses in one turn, and a write per message cost a syscall and a wake-up of the peer
 * each (a tenth of a millisecond apiece, the largest part of nodelet's idle CPU at 1,000 pods).
 */
export function messageWriter(socket: Writable & { destroyed: boolean }): (msg: Request | Response | Notice) => void {
  let queued: string[] = [];
  return (msg) => {
    queued.push(encode(msg));
    if (queued.length > 1) return;
    setImmediate(() => {
      const out = queued.join('');
      queued = [];
      if (!socket.destroyed) socket.write(out);
    });
  };
}

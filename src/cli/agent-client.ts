import { request, type IncomingMessage } from 'node:http';
import type { Pod } from '../api/types.js';
import { NodeletError } from '../errors.js';
import { agentSocketPath } from '../server/servers.js';

/** Default --root-dir, the kubelet's. */
export const DEFAULT_ROOT_DIR = '/var/lib/kubelet';

/** The Accept header kubectl sends for a server-side Table (and what it falls back to). */
export const ACCEPT_TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

/** GETs `path` from the agent on `<rootDir>/nodelet.sock` and returns the response stream. */
export function agentGet(rootDir: string, path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  const socketPath = agentSocketPath(rootDir);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'no nodelet is running there' : err.message;
      reject(new NodeletError('AgentUnavailable', `cannot reach nodelet at ${socketPath}: ${why} (is --root-dir right?)`, { cause: err }));
    });
    req.end();
  });
}

/** GETs and parses a JSON document from the agent; non-200 answers become errors with the agent's text. */
export async function agentJSON<T>(rootDir: string, path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await agentGet(rootDir, path, headers);
  const body = await readAll(res);
  if (res.statusCode !== 200) throw new NodeletError(statusReason(body) ?? 'AgentError', statusMessage(body) ?? (body.trim() || `HTTP ${res.statusCode}`));
  return JSON.parse(body) as T;
}

// The API paths answer errors with a Kubernetes Status: its message is what the user should see.
function statusMessage(body: string): string | undefined {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string };
    return s.kind === 'Status' ? s.message : undefined;
  } catch {
    return undefined;
  }
}

function statusReason(body: string): string | undefined {
  try {
    const s = JSON.parse(body) as { kind?: string; reason?: string };
    return s.kind === 'Status' ? s.reason : undefined;
  } catch {
    return undefined;
  }
}

/** The pods the agent runs, with live status. */
export async function listPods(rootDir: string): Promise<Pod[]> {
  return (await agentJSON<{ items: Pod[] }>(rootDir, '/pods')).items;
}

/** Reads a whole stream as UTF-8 text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

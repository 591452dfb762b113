import { request } from 'node:http';
import type { Pod } from '../api/types.js';
import { NodeletError } from '../errors.js';
import { agentSocketPath } from '../server/servers.js';

/** Default --root-dir, the kubelet's. */
export const DEFAULT_ROOT_DIR = '/var/lib/kubelet';

/** GETs `path` from the agent on `<rootDir>/nodelet.sock` and returns the response stream. */
export function agentGet(rootDir: string, path: string): Promise<import('node:http').IncomingMessage> {
  const socketPath = agentSocketPath(rootDir);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'no nodelet is running there' : err.message;
      reject(new NodeletError('AgentUnavailable', `cannot reach nodelet at ${socketPath}: ${why} (is --root-dir right?)`, { cause: err }));
    });
    req.end();
  });
}

/** GETs and parses a JSON document from the agent; non-200 answers become errors with the agent's text. */
export async function agentJSON<T>(rootDir: string, path: string): Promise<T> {
  const res = await agentGet(rootDir, path);
  const body = await readAll(res);
  if (res.statusCode !== 200) throw new NodeletError('AgentError', body.trim() || `HTTP ${res.statusCode}`);
  return JSON.parse(body) as T;
}

/** The pods the agent runs, with live status. */
export async function listPods(rootDir: string): Promise<Pod[]> {
  return (await agentJSON<{ items: Pod[] }>(rootDir, '/pods')).items;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

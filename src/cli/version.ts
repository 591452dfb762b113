import { errorMessage } from '../errors.js';
import { nodeletVersion, versionInfo, type VersionInfo } from '../server/kubeapi/version.js';
import { agentJSON } from './agent-client.js';
import { type OutputFormat, printObject } from './format.js';

/** Options of `nodelet version`. */
export interface VersionOptions {
  rootDir: string;
  /** Only this program's version: do not ask the agent. */
  client?: boolean;
  output?: OutputFormat;
}

/**
 * `nodelet version`: this program's version and the running agent's (its `/version`), like
 * `kubectl version`. Exit code 1 when the agent was asked for and could not be reached.
 */
export async function versionCommand(opts: VersionOptions): Promise<{ output: string; ok: boolean }> {
  const client = { nodeletVersion, ...versionInfo() };
  let server: VersionInfo | undefined;
  let problem: string | undefined;
  if (!opts.client) {
    try {
      server = await agentJSON<VersionInfo>(opts.rootDir, '/version');
    } catch (err) {
      problem = errorMessage(err);
    }
  }
  if (opts.output) {
    return { output: printObject({ clientVersion: client, ...(server ? { serverVersion: server } : {}) }, opts.output), ok: !problem };
  }
  let out = `Client Version: v${nodeletVersion} (Kubernetes ${client.gitVersion.replace(/\+.*$/, '')} kubelet API)\n`;
  if (server) out += `Agent Version: ${server.gitVersion.replace(/^.*\+nodelet\./, 'v')} (Kubernetes ${server.gitVersion.replace(/\+.*$/, '')} kubelet API)\n`;
  if (problem) out += `Agent Version: unknown: ${problem}\n`;
  return { output: out, ok: !problem };
}

/**
 * A real containerd for the CRI end-to-end tests. `.ci/run` starts one and passes its endpoint in
 * NODELET_CRI_ENDPOINT (and its directory in NODELET_CRI_DIR); elsewhere the tests start their own with
 * test/cri-env/containerd-env.sh when containerd is installed, and skip, saying why, when it is not.
 * Under CI=true a missing containerd is a failure, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCriClient, type CriClient } from '../../src/runtime/cri/cri-client.js';
import { OWNER_LABEL, ownerOf } from '../../src/runtime/cri/to-cri.js';
import { ROOT } from './harness.js';

const SCRIPT = path.join(ROOT, 'test/cri-env/containerd-env.sh');
/** The images test/cri-env builds from the host's busybox (no registry is reachable here). */
export const BUSYBOX_IMAGE = 'nodelet.test/busybox:1';

/** A containerd the tests can use. */
export interface CriEnv {
  endpoint: string;
  /** Restarts containerd itself (shims and containers run on), as an upgrade or a crash would. */
  restart(): void;
  /** Stops containerd when the tests started it. */
  close(): void;
  client: CriClient;
}

/** The containerd to test against, or the reason there is none. */
export function criEnvironment(): CriEnv | { skip: string } {
  const given = process.env.NODELET_CRI_ENDPOINT;
  if (given) return open(given, process.env.NODELET_CRI_DIR, false);
  const missing = ['containerd', 'runc', 'ctr'].filter((b) => !onPath(b));
  if (missing.length > 0 || !existsSync('/usr/lib/cni/bridge') || process.getuid?.() !== 0) {
    const why = missing.length > 0 ? `${missing.join(', ')} not installed` : !existsSync('/usr/lib/cni/bridge') ? 'CNI plugins not installed' : 'not root';
    const reason = `no containerd to test against (${why}): apt-get install containerd runc containernetworking-plugins busybox-static, as .ci/run does`;
    if (process.env.CI === 'true') throw new Error(`CI must run the CRI suite: ${reason}`);
    return { skip: reason };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-cri-'));
  const out = execFileSync(SCRIPT, ['start', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const endpoint = /CONTAINERD_ENDPOINT=(\S+)/.exec(out)?.[1];
  if (!endpoint) throw new Error(`containerd-env.sh start printed no endpoint: ${out}`);
  return open(endpoint, dir, true);
}

function open(endpoint: string, dir: string | undefined, own: boolean): CriEnv {
  const client = createCriClient(endpoint);
  return {
    endpoint,
    client,
    restart() {
      if (!dir) throw new Error('NODELET_CRI_DIR is not set: cannot restart containerd');
      execFileSync(SCRIPT, ['restart', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    },
    close() {
      client.close();
      if (own && dir) {
        execFileSync(SCRIPT, ['stop', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Removes every sandbox a nodelet with this root dir left in containerd (a test's safety net). */
export async function removeSandboxesOf(client: CriClient, rootDir: string): Promise<void> {
  const { items } = await client.listPodSandbox({ filter: { label_selector: { [OWNER_LABEL]: ownerOf(rootDir) } } });
  for (const s of items) {
    await client.stopPodSandbox({ pod_sandbox_id: s.id });
    await client.removePodSandbox({ pod_sandbox_id: s.id });
  }
}

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

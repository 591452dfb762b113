/**
 * End-to-end harness: runs the built `nodelet` (dist/cli/main.js) as a real process in its own temp
 * dirs, and waits for conditions (never for fixed times). Every process a test starts is stopped.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Pod } from '../../src/api/types.js';
import { createCgroupManager } from '../../src/runtime/process/cgroups/index.js';
import { runtimeCgroupParent } from '../../src/runtime/process/runtime-cgroups.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'dist/cli/main.js');
export const NODE = 'testnode';

/** Waits until `cond` returns a truthy value; fails with `what` after `timeoutMs` (generous: busy 2-core CI). */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port nobody listens on right now (the prober tests' helper). */
export { freePort } from '../../src/prober/testing.js';

let seq = 0;
/** A number no other test uses, for `sleep <n>` markers found with pgrep. */
export function marker(): string {
  return `9${process.pid}${String(++seq).padStart(3, '0')}`;
}

/** Pids of processes whose full command line is exactly `cmdline`. */
export function pgrep(cmdline: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `^${cmdline}$`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** A YAML pod manifest whose one container ends as `sleep <mark>`. */
export function sleepPod(name: string, mark: string, extra: { grace?: number; pre?: string; restartPolicy?: string } = {}): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: ${extra.grace ?? 2}
  restartPolicy: ${extra.restartPolicy ?? 'Always'}
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(`${extra.pre ?? 'echo started'}; exec sleep ${mark}`)}]
`;
}

/** A nodelet under test, with its temp dirs. */
export class Nodelet {
  readonly dir: string;
  readonly manifests: string;
  readonly rootDir: string;
  readonly logsDir: string;
  proc: ChildProcess | undefined;
  output = '';
  /** The `--cgroup-root` it was last started with ('' = none). */
  cgroupRoot = '';
  private readonly markers: string[] = [];

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'nodelet-e2e-'));
    this.manifests = path.join(this.dir, 'manifests');
    this.rootDir = path.join(this.dir, 'root');
    this.logsDir = path.join(this.dir, 'logs');
    mkdirSync(this.manifests);
    // Whatever the umask: run as root, nodelet refuses a manifest directory others can write (issue 11).
    chmodSync(this.manifests, 0o755);
  }

  /** Starts `nodelet run` with test-friendly defaults (short backoff, no TCP port) plus `args`. */
  start(args: string[] = [], opts: { manifestPath?: string | null } = {}): this {
    this.cgroupRoot = args.find((a) => a.startsWith('--cgroup-root='))?.slice('--cgroup-root='.length) ?? this.cgroupRoot;
    const manifestArg =
      opts.manifestPath === null ? [] : [`--pod-manifest-path=${opts.manifestPath ?? this.manifests}`];
    this.proc = spawn(
      process.execPath,
      [
        BIN,
        'run',
        `--hostname-override=${NODE}`,
        `--root-dir=${this.rootDir}`,
        `--pod-logs-dir=${this.logsDir}`,
        '--read-only-port=0',
        '--port=0',
        '--crash-loop-backoff-initial=1s',
        '--crash-loop-backoff-max=4s',
        ...manifestArg,
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    return this;
  }

  /** Registers a marker so `stop()` kills any process left with it. */
  track(mark: string): string {
    this.markers.push(mark);
    return mark;
  }

  write(name: string, content: string): void {
    // Written whole then renamed in, as an editor saves: tests of partial writes do it by hand.
    const tmp = path.join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, content);
    chmodSync(tmp, 0o644); // as root, group- or world-writable manifests are refused
    renameSync(tmp, path.join(this.manifests, name));
  }

  remove(name: string): void {
    rmSync(path.join(this.manifests, name), { force: true });
  }

  /** GET from the agent socket; JSON-decoded. */
  get<T = unknown>(urlPath: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: path.join(this.rootDir, 'nodelet.sock'), path: urlPath }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${urlPath}: HTTP ${res.statusCode}: ${body}`));
          try {
            resolve(JSON.parse(body) as T);
          } catch {
            resolve(body as T);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  async pods(): Promise<Pod[]> {
    return (await this.get<{ items: Pod[] }>('/pods')).items;
  }

  async pod(name: string): Promise<Pod | undefined> {
    return (await this.pods()).find((p) => p.metadata?.name === `${name}-${NODE}`);
  }

  /** Runs the nodelet CLI (not `run`) and returns stdout; throws with stderr on a non-zero exit. */
  cli(args: string[]): string {
    return execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  readLog(rel: string): string {
    return readFileSync(path.join(this.logsDir, rel), 'utf8');
  }

  /** Waits until the nodelet's own output contains `text`. */
  async waitForOutput(text: string | RegExp, timeoutMs = 30_000): Promise<void> {
    await waitFor(`nodelet to print ${text}`, () => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output)), timeoutMs);
  }

  /** Sends `signal` to nodelet and waits for it to exit (SIGKILL after 20 s). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }

  /** The runtime supervisor's pid (it outlives nodelet), or undefined when none runs. */
  supervisorPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.rootDir, 'process-runtime', 'supervisor.pid'), 'utf8'));
      return pid > 0 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Stops nodelet (SIGTERM), then its runtime supervisor (SIGTERM stops every container), kills
   * anything left with our markers, removes temp dirs.
   */
  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    const sup = this.supervisorPid();
    if (sup) {
      killQuietly(sup, 'SIGTERM');
      await waitFor('the runtime supervisor to exit', () => !isAlive(sup), 30_000).catch(() => killQuietly(sup, 'SIGKILL'));
    }
    // One pgrep per few hundred markers: a soak test tracks thousands.
    for (let i = 0; i < this.markers.length; i += 200) {
      const any = this.markers.slice(i, i + 200).map((m) => `sleep ${m}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      for (const pid of pgrep(`(${any.join('|')})`)) killQuietly(pid);
    }
    await this.removeCgroups();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The runtime's parent cgroup of this nodelet, as a path in each hierarchy: `[<cgroupRoot>]/nodelet-<hash>`. */
  cgroupParent(): string {
    return runtimeCgroupParent(path.join(this.rootDir, 'process-runtime'), this.cgroupRoot);
  }

  /**
   * Removes what is left of this nodelet's cgroups (a supervisor that exits cleanly removes them
   * itself; one killed with -9 and never replaced does not). Killing what is still inside.
   */
  async removeCgroups(): Promise<void> {
    try {
      const m = await createCgroupManager({ parent: this.cgroupParent(), create: false });
      await m.parent.remove();
    } catch {
      // No cgroups on this host, or nothing to remove.
    }
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Whether `pid` is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The numbers a counter container (`echo n=$i` in a loop) wrote to stdout, in file order: every log
 * file of the pod's container `main`, rotated ones (gzipped or not) by their stamp before the live one.
 */
export function countedLines(n: Nodelet, pod: string): number[] {
  const podDir = readdirSync(n.logsDir).find((d) => d.startsWith(`default_${pod}-${NODE}_`));
  if (!podDir) return [];
  const dir = path.join(n.logsDir, podDir, 'main');
  const files = readdirSync(dir).filter((f) => /^\d+\.log(\.\d{8}-\d{6}(\.gz)?)?$/.test(f));
  // By attempt, then a rotation's stamp; the live file (no stamp) last.
  const key = (f: string) => {
    const [attempt, , stamp] = f.split('.');
    return `${attempt!.padStart(6, '0')}.${stamp ?? '~'}`;
  };
  files.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const out: number[] = [];
  for (const f of files) {
    let raw = readFileSync(path.join(dir, f));
    if (f.endsWith('.gz')) raw = gunzipSync(raw);
    for (const line of raw.toString('utf8').split('\n')) {
      const m = / stdout F n=(\d+)$/.exec(line);
      if (m) out.push(Number(m[1]));
    }
  }
  return out;
}

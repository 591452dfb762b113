/**
 * The nodelet under benchmark: the built agent (dist/cli/main.js) run as a real process in its own temp
 * dirs, its manifests, its API socket, and the cleanup of everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pidsWithCmdline, readCmdline, sleepCmdline } from './proc.js';
import { delay, progress } from './util.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'dist/cli/main.js');
export const NODE_NAME = 'bench';

/** The bench manifests' grace period: nodelet's SIGTERM stops the pods with it. */
export const GRACE_SECONDS = 2;

let seq = 0;
/**
 * A `sleep` argument no other process uses: `8<bench pid><6-digit sequence>` (the e2e tests use `9…`).
 * A valid number of seconds, so `sleep <marker>` runs for years.
 */
export function newMarker(): string {
  return `8${process.pid}${String(++seq).padStart(6, '0')}`;
}

/** A pod manifest whose one container is `sleep <marker>`, run directly (no shell). */
export function sleepPodYaml(name: string, marker: string, probePort?: number): string {
  // Scenario 5: an httpGet liveness probe every second against the bench's own HTTP server.
  const probe = probePort
    ? `    livenessProbe:
      httpGet: {host: 127.0.0.1, port: ${probePort}, path: /healthz}
      periodSeconds: 1
`
    : '';
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: ${GRACE_SECONDS}
  restartPolicy: Always
  containers:
  - name: main
    image: busybox
    command: ["sleep", "${marker}"]
${probe}`;
}

export class BenchAgent {
  readonly dir: string;
  readonly manifests: string;
  /** Where manifests are written before being renamed in: same filesystem, so a rename is atomic. */
  readonly stage: string;
  readonly rootDir: string;
  readonly logsDir: string;
  /** nodelet's own stdout and stderr. */
  readonly logFile: string;
  private proc: ChildProcess | undefined;
  private exitInfo: string | undefined;
  /** nodelet's /proc cmdline: what a child it forked shows until its exec. */
  cmdline = '';
  /** The cmdline of every container the bench asked for, to kill leftovers. */
  readonly containerCmdlines = new Set<string>();
  private removed = false;
  /** Where to copy nodelet's log before the temp dir is removed, if anywhere. */
  keepLogAt: string | undefined;

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'nodelet-bench-'));
    this.manifests = path.join(this.dir, 'manifests');
    this.stage = path.join(this.dir, 'stage');
    this.rootDir = path.join(this.dir, 'root');
    this.logsDir = path.join(this.dir, 'logs');
    this.logFile = path.join(this.dir, 'nodelet.log');
    mkdirSync(this.manifests);
    mkdirSync(this.stage);
  }

  get pid(): number {
    const pid = this.proc?.pid;
    if (!pid) throw new Error('nodelet is not started');
    return pid;
  }

  /** Why nodelet is not running, or undefined while it runs. */
  get exited(): string | undefined {
    return this.exitInfo;
  }

  /** Starts nodelet and waits until its socket answers. Returns the time that took, in ms. */
  async start(extraArgs: string[], timeoutMs: number, nodeArgs: string[] = [], bin = BIN): Promise<number> {
    if (!existsSync(bin)) throw new Error(`${bin} does not exist: run \`npm run build\` first`);
    const fd = openSync(this.logFile, 'a');
    const t0 = performance.now();
    this.proc = spawn(
      process.execPath,
      [
        ...nodeFlagsOf(bin),
        ...nodeArgs,
        bin,
        'run',
        `--pod-manifest-path=${this.manifests}`,
        `--root-dir=${this.rootDir}`,
        `--pod-logs-dir=${this.logsDir}`,
        `--hostname-override=${NODE_NAME}`,
        '--read-only-port=0',
        '--port=0',
        // The bench measures a node that starts and stops its pods; nothing may outlive it.
        '--stop-pods-on-exit',
        ...extraArgs,
      ],
      // Its own process group: a Ctrl-C in the terminal reaches the bench only, which stops nodelet once.
      { stdio: ['ignore', fd, fd], detached: true },
    );
    closeSync(fd);
    this.proc.once('exit', (code, signal) => (this.exitInfo = `nodelet exited (code ${code}, signal ${signal})`));
    this.proc.once('error', (err) => (this.exitInfo = `nodelet failed to start: ${err.message}`));
    const end = t0 + timeoutMs;
    for (;;) {
      if (this.exitInfo) throw new Error(`${this.exitInfo}; its log:\n${this.logTail()}`);
      const ok = await this.get<string>('/healthz', 1_000).then(
        (b) => b === 'ok',
        () => false,
      );
      if (ok) break;
      if (performance.now() > end) throw new Error(`nodelet did not answer on its socket within ${timeoutMs} ms; its log:\n${this.logTail()}`);
      await delay(10);
    }
    const took = performance.now() - t0;
    this.cmdline = readCmdline(this.pid) ?? '';
    return took;
  }

  /** GET on the agent socket; the body JSON-decoded when it is JSON. */
  get<T = unknown>(urlPath: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: path.join(this.rootDir, 'nodelet.sock'), path: urlPath, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`${urlPath}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            resolve(JSON.parse(body) as T);
          } catch {
            resolve(body as T);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${urlPath}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** The pods of GET /pods, with the size of the answer. */
  async pods(timeoutMs = 10_000): Promise<{ name: string; phase: string }[]> {
    const list = await this.get<{ items: { metadata?: { name?: string }; status?: { phase?: string } }[] }>('/pods', timeoutMs);
    return list.items.map((p) => ({ name: p.metadata?.name ?? '', phase: p.status?.phase ?? '' }));
  }

  /** Writes a manifest into the staging dir (not seen by nodelet yet); {@link moveIn} publishes it. */
  stageManifest(name: string, marker: string, probePort?: number): void {
    this.containerCmdlines.add(sleepCmdline(marker));
    writeFileSync(path.join(this.stage, name), sleepPodYaml(name.replace(/\.yaml$/, ''), marker, probePort));
  }

  /** Renames a staged manifest into the manifest dir: one atomic step, as an editor saves. */
  moveIn(name: string): void {
    renameSync(path.join(this.stage, name), path.join(this.manifests, name));
  }

  removeManifest(name: string): void {
    rmSync(path.join(this.manifests, name), { force: true });
  }

  /** Copies nodelet's log to `dest` (before the temp dir goes). */
  saveLog(dest: string): void {
    try {
      copyFileSync(this.logFile, dest);
    } catch (err) {
      progress(`cannot save nodelet's log to ${dest}: ${(err as Error).message}`);
    }
  }

  /** The last `lines` lines of nodelet's log, or of its lines that match `only` (e.g. warnings and errors). */
  logTail(lines = 30, only?: RegExp): string {
    try {
      const all = readFileSync(this.logFile, 'utf8').trimEnd().split('\n');
      return (only ? all.filter((l) => only.test(l)) : all).slice(-lines).join('\n') || '(nothing)';
    } catch {
      return '(no log)';
    }
  }

  /**
   * Stops nodelet with SIGTERM (it stops its pods with grace), SIGKILL after `timeoutMs`; then SIGKILLs any
   * container of ours still running and removes the temp dirs. Returns how long nodelet took to exit.
   */
  async stop(timeoutMs: number): Promise<number | undefined> {
    let took: number | undefined;
    const p = this.proc;
    if (p && !this.exitInfo) {
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      const t0 = performance.now();
      p.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        progress(`nodelet did not exit ${timeoutMs} ms after SIGTERM: SIGKILL`);
        p.kill('SIGKILL');
        await Promise.race([exited, delay(5_000)]);
      } else {
        took = performance.now() - t0;
      }
    }
    this.killLeftovers();
    this.removeDirs();
    return took;
  }

  /** The synchronous last resort (process 'exit'): SIGKILL nodelet and our containers, remove the dirs. */
  stopNow(): void {
    const p = this.proc;
    if (p && !this.exitInfo) {
      try {
        p.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    this.killLeftovers();
    this.removeDirs();
  }

  /** The runtime supervisor's pid, while one runs for this node. */
  supervisorPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.rootDir, 'process-runtime', 'supervisor.pid'), 'utf8'));
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  /**
   * SIGKILLs the runtime supervisor (it outlives nodelet) and every process whose command line is one of
   * our containers'. Returns how many containers there were.
   */
  killLeftovers(): number {
    const sup = this.supervisorPid();
    if (sup) {
      try {
        process.kill(sup, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (this.containerCmdlines.size === 0) return 0;
    const pids = pidsWithCmdline(this.containerCmdlines);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (pids.length) progress(`killed ${pids.length} leftover container process(es)`);
    return pids.length;
  }

  private removeDirs(): void {
    if (this.removed) return;
    this.removed = true;
    if (this.keepLogAt) {
      this.saveLog(this.keepLogAt);
      progress(`nodelet's log saved to ${this.keepLogAt}`);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The node flags of `bin`'s `#!/usr/bin/env -S node …` line: nodelet runs with them when installed
 * (npm's bin link, systemd's ExecStart), so the bench measures it with them.
 */
export function nodeFlagsOf(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\S*env -S node\s+(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/) : [];
}

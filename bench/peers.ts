/**
 * The peers of scenario 2 on the process runtime: the same N `sleep <marker>` commands started by
 *   - a plain spawn loop: a Node process that spawns N detached `sleep`s in a loop (the physical floor of
 *     starting N processes from Node, with nothing else to do),
 *   - the same loop with each `sleep` in a bubblewrap sandbox made with nodelet's own bwrap arguments (the
 *     floor of a sandboxed container: what the kernel and bwrap cost, without nodelet), where bwrap works, and
 *   - supervisord from Debian (a process-supervisor baseline), with a generated config of N [program:x]
 *     sections, only where it is installed (`npm run bench:peers-setup`; the bench installs nothing).
 * "All running" is seen from outside, through /proc, as for nodelet. Everything started is killed by pid at
 * the end of each measurement, and synchronously on exit ({@link stopPeersNow}).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { containerConfig, sandboxConfig, type NodeFacts } from '../src/container/container-config.js';
import { parseResolvConf } from '../src/container/dns-config.js';
import { loadPodManifest } from '../src/manifest/index.js';
import { planLaunch } from '../src/runtime/process/isolation/launch-plan.js';
import { probeBwrap } from '../src/runtime/process/isolation/tools.js';
import { NODE_NAME, newMarker, sleepPodYaml } from './agent.js';
import { CLK_TCK, onPath, pidsWithCmdline, ProcScanner, readCmdline, readCpuTicks, sleepCmdline } from './proc.js';
import { BenchTimeout, type Deadline, delay, fmtMs, fmtSeconds, progress } from './util.js';

export type PeerName = 'spawn-loop' | 'bwrap-loop' | 'supervisord';
export const PEER_NAMES: readonly PeerName[] = ['spawn-loop', 'bwrap-loop', 'supervisord'];
export const PEER_LABEL: Record<PeerName, string> = {
  'spawn-loop': 'plain spawn loop (the floor)',
  'bwrap-loop': "spawn loop through bwrap, nodelet's sandbox arguments (the sandbox's floor)",
  supervisord: 'supervisord (Debian)',
};

/** One measurement of a peer: N processes → all seen running. */
export interface PeerRun {
  peer: PeerName;
  n: number;
  allMs: number;
  firstMs: number;
  /** Time at which each of the N processes was first seen, ms from the start. */
  seenMs: number[];
  /** CPU seconds of the peer's own process (spawn loop: the Node process; supervisord: the daemon) until all ran. */
  cpuS: number;
}

/** A token in the spawn loop's command line: what tells its forks (before their exec) from other processes. */
const SPAWN_TOKEN = 'nodelet-bench-spawn-loop';

/**
 * The spawn loop, run with `node -e SCRIPT TOKEN PREFIX MARKER...`: says "ready", waits for one line on stdin
 * (the clock starts when the bench sends it), spawns every `sleep` detached with no stdio, behind the argv
 * PREFIX (JSON; `[]` for none), prints their pids and the CPU time the loop took. With a prefix it then
 * stays until killed: bwrap's --die-with-parent ends the sandboxes with it.
 */
const SPAWN_SCRIPT = `
const { spawn } = require('node:child_process');
const [, prefixJson, ...markers] = process.argv.slice(1);
const prefix = JSON.parse(prefixJson);
process.stdin.once('data', () => {
  const cpu0 = process.cpuUsage();
  const pids = [];
  for (const m of markers) {
    const argv = [...prefix, 'sleep', m];
    const c = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
    c.unref();
    pids.push(c.pid);
  }
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ pids, cpuS: (cpu.user + cpu.system) / 1e6 }) + '\\n', () => prefix.length || process.exit(0));
});
process.stdout.write('ready\\n');
`;

// ---------------------------------------------------------------------------------------------------
// What is running, for the clean-up (also on Ctrl-C and on exit).

/** `cmdlines` are kept for the whole run: the last pass on exit also finds a fork that exec'd late. */
const live = { daemons: new Set<ChildProcess>(), cmdlines: new Set<string>(), pids: new Set<number>(), dirs: new Set<string>() };

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * Kills every process a peer started that still runs as ours: the spawn loop or supervisord, then every
 * process showing one of our `sleep` cmdlines (a full /proc pass: also those not seen yet, e.g. on Ctrl-C).
 */
function killTracked(): void {
  for (const c of live.daemons) {
    if (c.exitCode === null && c.signalCode === null && c.pid) killPid(c.pid);
  }
  live.daemons.clear();
  for (const pid of live.cmdlines.size ? pidsWithCmdline(live.cmdlines) : []) killPid(pid);
  live.pids.clear();
  for (const d of live.dirs) rmSync(d, { recursive: true, force: true });
  live.dirs.clear();
}

/** The synchronous last resort (process 'exit'). */
export function stopPeersNow(): void {
  killTracked();
}

/** Kills the peer's daemon, lets the forks it made exec (or die with it), then kills every `sleep` of ours. */
async function stopTracked(): Promise<void> {
  for (const c of live.daemons) {
    if (c.exitCode === null && c.signalCode === null && c.pid) killPid(c.pid);
  }
  await delay(100);
  killTracked();
}

// ---------------------------------------------------------------------------------------------------

/** Why a peer cannot be measured here, or undefined. Never installs anything. */
export async function peerUnavailable(peer: PeerName): Promise<string | undefined> {
  if (peer === 'supervisord' && !onPath('supervisord')) return 'supervisord is not installed (`npm run bench:peers-setup` installs Debian\'s supervisor)';
  if (peer === 'bwrap-loop') {
    const bwrap = await probeBwrap(process.env.PATH);
    if (!bwrap.available) return bwrap.detail;
  }
  return undefined;
}

/**
 * The argv in front of `sleep <marker>` for the bwrap loop: the launch plan nodelet's process runtime
 * makes for the bench's own sleep pod (planLaunch, as createContainer calls it, with bwrap on), less
 * `--json-status-fd`, by which nodelet learns the sandbox's pid and exit code (a floor reads nothing).
 */
function bwrapPrefix(): string[] {
  const facts: NodeFacts = { nodeName: NODE_NAME, hostIP: '127.0.0.1', podIP: '127.0.0.1', memoryCapacityBytes: totalmem(), hostDns: parseResolvConf('') };
  const loaded = loadPodManifest(sleepPodYaml('bwrap-floor', newMarker()), { file: 'bwrap-floor.yaml', nodeName: NODE_NAME, source: 'file', origin: 'bwrap-floor.yaml', seenAt: new Date() });
  if (!loaded.ok) throw new Error(`bench manifest does not load: ${loaded.errors.map((e) => e.message).join('; ')}`);
  const pod = loaded.pod;
  const plan = planLaunch({
    config: containerConfig(pod, pod.spec!.containers[0]!, 0, facts),
    sandbox: sandboxConfig(pod, tmpdir(), 0, facts),
    mode: 'bwrap',
    support: undefined,
    tools: { bwrap: 'bwrap' },
    self: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    ownCapabilities: new Set(),
  });
  if (plan.kind !== 'bwrap') throw new Error('nodelet would not sandbox the bench pod');
  const args = [...plan.prefix];
  args.splice(args.indexOf('--json-status-fd'), 2);
  return args;
}

/** `supervisord 4.2.5`, or undefined when it is not installed. */
export function peerVersion(peer: PeerName): string | undefined {
  if (peer === 'spawn-loop') return `Node ${process.version}`;
  if (peer === 'bwrap-loop') {
    try {
      return execFileSync('bwrap', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    } catch {
      return undefined;
    }
  }
  try {
    return `supervisord ${execFileSync('supervisord', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim()}`;
  } catch {
    return undefined;
  }
}

/** Waits until every cmdline of `wanted` is seen by `scanner`; returns when each was seen. */
async function waitAll(
  what: string,
  scanner: ProcScanner,
  wanted: Set<string>,
  t0: number,
  opts: { deadline: Deadline; timeoutMs: number; pollMs: number; alive: () => string | undefined },
): Promise<{ allMs: number; seenMs: number[]; pids: number[] }> {
  const n = wanted.size;
  const seenMs: number[] = [];
  const pids: number[] = [];
  let lastReport = t0;
  for (;;) {
    for (const p of scanner.scan()) {
      if (wanted.delete(p.cmdline)) {
        seenMs.push(performance.now() - t0);
        pids.push(p.pid);
        live.pids.add(p.pid);
      }
    }
    const now = performance.now();
    if (wanted.size === 0) return { allMs: now - t0, seenMs, pids };
    if (now - t0 > opts.timeoutMs) throw new BenchTimeout(`${what}: timed out after ${fmtSeconds(opts.timeoutMs)}: ${n - wanted.size} of ${n} running`);
    const dead = opts.alive();
    if (dead) throw new Error(`${what}: ${dead} with ${n - wanted.size} of ${n} running`);
    if (now - lastReport > 1_000) {
      lastReport = now;
      progress(`   ${n - wanted.size}/${n} running after ${fmtSeconds(now - t0)}`);
    }
    opts.deadline.check();
    await delay(opts.pollMs);
  }
}

/** Kills the N processes by pid and waits until none runs as ours any more. */
async function killAll(pids: number[], cmdlines: Set<string>, deadline: Deadline): Promise<void> {
  for (const pid of pids) {
    const c = readCmdline(pid);
    if (c !== undefined && cmdlines.has(c)) killPid(pid);
  }
  const end = performance.now() + 30_000;
  let left = pids;
  while (left.length) {
    left = left.filter((pid) => {
      const c = readCmdline(pid);
      return c !== undefined && cmdlines.has(c);
    });
    if (!left.length) break;
    if (performance.now() > end) throw new BenchTimeout(`${left.length} peer process(es) still running 30 s after SIGKILL`);
    deadline.check();
    await delay(20);
  }
}

function markers(n: number): { list: string[]; cmdlines: Set<string> } {
  const list = Array.from({ length: n }, () => newMarker());
  const cmdlines = new Set(list.map(sleepCmdline));
  for (const c of cmdlines) live.cmdlines.add(c);
  return { list, cmdlines };
}

/** Waits for one line on a child's stdout. */
function readLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) done(undefined, buf.slice(0, i));
    };
    const onExit = () => done(new Error(`exited (code ${child.exitCode}, signal ${child.signalCode})`));
    const done = (err?: Error, line?: string) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line!);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * The spawn loop: a Node process (started and loaded before the clock starts) spawns the N `sleep`s one
 * after another, each in a bwrap sandbox when `sandboxed`. The clock starts when the bench tells it to go
 * and stops when the last `sleep` is seen.
 */
export async function spawnLoop(n: number, deadline: Deadline, pollMs: number, sandboxed = false): Promise<PeerRun> {
  const m = markers(n);
  const prefix = sandboxed ? bwrapPrefix() : [];
  const child = spawn(process.execPath, ['-e', SPAWN_SCRIPT, SPAWN_TOKEN, JSON.stringify(prefix), ...m.list], { stdio: ['pipe', 'pipe', 'inherit'] });
  live.daemons.add(child);
  let pids: number[] = [];
  try {
    await readLine(child, 30_000);
    const scanner = new ProcScanner((c) => c.includes(SPAWN_TOKEN));
    scanner.scan();
    const t0 = performance.now();
    child.stdin!.write('go\n');
    const doneLine = readLine(child, 120_000).catch(() => '{}');
    let exited: string | undefined;
    child.once('exit', (code, sig) => (code !== 0 || sandboxed) && (exited = `the spawn loop exited (code ${code}, signal ${sig})`));
    const r = await waitAll(`${sandboxed ? 'bwrap' : 'spawn'} loop, ${n} processes`, scanner, new Set(m.cmdlines), t0, { deadline, timeoutMs: Math.max(30_000, n * 60), pollMs, alive: () => exited });
    pids = r.pids;
    const done = JSON.parse(await doneLine) as { pids?: number[]; cpuS?: number };
    for (const pid of done.pids ?? []) live.pids.add(pid);
    return { peer: sandboxed ? 'bwrap-loop' : 'spawn-loop', n, allMs: r.allMs, firstMs: Math.min(...r.seenMs), seenMs: r.seenMs, cpuS: done.cpuS ?? NaN };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await killAll(pids.length ? pids : [...live.pids], m.cmdlines, deadline).catch((err: unknown) => progress(`   ${String(err)}`));
    await stopTracked();
  }
}

/**
 * supervisord with a generated config of N programs (`command=sleep <marker>`, autostart, startsecs=0, no
 * restart, stderr into the stdout log), started as `supervisord -n -c <conf>`: the clock starts at the spawn
 * and stops when the last `sleep` is seen. Stopped by pid (SIGKILL, then its orphans by pid): its own
 * orderly stop reaps one child per loop turn (~1 s each), which would take minutes for 1,000.
 */
export async function supervisord(n: number, deadline: Deadline, pollMs: number): Promise<PeerRun> {
  const m = markers(n);
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-bench-supervisord-'));
  live.dirs.add(dir);
  const logs = path.join(dir, 'logs');
  mkdirSync(logs);
  const conf = path.join(dir, 'supervisord.conf');
  const sections = m.list.map(
    (marker, i) =>
      `[program:p${i + 1}]\ncommand=sleep ${marker}\nautostart=true\nautorestart=false\nstartsecs=0\nstartretries=0\nredirect_stderr=true\nstopwaitsecs=2\n`,
  );
  // Two descriptors per child (a stdin and a stdout pipe) plus its log file, and supervisord's own.
  const minfds = Math.max(1024, n * 4 + 256);
  writeFileSync(
    conf,
    `; Written by bench/peers.ts.\n[supervisord]\nlogfile=${path.join(dir, 'supervisord.log')}\npidfile=${path.join(dir, 'supervisord.pid')}\n` +
      `childlogdir=${logs}\nminfds=${minfds}\nloglevel=warn\n\n${sections.join('\n')}`,
  );
  const isDaemon = (c: string) => c.includes(`\0${conf}\0`) || c.endsWith(`\0${conf}`);
  const scanner = new ProcScanner(isDaemon);
  scanner.scan();
  let exited: string | undefined;
  let pids: number[] = [];
  const t0 = performance.now();
  const child = spawn('supervisord', ['-n', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  live.daemons.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-2_000)));
  child.once('exit', (code, sig) => (exited = `supervisord exited (code ${code}, signal ${sig}): ${stderr.trim().split('\n').slice(-2).join(' / ')}`));
  child.once('error', (err) => (exited = `supervisord failed to start: ${err.message}`));
  try {
    const r = await waitAll(`supervisord, ${n} programs`, scanner, new Set(m.cmdlines), t0, { deadline, timeoutMs: Math.max(60_000, n * 120), pollMs, alive: () => exited });
    pids = r.pids;
    const cpuS = ((child.pid ? readCpuTicks(child.pid) : undefined) ?? NaN) / CLK_TCK;
    return { peer: 'supervisord', n, allMs: r.allMs, firstMs: Math.min(...r.seenMs), seenMs: r.seenMs, cpuS };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await killAll(pids, m.cmdlines, deadline).catch((err: unknown) => progress(`   ${String(err)}`));
    await stopTracked();
  }
}

export async function runPeer(peer: PeerName, n: number, deadline: Deadline, pollMs: number): Promise<PeerRun> {
  const r = peer === 'supervisord' ? await supervisord(n, deadline, pollMs) : await spawnLoop(n, deadline, pollMs, peer === 'bwrap-loop');
  progress(`   ${PEER_LABEL[peer]}: all ${n} running after ${fmtSeconds(r.allMs)} (first after ${fmtMs(r.firstMs)}; its CPU ${r.cpuS.toFixed(2)} s)`);
  return r;
}

// ---------------------------------------------------------------------------------------------------

/**
 * The probe floor, run with `node --max-semi-space-size=1 -e SCRIPT PORT N` (nodelet's own V8 flag):
 * N httpGet probes a second against the bench's server, spread over the second and sent on a 50 ms
 * grid as nodelet's prober sends them (src/prober/timer-queue.ts), each a new connection (no keep-alive, as the
 * kubelet's) writing the kubelet's request and closed once the whole response is in. Nothing
 * else: no status, no events, no metrics. What any Node process pays for the same probes.
 */
const PROBE_FLOOR_SCRIPT = `
const net = require('node:net');
const port = Number(process.argv[1]);
const n = Number(process.argv[2]);
const head = 'GET / HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\nUser-Agent: kube-probe/1.30\\r\\nAccept: */*\\r\\nConnection: close\\r\\n\\r\\n';
let ok = 0, failed = 0;
function probe() {
  const s = net.connect({ host: '127.0.0.1', port });
  let got = '';
  let done = false;
  const finish = (good) => { if (done) return; done = true; if (good) ok++; else failed++; s.destroy(); };
  s.once('connect', () => s.write(head, 'latin1'));
  // Closed as soon as the whole response is in (Content-Length), as a prober does; or at the server's end.
  s.on('data', (d) => {
    got += d.toString('latin1');
    const end = got.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const m = /\\r\\ncontent-length: *(\\d+)/i.exec(got.slice(0, end));
    if (m && got.length - end - 4 >= Number(m[1])) finish(got.startsWith('HTTP/1.1 200'));
  });
  s.once('end', () => finish(got.startsWith('HTTP/1.1 200')));
  s.once('error', () => finish(false));
}
// As nodelet's prober, on a 50 ms grid: the probes due in one step go out in one wake-up.
let sent = 0;
const t0 = Date.now();
setInterval(() => { const due = Math.floor(((Date.now() - t0) * n) / 1000); for (; sent < due; sent++) probe(); }, 50);
setInterval(() => process.stdout.write(JSON.stringify({ ok, failed }) + '\\n'), 1000);
`;

/** One window of the probe floor: its CPU (% of one core) and how many probes it made a second. */
export interface ProbeFloorRun {
  cpuPct: number;
  probesPerS: number;
  failed: number;
}

/** Runs the probe floor for `windowMs` against the server on 127.0.0.1:`port`, after a 3 s warm-up. */
export async function probeFloor(port: number, n: number, windowMs: number, deadline: Deadline): Promise<ProbeFloorRun> {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '-e', PROBE_FLOOR_SCRIPT, String(port), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  live.daemons.add(child);
  try {
    let last = { ok: 0, failed: 0 };
    child.stdout!.on('data', (d: Buffer) => {
      const lines = d.toString('utf8').trim().split('\n');
      try {
        last = JSON.parse(lines.at(-1)!) as typeof last;
      } catch {
        // a line cut in two: the next one will do
      }
    });
    await delay(3_000);
    const c0 = readCpuTicks(child.pid!);
    const ok0 = last.ok;
    const failed0 = last.failed;
    const w0 = performance.now();
    while (performance.now() - w0 < windowMs) {
      deadline.check();
      if (child.exitCode !== null) throw new Error(`the probe floor exited (code ${child.exitCode})`);
      await delay(Math.min(1_000, windowMs - (performance.now() - w0)));
    }
    const c1 = readCpuTicks(child.pid!);
    const seconds = (performance.now() - w0) / 1000;
    if (c0 === undefined || c1 === undefined) throw new Error('the probe floor disappeared during the window');
    return { cpuPct: ((c1 - c0) / CLK_TCK / seconds) * 100, probesPerS: (last.ok - ok0) / seconds, failed: last.failed - failed0 };
  } finally {
    child.kill('SIGKILL');
    await stopTracked();
  }
}

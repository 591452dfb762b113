/**
 * nodelet benchmarks: `npm run bench` (full, writes docs/benchmarks.md and docs/benchmarks.svg) or
 * `npm run bench:quick` (smoke: every scenario with tiny sizes, prints the table only; `--out=FILE` writes
 * the document and its plot elsewhere).
 *
 * Runs the built agent (dist/cli/main.js) as a real process and measures from outside, through /proc:
 *   1. manifest written → container process running (one pod at a time, agent warm);
 *   2. N manifests dropped at once → all N containers running (10, 100, 1,000), and how that grows with N;
 *      scenarios 1 and 2 also compare nodelet's own kubelet_pod_start_duration_seconds (GET /metrics);
 *   3. nodelet RSS and CPU while idle, with 0, 100 and 1,000 running pods;
 *   4. container SIGKILLed → running again (first restart: no backoff);
 *   5. CPU with 500 pods probed by httpGet every second;
 *   6. on a real containerd over the CRI (bench/cri.ts): 20 and 100 pods → all Running, nodelet vs the bare
 *      CRI calls vs `podman kube play` (skipped, saying why, when containerd or podman is not installed);
 *   7. edit of one manifest among N running pods → the new container running (N = the sizes of 2);
 *   8. the peers of scenario 2 (bench/peers.ts): the same N `sleep`s started by a plain spawn loop (the
 *      floor), by that loop through bwrap (the sandbox's floor, where bwrap works) and by Debian's
 *      supervisord (where installed), as ratios to nodelet.
 * Progress goes to stderr. Every wait is bounded; a step that times out is reported as a failure and the
 * run goes on. Everything started is stopped at the end, also on error or Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchAgent, GRACE_SECONDS, newMarker, ROOT } from './agent.js';
import { criBudgetMs, criMethod, runCriScenario, stopCri, type CriSeries } from './cri.js';
import { PEER_LABEL, PEER_NAMES, peerUnavailable, peerVersion, probeFloor, runPeer, stopPeersNow, type PeerName, type PeerRun } from './peers.js';
import { renderSvg, type Curve } from './plot.js';
import { CLK_TCK, ProcScanner, readCmdline, readCpuTicks, readMemory, readRssBytes, sleepCmdline } from './proc.js';
import { describeMachine, loadAverage, markdown, resultsTable, type Row } from './report.js';
import {
  BenchTimeout,
  Deadline,
  delay,
  fmtMB,
  fmtMs,
  fmtPct,
  fmtSeconds,
  progress,
  summarize,
  waitUntil,
} from './util.js';

const USAGE = `Usage: node --import tsx bench/run.ts [--quick] [--out=FILE] [diagnosis options]

  --quick            every scenario with tiny sizes (10 and 100 pods, 10 s windows, a few trials, CRI 10 pods);
                     prints the table, does not write docs/benchmarks.md
  --out=FILE         write the results document to FILE and its plot beside it (FILE.md → FILE.svg), in any
                     mode; without it only a full run with no diagnosis option writes, to docs/benchmarks.md and
                     docs/benchmarks.svg
Diagnosis options (the table is printed, docs/benchmarks.md is not written):
  --only=1,...,8     run only these scenarios (3 without 2 or 7 measures 0 pods only; 6 is the CRI one;
                     7 makes the drops of 2; 8 is the peers of 2)
  --sizes=N,...      the drop sizes of scenarios 2, 7 and 8 (default 10,100,1000; quick 10,100); the idle
                     windows of 3 are measured at the sizes from 100 up
  --trials=N         single-pod trials of scenario 1
  --edit-trials=N    trials of scenario 7 per size (default 20 at the largest size, 10 at the others; quick 3)
  --peers=LIST       the peers of scenario 8: spawn-loop,bwrap-loop,supervisord (default: all; bwrap-loop where
                     bwrap works, supervisord where installed)
  --window=SECONDS   length of the idle windows of scenario 3
  --probe-window=SECONDS  length of scenario 5's window (default 30; quick 10)
  --log=FILE         keep nodelet's log (it is text: one timestamped line per pod update and container start)
  --cpu-prof=DIR     run nodelet under node --cpu-prof, profile written to DIR when it stops
  --node-arg=ARG     pass ARG to node when starting nodelet (repeatable), e.g. --node-arg=--trace-gc
  --nodelet-arg=ARG  pass ARG to nodelet run (repeatable, scenarios 1-5, 7), e.g. --nodelet-arg=--process-isolation=none
  --bin=FILE         benchmark another build of nodelet's main.js instead of dist/cli/main.js
  --heap-snapshot=DIR  write a heap snapshot of nodelet to DIR at the end of each idle window
  --cri-sizes=N,...  the pod counts of scenario 6 (default 20,100; quick 10)
  --cri-trials=N     trials per pod count of scenario 6 (default 3 up to 50 pods, 1 above; quick 1)
  --cri-sequential=N the bare sequential loop of scenario 6 up to N pods (default 50: not at 100, where it
                     takes ~45 s a trial)
  --cri-host-network scenario 6 with hostNetwork: true pods (default: the pod network, a CNI bridge)
  (with --log=FILE and scenarios 1-5 too, the CRI nodelet's log is kept as FILE.cri)
`;

interface Args {
  quick: boolean;
  out?: string;
  only?: Set<string>;
  sizes?: number[];
  trials?: number;
  editTrials?: number;
  peers?: PeerName[];
  windowS?: number;
  probeWindowS?: number;
  log?: string;
  cpuProf?: string;
  heapSnapshot?: string;
  nodeArgs: string[];
  nodeletArgs: string[];
  bin?: string;
  criSizes?: number[];
  criTrials?: number;
  criSequential?: number;
  criHostNetwork?: boolean;
}

function parseArgs(argv: string[]): Args {
  const opts: Args = { quick: false, nodeArgs: [], nodeletArgs: [] };
  for (const arg of argv) {
    const [k, v] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const ints = () => (v ?? '').split(',').map((x) => Number(x)).filter((x) => Number.isInteger(x) && x > 0);
    if (k === '--quick') opts.quick = true;
    else if (k === '--out' && v) opts.out = path.resolve(v);
    else if (k === '--only' && v && v.split(',').every((x) => /^[1-8]$/.test(x))) opts.only = new Set(v.split(','));
    else if (k === '--sizes' && ints().length) opts.sizes = ints();
    else if (k === '--trials' && ints().length === 1) opts.trials = ints()[0];
    else if (k === '--edit-trials' && ints().length === 1) opts.editTrials = ints()[0];
    else if (k === '--peers' && v === 'none') opts.peers = [];
    else if (k === '--peers' && v && v.split(',').every((x) => (PEER_NAMES as string[]).includes(x))) opts.peers = v.split(',') as PeerName[];
    else if (k === '--window' && ints().length === 1) opts.windowS = ints()[0];
    else if (k === '--probe-window' && ints().length === 1) opts.probeWindowS = ints()[0];
    else if (k === '--log' && v) opts.log = path.resolve(v);
    else if (k === '--cpu-prof' && v) opts.cpuProf = path.resolve(v);
    else if (k === '--node-arg' && v) opts.nodeArgs.push(v);
    else if (k === '--nodelet-arg' && v) opts.nodeletArgs.push(v);
    else if (k === '--bin' && v) opts.bin = path.resolve(v);
    else if (k === '--heap-snapshot' && v) opts.heapSnapshot = path.resolve(v);
    else if (k === '--cri-sizes' && ints().length) opts.criSizes = ints();
    else if (k === '--cri-trials' && ints().length === 1) opts.criTrials = ints()[0];
    else if (k === '--cri-sequential' && /^\d+$/.test(v ?? '')) opts.criSequential = Number(v);
    else if (k === '--cri-host-network' && v === undefined) opts.criHostNetwork = true;
    else {
      process.stderr.write(`bench: unknown or invalid argument ${arg}\n\n${USAGE}`);
      process.exit(2);
    }
  }
  return opts;
}

const ARGS = parseArgs(process.argv.slice(2));
const quick = ARGS.quick;
/** A run with diagnosis options measures something else than the reference run: it never writes the doc. */
const diagnosis = Boolean(
  ARGS.only || ARGS.sizes || ARGS.trials || ARGS.editTrials || ARGS.peers || ARGS.windowS || ARGS.probeWindowS || ARGS.cpuProf || ARGS.heapSnapshot ||
    ARGS.nodeArgs.length || ARGS.nodeletArgs.length || ARGS.bin || ARGS.criSizes || ARGS.criTrials || ARGS.criSequential !== undefined || ARGS.criHostNetwork,
);
const runs = (scenario: string) => !ARGS.only || ARGS.only.has(scenario);
/** Scenarios 1-5, 7 and 8 share one nodelet on the process runtime; scenario 6 starts its own, on containerd. */
const needsAgent = ['1', '2', '3', '4', '5', '7', '8'].some(runs);
/** Scenario 7 edits pods of the drops of scenario 2: asking for 7 makes the drops (and reports them). */
const dropsRun = runs('2') || runs('7');
const CRI_OPTS = { quick, sizes: ARGS.criSizes, trials: ARGS.criTrials, sequentialMax: ARGS.criSequential, hostNetwork: ARGS.criHostNetwork };

const BASE_PLAN = quick
  ? { warmup: 3, singleTrials: 20, bulkSizes: [10, 100], windowMs: 10_000, probeWindowMs: 10_000, restartTrials: 5, probePods: 50, editTrials: 3, budgetMs: 4 * 60_000 }
  : { warmup: 5, singleTrials: 200, bulkSizes: [10, 100, 1000], windowMs: 60_000, probeWindowMs: 30_000, restartTrials: 20, probePods: 500, editTrials: 0, budgetMs: 9 * 60_000 };
const PLAN = {
  ...BASE_PLAN,
  singleTrials: ARGS.trials ?? BASE_PLAN.singleTrials,
  bulkSizes: ARGS.sizes ?? BASE_PLAN.bulkSizes,
  windowMs: ARGS.windowS ? ARGS.windowS * 1000 : BASE_PLAN.windowMs,
  probeWindowMs: ARGS.probeWindowS ? ARGS.probeWindowS * 1000 : BASE_PLAN.probeWindowMs,
  peers: ARGS.peers ?? [...PEER_NAMES],
  budgetMs: (needsAgent ? BASE_PLAN.budgetMs : 60_000) + (runs('6') ? criBudgetMs(CRI_OPTS) : 0),
};
/** Trials of scenario 7 at a drop size: 20 at the largest (the figure with a target), 10 at the others. */
function editTrialsAt(n: number): number {
  if (ARGS.editTrials) return ARGS.editTrials;
  if (BASE_PLAN.editTrials) return BASE_PLAN.editTrials;
  return n === Math.max(...PLAN.bulkSizes) ? 20 : 10;
}
/** Scenario 3 measures the idle node with 0 pods and with each drop size from 100 up. */
const IDLE_MIN_PODS = 100;

const TARGET = {
  p99Ms: 100,
  bulk1000Ms: 10_000,
  edit1000Ms: 100,
  /** Time against N: the exponent of the growth between the two largest sizes (1 is linear). */
  growthExponent: 1.1,
  spawnLoopRatio: 2,
  rssBytes: 80 * 1024 * 1024,
  idleCpuPct: 1,
  probeCpuPct: 10,
};

/** Poll periods: 1 ms where milliseconds matter, coarser where the figure is in seconds. */
const POLL_FAST_MS = 1;
const POLL_BULK_MS = 10;
/**
 * How far the bench's mean pod start and nodelet's kubelet_pod_start_duration_seconds mean may be apart
 * to agree: 80 ms, or 5 % of the bench's mean when that is more. The two do not time the same span: the
 * metric starts at the pod's config.seen, when the watch event that named its manifest reached nodelet
 * (scenario 2: after the first rename), which makes the bench's longer; it ends when the runtime's start
 * call has returned, after the process the bench sees exec'd, which makes the metric longer when nodelet
 * is busy (a drop of 1,000).
 */
const METRIC_GAP_MAX_MS = 80;
const METRIC_GAP_MAX_FRACTION = 0.05;
/** Quiet time between two single-pod trials, once the previous pod's process is gone. */
const TRIAL_GAP_MS = 100;

const rows: Row[] = [];
const notes: string[] = [];
let failures = 0;
const deadline = new Deadline(PLAN.budgetMs);
let agent: BenchAgent | undefined;
let scanner: ProcScanner | undefined;

// ---------------------------------------------------------------------------------------------------
// Cleanup: on normal end, on error, on Ctrl-C / SIGTERM, and (synchronously) on exit.

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopPeersNow();
    await stopCri();
    const a = agent;
    if (!a) return;
    if (needsAgent) progress('stopping nodelet (SIGTERM: it stops its pods with grace)…');
    const took = await a.stop(GRACE_SECONDS * 1000 + 30_000);
    if (took !== undefined) notes.push(`nodelet stop (SIGTERM → exited, stopping the pods still running): ${fmtMs(took)}.`);
  })();
  return cleaning;
}

let interrupted = false;
function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    agent?.stopNow();
    process.exit(130);
  }
  interrupted = true;
  deadline.aborted = `interrupted by ${signal}`;
  progress(`${signal}: cleaning up (again to force)…`);
  void cleanup().finally(() => process.exit(130));
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', () => {
  stopPeersNow();
  agent?.stopNow();
  // Again: a fork of a peer that had not exec'd yet at the first pass has by now.
  stopPeersNow();
});
// The last resort if something hangs outside a bounded loop.
setTimeout(() => {
  progress('hard time limit reached: killing everything');
  stopPeersNow();
  agent?.stopNow();
  process.exit(1);
}, PLAN.budgetMs + 45_000).unref();

// ---------------------------------------------------------------------------------------------------

function mustAgent(): BenchAgent {
  if (!agent) throw new Error('nodelet is not started');
  if (agent.exited) throw new Error(`${agent.exited}; its log:\n${agent.logTail()}`);
  return agent;
}

function mustScanner(): ProcScanner {
  if (!scanner) throw new Error('no /proc scanner');
  return scanner;
}

/** Runs a scenario; a failure becomes failed rows (`onFail`) and the run goes on. Returns whether it succeeded. */
async function attempt(label: string, fn: () => Promise<void>, onFail: (msg: string) => Row[]): Promise<boolean> {
  try {
    deadline.check();
    await fn();
    return true;
  } catch (err) {
    failures++;
    const msg = err instanceof Error ? err.message : String(err);
    progress(`FAILED: ${label}: ${msg}`);
    if (!(err instanceof BenchTimeout) && !deadline.aborted && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    const short = `FAILED: ${msg.split('\n')[0]!.replace(/\|/g, '\\|')}`;
    rows.push(...onFail(short));
    await reset();
    return false;
  }
}

/** After a failed scenario: deletes every manifest and waits until nodelet lists no pod, so the next starts clean. */
async function reset(): Promise<void> {
  const a = agent;
  if (!a || a.exited || deadline.aborted || deadline.leftMs() <= 0) return;
  for (const name of readdirSync(a.manifests)) a.removeManifest(name);
  try {
    await waitForPods(0, 60_000);
  } catch (err) {
    progress(`could not get back to 0 pods: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Waits until a process whose command line satisfies `want` appears; returns it and ms since `t0`. */
async function waitForProcess(
  what: string,
  want: (cmdline: string) => boolean,
  t0: number,
  timeoutMs: number,
  intervalMs: number,
): Promise<{ pid: number; ms: number }> {
  const s = mustScanner();
  for (;;) {
    for (const p of s.scan()) {
      if (want(p.cmdline)) return { pid: p.pid, ms: performance.now() - t0 };
    }
    if (performance.now() - t0 > timeoutMs) throw new BenchTimeout(`timed out after ${fmtSeconds(timeoutMs)} waiting for ${what}`);
    deadline.check();
    mustAgent();
    await delay(intervalMs);
  }
}

/** Waits until none of `pids` still runs as its container (a zombie or a recycled pid no longer does). */
async function waitGone(what: string, procs: { pid: number; cmdline: string }[], timeoutMs: number, intervalMs: number): Promise<void> {
  let left = procs;
  await waitUntil(
    deadline,
    what,
    () => {
      left = left.filter((p) => readCmdline(p.pid) === p.cmdline);
      return left.length === 0;
    },
    { timeoutMs, intervalMs, detail: () => `${left.length} of ${procs.length} still running` },
  );
}

/** Waits until GET /pods lists exactly `n` pods, all `Running` (or none when n is 0). */
async function waitForPods(n: number, timeoutMs: number): Promise<void> {
  let last = '';
  await waitUntil(
    deadline,
    n ? `GET /pods to list ${n} Running pods` : 'GET /pods to list no pod',
    async () => {
      const pods = await mustAgent().pods();
      const running = pods.filter((p) => p.phase === 'Running').length;
      last = `${pods.length} listed, ${running} Running`;
      return pods.length === n && running === n;
    },
    { timeoutMs, intervalMs: n > 100 ? 500 : 100, detail: () => last },
  );
}

// ---------------------------------------------------------------------------------------------------
// nodelet's own figure: kubelet_pod_start_duration_seconds, from GET /metrics on the agent socket.

interface PodStartMetric {
  sum: number;
  count: number;
}

async function podStartMetric(): Promise<PodStartMetric> {
  const body = await mustAgent().get<unknown>('/metrics', 10_000);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const value = (suffix: 'sum' | 'count') => {
    const m = new RegExp(`^kubelet_pod_start_duration_seconds_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`GET /metrics has no kubelet_pod_start_duration_seconds_${suffix}`);
    return Number(m[1]);
  };
  return { sum: value('sum'), count: value('count') };
}

/** Pod start figures of the scenarios, for the plot. */
const latencySeries: { label: string; values: number[] }[] = [];

/**
 * Compares the metric's mean over the pods started since `before` (sum/count of the difference) with the
 * bench's mean over the same pods (`benchMs`, from the rename to the process seen); waits, bounded, until
 * the metric has counted all of them. The metric starts at config.seen (when the watch event that named the
 * manifest reached nodelet), the bench at the rename: the difference is the kernel's inotify delivery.
 */
async function comparePodStartMetric(scenario: string, what: string, before: PodStartMetric, benchMs: readonly number[]): Promise<void> {
  const n = benchMs.length;
  let after = before;
  try {
    await waitUntil(
      deadline,
      `GET /metrics to count ${n} more pod starts`,
      async () => {
        after = await podStartMetric();
        return after.count - before.count >= n;
      },
      { timeoutMs: 10_000, intervalMs: 100, detail: () => `${after.count - before.count} counted` },
    );
  } catch (err) {
    if (!(err instanceof BenchTimeout)) throw err;
  }
  const count = after.count - before.count;
  const metricMs = count > 0 ? ((after.sum - before.sum) / count) * 1000 : NaN;
  const benchMean = summarize(benchMs).mean;
  const diff = benchMean - metricMs;
  const counted = count === n ? `${n.toLocaleString('en-US')} pods` : `${count} counted for ${n} pods`;
  const tolerance = Math.max(METRIC_GAP_MAX_MS, METRIC_GAP_MAX_FRACTION * benchMean);
  rows.push({
    scenario,
    figure: `kubelet_pod_start_duration_seconds in /metrics (sum/count, ${counted}) vs the bench's mean, ${what}`,
    result: `${fmtMs(metricMs)} vs ${fmtMs(benchMean)}: bench − metric = ${fmtMs(diff)}`,
    target: `within ±${METRIC_GAP_MAX_MS} ms or ±${METRIC_GAP_MAX_FRACTION * 100} %`,
    met: count === n && Math.abs(diff) <= tolerance,
  });
  progress(`   kubelet_pod_start_duration_seconds mean ${fmtMs(metricMs)} over ${count} pods; the bench's ${fmtMs(benchMean)} (bench − metric ${fmtMs(diff)})`);
}

// ---------------------------------------------------------------------------------------------------
// 1. manifest written → container running, one pod at a time.

async function singlePodTrials(): Promise<void> {
  const a = mustAgent();
  const total = PLAN.warmup + PLAN.singleTrials;
  const latencies: number[] = [];
  const timeouts: string[] = [];
  let prev: { name: string; proc?: { pid: number; cmdline: string } } | undefined;
  // The metric's count and sum once the warm-up pods have started: the difference at the end covers the trials.
  let before: PodStartMetric | undefined = PLAN.warmup === 0 ? await podStartMetric() : undefined;
  progress(`1. manifest → container running: ${PLAN.warmup} warm-up + ${PLAN.singleTrials} trials, one pod at a time`);
  for (let i = 1; i <= total; i++) {
    const name = `t${i}.yaml`;
    const marker = newMarker();
    const cmdline = sleepCmdline(marker);
    a.stageManifest(name, marker);
    mustScanner().scan(); // from now on, only processes that appear after the rename
    const t0 = performance.now();
    a.moveIn(name);
    let proc: { pid: number; cmdline: string } | undefined;
    try {
      const r = await waitForProcess(`the container of ${name}`, (c) => c === cmdline, t0, 10_000, POLL_FAST_MS);
      proc = { pid: r.pid, cmdline };
      if (i > PLAN.warmup) latencies.push(r.ms);
    } catch (err) {
      if (!(err instanceof BenchTimeout)) throw err;
      timeouts.push(`${name}: ${err.message}`);
      progress(`   trial ${name}: ${err.message}`);
      if (timeouts.length >= 5) throw new BenchTimeout(`${timeouts.length} trials timed out; first: ${timeouts[0]}`);
    }
    if (prev) {
      a.removeManifest(prev.name);
      if (prev.proc) await waitGone(`the container of ${prev.name} to stop`, [prev.proc], 10_000, 5);
    }
    prev = { name, proc };
    if (i > PLAN.warmup && (i - PLAN.warmup) % 20 === 0) {
      const s = summarize(latencies);
      progress(`   ${i - PLAN.warmup}/${PLAN.singleTrials} trials: p50 ${fmtMs(s.p50)}, max ${fmtMs(s.max)}`);
    }
    await delay(TRIAL_GAP_MS);
    if (i === PLAN.warmup) before = await podStartMetric();
  }
  if (prev) {
    a.removeManifest(prev.name);
    if (prev.proc) await waitGone(`the container of ${prev.name} to stop`, [prev.proc], 10_000, 5);
  }
  await waitForPods(0, 30_000);

  const s = summarize(latencies);
  const n = `${s.n} trials${timeouts.length ? `, ${timeouts.length} timed out` : ''}`;
  const label = `Manifest written → container running (${n})`;
  rows.push(
    { scenario: '1', figure: `${label}, p50`, result: fmtMs(s.p50) },
    { scenario: '1', figure: `${label}, p90`, result: fmtMs(s.p90) },
    { scenario: '1', figure: `${label}, p99`, result: fmtMs(s.p99), target: `≤ ${TARGET.p99Ms} ms`, met: s.p99 <= TARGET.p99Ms && timeouts.length === 0 },
    { scenario: '1', figure: `${label}, max`, result: fmtMs(s.max) },
  );
  notes.push(`Single-pod latency: min ${fmtMs(s.min)}, mean ${fmtMs(s.mean)} over ${s.n} trials.`);
  if (timeouts.length) {
    failures++;
    notes.push(`Single-pod trials that timed out: ${timeouts.join('; ')}.`);
  }
  progress(`   p50 ${fmtMs(s.p50)}, p90 ${fmtMs(s.p90)}, p99 ${fmtMs(s.p99)}, max ${fmtMs(s.max)}`);
  latencySeries.push({ label: `manifest → running, one pod (${s.n} trials)`, values: latencies });
  if (before && timeouts.length === 0) await comparePodStartMetric('1', `${s.n} single-pod trials`, before, latencies);
}

// ---------------------------------------------------------------------------------------------------
// 2. N manifests at once → all N running.

interface Bulk {
  n: number;
  names: string[];
  /** The container cmdline of each manifest (same index as `names`); scenario 7 changes them. */
  cmdlines: string[];
  procs: { pid: number; cmdline: string }[];
  allMs: number;
}

/** Scenario 2's figure per size, for the growth row, the peers' ratios and the plot. */
const bulkAllMs = new Map<number, number>();

async function bulkDrop(n: number): Promise<Bulk> {
  const a = mustAgent();
  const width = String(n).length;
  const names: string[] = [];
  const cmdlines: string[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `b${n}-${String(i).padStart(width, '0')}.yaml`;
    const marker = newMarker();
    a.stageManifest(name, marker);
    names.push(name);
    cmdlines.push(sleepCmdline(marker));
  }
  const wanted = new Set(cmdlines);
  progress(`2. ${n} manifests at once → all running`);
  const bulk: Bulk = { n, names, cmdlines, procs: [], allMs: NaN };
  const seenMs: number[] = [];
  const metricBefore = await podStartMetric();
  const s = mustScanner();
  s.scan();
  const cpu0 = readCpuTicks(a.pid);
  const t0 = performance.now();
  for (const name of names) a.moveIn(name);
  const movedMs = performance.now() - t0;
  let firstMs: number | undefined;
  let lastReport = t0;
  const timeoutMs = Math.max(30_000, n * 60);
  for (;;) {
    for (const p of s.scan()) {
      if (wanted.delete(p.cmdline)) {
        bulk.procs.push({ pid: p.pid, cmdline: p.cmdline });
        const ms = performance.now() - t0;
        seenMs.push(ms);
        firstMs ??= ms;
      }
    }
    const now = performance.now();
    if (wanted.size === 0) break;
    if (now - t0 > timeoutMs) {
      throw new BenchTimeout(`timed out after ${fmtSeconds(timeoutMs)}: ${bulk.procs.length} of ${n} containers running`);
    }
    if (now - lastReport > 1_000) {
      lastReport = now;
      progress(`   ${bulk.procs.length}/${n} running after ${fmtSeconds(now - t0)}`);
    }
    deadline.check();
    mustAgent();
    await delay(POLL_BULK_MS);
  }
  const allMs = performance.now() - t0;
  bulk.allMs = allMs;
  bulkAllMs.set(n, allMs);
  const cpu1 = readCpuTicks(a.pid);
  const cpuS = cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / CLK_TCK : NaN;
  const isMax = n === 1000;
  rows.push({
    scenario: '2',
    figure: `${n.toLocaleString('en-US')} manifests at once → all running`,
    result: fmtSeconds(allMs),
    ...(isMax ? { target: `≤ ${TARGET.bulk1000Ms / 1000} s`, met: allMs <= TARGET.bulk1000Ms } : {}),
  });
  notes.push(
    `${n.toLocaleString('en-US')} at once: renames took ${fmtMs(movedMs)}; first container after ${fmtMs(firstMs ?? NaN)}, all ${n} after ${fmtSeconds(allMs)} ` +
      `(${((n / allMs) * 1000).toFixed(0)} pods/s overall); nodelet used ${cpuS.toFixed(2)} s of CPU meanwhile.`,
  );
  progress(`   all ${n} running after ${fmtSeconds(allMs)} (first after ${fmtMs(firstMs ?? NaN)}; nodelet CPU ${cpuS.toFixed(2)} s)`);

  // The agent's own view agrees, and what /pods costs at this size (measured after the drop).
  await waitForPods(n, 60_000);
  const g0 = performance.now();
  const body = await a.get<unknown>('/pods', 30_000);
  const getMs = performance.now() - g0;
  notes.push(`GET /pods with ${n.toLocaleString('en-US')} Running pods: ${fmtMs(getMs)}, ${fmtMB(Buffer.byteLength(JSON.stringify(body)))} of JSON.`);
  await comparePodStartMetric('2', `${n.toLocaleString('en-US')} manifests at once (each pod from the first rename)`, metricBefore, seenMs);
  return bulk;
}

/** Scenario 2: how the time to all running grows with N, as the exponent between the two largest sizes. */
function growthRow(): void {
  const sizes = [...bulkAllMs.keys()].sort((x, y) => x - y);
  if (sizes.length < 2) return;
  const [n1, n2] = sizes.slice(-2) as [number, number];
  const exp = Math.log(bulkAllMs.get(n2)! / bulkAllMs.get(n1)!) / Math.log(n2 / n1);
  const perPod = sizes.map((n) => `${n.toLocaleString('en-US')}: ${fmtMs(bulkAllMs.get(n)! / n)}`).join(', ');
  rows.push({
    scenario: '2',
    figure: `Time against N: time per pod (all running / N); growth exponent from ${n1.toLocaleString('en-US')} to ${n2.toLocaleString('en-US')} (1 = linear)`,
    result: `${perPod}; exponent ${exp.toFixed(2)}`,
    target: `≤ ${TARGET.growthExponent.toFixed(2)} (linear, not worse)`,
    met: exp <= TARGET.growthExponent,
  });
}

async function removeBulk(bulk: Bulk): Promise<void> {
  const a = mustAgent();
  progress(`   removing the ${bulk.n} pods`);
  const t0 = performance.now();
  for (const name of bulk.names) a.removeManifest(name);
  await waitGone(`the ${bulk.n} containers to stop`, bulk.procs, 60_000, 20);
  bulk.procs = [];
  const goneMs = performance.now() - t0;
  await waitForPods(0, 60_000);
  const emptyMs = performance.now() - t0;
  notes.push(`${bulk.n.toLocaleString('en-US')} manifests deleted → all container processes gone: ${fmtSeconds(goneMs)}; /pods empty: ${fmtSeconds(emptyMs)}.`);
}

// ---------------------------------------------------------------------------------------------------
// 7. Edit of one manifest among N running pods → the new container running.

/** Scenario 7's latencies per drop size, for the plot. */
const editLatencies = new Map<number, number[]>();

async function editTrials(bulk: Bulk): Promise<void> {
  const a = mustAgent();
  const trials = Math.min(editTrialsAt(bulk.n), bulk.n);
  const label = bulk.n.toLocaleString('en-US');
  progress(`7. edit of one manifest among ${label} running pods → new container running: ${trials} trials`);
  const latencies: number[] = [];
  const oldGoneMs: number[] = [];
  // A scan of /proc with thousands of pids costs ~0.5 ms: every 2 ms above 100 pods, not to load the CPUs nodelet needs.
  const pollMs = bulk.n > 100 ? 2 : POLL_FAST_MS;
  for (let k = 0; k < trials; k++) {
    // Trials spread over the set, each on a pod not edited before.
    const i = Math.floor(((k + 0.5) * bulk.n) / trials);
    const name = bulk.names[i]!;
    const oldCmdline = bulk.cmdlines[i]!;
    const old = bulk.procs.find((p) => p.cmdline === oldCmdline);
    const marker = newMarker();
    const cmdline = sleepCmdline(marker);
    a.stageManifest(name, marker);
    mustScanner().scan();
    const t0 = performance.now();
    a.moveIn(name);
    // The old container stops first (a static pod edit is REMOVE + ADD, the new one waits for the old).
    let goneMs: number | undefined;
    let r: { pid: number; ms: number } | undefined;
    for (;;) {
      if (goneMs === undefined && old && readCmdline(old.pid) !== old.cmdline) goneMs = performance.now() - t0;
      const p = mustScanner().scan().find((x) => x.cmdline === cmdline);
      if (p) {
        r = { pid: p.pid, ms: performance.now() - t0 };
        break;
      }
      if (performance.now() - t0 > 10_000) throw new BenchTimeout(`timed out after 10 s waiting for the container of the edited ${name}`);
      deadline.check();
      mustAgent();
      await delay(pollMs);
    }
    latencies.push(r.ms);
    if (goneMs !== undefined) oldGoneMs.push(goneMs);
    bulk.cmdlines[i] = cmdline;
    bulk.procs = bulk.procs.filter((p) => p !== old);
    bulk.procs.push({ pid: r.pid, cmdline });
    if (old && readCmdline(old.pid) === old.cmdline) throw new Error(`the old container of ${name} (pid ${old.pid}) still runs beside the new one`);
    await delay(TRIAL_GAP_MS);
  }
  // The node is back to N Running pods, the edited ones included.
  await waitForPods(bulk.n, 60_000);
  const s = summarize(latencies);
  editLatencies.set(bulk.n, latencies);
  const fig = `Edit of one manifest among ${label} running pods → new container running (${s.n} trials)`;
  const isMax = bulk.n === 1000;
  rows.push(
    { scenario: '7', figure: `${fig}, p50`, result: fmtMs(s.p50) },
    {
      scenario: '7',
      figure: `${fig}, max`,
      result: fmtMs(s.max),
      ...(isMax ? { target: `≤ ${TARGET.edit1000Ms} ms`, met: s.max <= TARGET.edit1000Ms } : {}),
    },
  );
  const g = summarize(oldGoneMs);
  notes.push(
    `Edit among ${label}: min ${fmtMs(s.min)}, mean ${fmtMs(s.mean)}; the old container was gone after ${fmtMs(g.p50)} (p50; max ${fmtMs(g.max)}) and the new one ran ${fmtMs(s.p50 - g.p50)} later (p50).`,
  );
  progress(`   p50 ${fmtMs(s.p50)}, max ${fmtMs(s.max)} (old container gone after ${fmtMs(g.p50)}, p50)`);
}

/** Scenario 7: whether the edit latency depends on N, as the ratio of the medians at the largest and smallest N. */
function editRatioRow(): void {
  const sizes = [...editLatencies.keys()].sort((x, y) => x - y);
  if (sizes.length < 2) return;
  const lo = sizes[0]!;
  const hi = sizes[sizes.length - 1]!;
  const p50 = (n: number) => summarize(editLatencies.get(n)!).p50;
  rows.push({
    scenario: '7',
    figure: `Edit: p50 among ${hi.toLocaleString('en-US')} pods / p50 among ${lo.toLocaleString('en-US')} (1 = does not depend on N)`,
    result: `${(p50(hi) / p50(lo)).toFixed(2)} (${fmtMs(p50(hi))} / ${fmtMs(p50(lo))})`,
  });
}

// ---------------------------------------------------------------------------------------------------
// 8. The peers of scenario 2: the same N `sleep`s by a plain spawn loop, by that loop through bwrap and by
// supervisord.

const peerRuns: PeerRun[] = [];

async function peerScenario(): Promise<void> {
  for (const peer of PLAN.peers) {
    const why = await peerUnavailable(peer);
    if (why) {
      progress(`8. ${PEER_LABEL[peer]}: skipped: ${why}`);
      rows.push({ scenario: '8', figure: `N commands at once → all running: ${PEER_LABEL[peer]}`, result: `not measured: ${why}` });
      continue;
    }
    for (const n of PLAN.bulkSizes) {
      const label = n.toLocaleString('en-US');
      progress(`8. ${label} \`sleep\`s at once → all running: ${PEER_LABEL[peer]}`);
      await attempt(
        `scenario 8 (${peer}, ${n})`,
        async () => {
          const r = await runPeer(peer, n, deadline, POLL_BULK_MS);
          peerRuns.push(r);
          const nl = bulkAllMs.get(n);
          const ratio = nl === undefined ? NaN : nl / r.allMs;
          const withTarget = peer === 'spawn-loop' && n === 1000;
          rows.push({
            scenario: '8',
            figure: `${label} \`sleep\`s at once → all running: ${PEER_LABEL[peer]} (nodelet / it)`,
            result: `${fmtSeconds(r.allMs)} (${Number.isFinite(ratio) ? ratio.toFixed(2) : 'nodelet not measured'})`,
            ...(withTarget ? { target: `nodelet / it ≤ ${TARGET.spawnLoopRatio.toFixed(2)}`, met: ratio <= TARGET.spawnLoopRatio } : {}),
          });
          notes.push(
            `${PEER_LABEL[peer]}, ${label}: first process after ${fmtMs(r.firstMs)}, all after ${fmtSeconds(r.allMs)} (${((n / r.allMs) * 1000).toFixed(0)} processes/s); ` +
              `${peer === 'supervisord' ? 'supervisord' : 'the loop\'s Node process'} used ${r.cpuS.toFixed(2)} s of CPU.`,
          );
        },
        (msg) => [{ scenario: '8', figure: `${label} \`sleep\`s at once → all running: ${PEER_LABEL[peer]}`, result: msg, met: false }],
      );
    }
  }
  // What the sandbox alone costs: where the spawn-loop target stands before nodelet does anything.
  for (const n of PLAN.bulkSizes) {
    const plain = peerRuns.find((r) => r.peer === 'spawn-loop' && r.n === n);
    const sandboxed = peerRuns.find((r) => r.peer === 'bwrap-loop' && r.n === n);
    if (!plain || !sandboxed) continue;
    rows.push({
      scenario: '8',
      figure: `${n.toLocaleString('en-US')} \`sleep\`s at once: the sandbox's floor / the plain floor`,
      result: `${(sandboxed.allMs / plain.allMs).toFixed(2)} (${fmtSeconds(sandboxed.allMs)} / ${fmtSeconds(plain.allMs)})`,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. Idle RSS and CPU.

async function idleWindow(podsLabel: string, settleMs: number): Promise<void> {
  const pid = mustAgent().pid;
  progress(`3. idle with ${podsLabel}: settling ${fmtSeconds(settleMs)}, then a ${fmtSeconds(PLAN.windowMs)} window`);
  const settleEnd = performance.now() + settleMs;
  while (performance.now() < settleEnd) {
    deadline.check();
    await delay(Math.min(500, settleEnd - performance.now()));
  }
  const rss: number[] = [];
  // The runtime supervisor runs every container: its cost is part of the node's, reported beside.
  const sup = mustAgent().supervisorPid();
  const supRss: number[] = [];
  const s0 = sup === undefined ? undefined : readCpuTicks(sup);
  const c0 = readCpuTicks(pid);
  const t0 = performance.now();
  for (;;) {
    const r = readRssBytes(pid);
    if (r === undefined || c0 === undefined) mustAgent();
    if (r !== undefined) rss.push(r);
    const sr = sup === undefined ? undefined : readRssBytes(sup);
    if (sr !== undefined) supRss.push(sr);
    const left = PLAN.windowMs - (performance.now() - t0);
    if (left <= 0) break;
    deadline.check();
    await delay(Math.min(1_000, left));
  }
  const c1 = readCpuTicks(pid);
  const s1 = sup === undefined ? undefined : readCpuTicks(sup);
  const seconds = (performance.now() - t0) / 1000;
  if (c0 === undefined || c1 === undefined) throw new Error('nodelet disappeared during the window');
  const cpuPct = ((c1 - c0) / CLK_TCK / seconds) * 100;
  const s = summarize(rss);
  const win = fmtSeconds(PLAN.windowMs);
  rows.push(
    {
      scenario: '3',
      figure: `nodelet RSS, idle, ${podsLabel} (max over ${win}; mean; at the end)`,
      result: `${fmtMB(s.max)} (${fmtMB(s.mean)}; ${rss.length ? fmtMB(rss[rss.length - 1]!) : '-'})`,
      target: `≤ ${fmtMB(TARGET.rssBytes)}`,
      met: s.max <= TARGET.rssBytes,
    },
    {
      scenario: '3',
      figure: `nodelet CPU, idle, ${podsLabel} (${win}, % of one core)`,
      result: `${fmtPct(cpuPct)} (${c1 - c0} ticks)`,
      target: `≤ ${TARGET.idleCpuPct} %`,
      met: cpuPct <= TARGET.idleCpuPct,
    },
  );
  if (sup !== undefined && s0 !== undefined && s1 !== undefined && supRss.length) {
    const ss = summarize(supRss);
    rows.push({
      scenario: '3',
      figure: `runtime supervisor RSS (max; mean) and CPU, idle, ${podsLabel}`,
      result: `${fmtMB(ss.max)} (${fmtMB(ss.mean)}); ${fmtPct(((s1 - s0) / CLK_TCK / seconds) * 100)}`,
    });
  }
  const mem = readMemory(pid);
  const parts = mem ? ` At the end RSS ${fmtMB(mem.rss)} = anonymous ${fmtMB(mem.anon)} + file-backed ${fmtMB(mem.file)} (the node binary and libraries, shared with other node processes) + shmem ${fmtMB(mem.shmem)}.` : '';
  const firstLast = rss.length ? `${fmtMB(rss[0]!)} at the start of the window, ${fmtMB(rss[rss.length - 1]!)} at its end` : 'no sample';
  notes.push(`RSS idle with ${podsLabel}: ${firstLast}, min ${fmtMB(s.min)}.${parts}`);
  progress(`   RSS max ${fmtMB(s.max)} (mean ${fmtMB(s.mean)}; ${firstLast}), CPU ${fmtPct(cpuPct)}`);
  if (ARGS.heapSnapshot) await heapSnapshot(ARGS.heapSnapshot, podsLabel);
}

/** Asks nodelet (started with --heapsnapshot-signal) for a heap snapshot and waits until it is written. */
async function heapSnapshot(dir: string, label: string): Promise<void> {
  const list = () => new Set(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')));
  const before = list();
  process.kill(mustAgent().pid, 'SIGUSR2');
  let file = '';
  let size = -1;
  await waitUntil(
    deadline,
    'the heap snapshot',
    () => {
      file ||= [...list()].find((f) => !before.has(f)) ?? '';
      if (!file) return false;
      const now = statSync(path.join(dir, file)).size;
      const stable = now > 0 && now === size;
      size = now;
      return stable && mustAgent().get('/healthz', 5_000).then((b) => b === 'ok');
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  notes.push(`Heap snapshot idle with ${label}: ${path.join(dir, file)}.`);
}

// ---------------------------------------------------------------------------------------------------
// 4. Container SIGKILLed → running again (the first restart has no backoff).

async function restartTrials(): Promise<void> {
  const a = mustAgent();
  progress(`4. container SIGKILLed → running again: ${PLAN.restartTrials} trials, a new pod each (first restart)`);
  const latencies: number[] = [];
  for (let i = 1; i <= PLAN.restartTrials; i++) {
    const name = `r${i}.yaml`;
    const marker = newMarker();
    const cmdline = sleepCmdline(marker);
    a.stageManifest(name, marker);
    mustScanner().scan();
    const tw = performance.now();
    a.moveIn(name);
    const first = await waitForProcess(`the container of ${name}`, (c) => c === cmdline, tw, 10_000, 2);
    await delay(300); // let the worker finish the sync that started it
    mustScanner().scan();
    const t0 = performance.now();
    process.kill(first.pid, 'SIGKILL');
    const again = await waitForProcess(`the container of ${name} to restart`, (c) => c === cmdline, t0, 10_000, POLL_FAST_MS);
    latencies.push(again.ms);
    a.removeManifest(name);
    await waitGone(`the container of ${name} to stop`, [{ pid: again.pid, cmdline }], 10_000, 5);
    await delay(TRIAL_GAP_MS);
  }
  await waitForPods(0, 30_000);
  const s = summarize(latencies);
  const label = `Container SIGKILLed → running again (${s.n} trials)`;
  latencySeries.push({ label: `container SIGKILLed → running again (${s.n} trials)`, values: latencies });
  rows.push({ scenario: '4', figure: `${label}, p50`, result: fmtMs(s.p50) }, { scenario: '4', figure: `${label}, max`, result: fmtMs(s.max) });
  progress(`   p50 ${fmtMs(s.p50)}, max ${fmtMs(s.max)}`);
}

// ---------------------------------------------------------------------------------------------------
// 5. Probes: N pods, each with an httpGet liveness probe every second; nodelet's CPU over a window.

async function probeLoad(): Promise<void> {
  const a = mustAgent();
  const n = PLAN.probePods;
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    progress(`5. ${n} pods with a 1 s httpGet liveness probe each`);
    const names: string[] = [];
    const wanted = new Set<string>();
    for (let i = 1; i <= n; i++) {
      const name = `p${String(i).padStart(4, '0')}.yaml`;
      const marker = newMarker();
      a.stageManifest(name, marker, port);
      names.push(name);
      wanted.add(sleepCmdline(marker));
    }
    mustScanner().scan();
    for (const name of names) a.moveIn(name);
    const t0 = performance.now();
    while (wanted.size > 0) {
      for (const p of mustScanner().scan()) wanted.delete(p.cmdline);
      if (performance.now() - t0 > 120_000) throw new BenchTimeout(`${n - wanted.size} of ${n} probed pods running after 120 s`);
      deadline.check();
      await delay(POLL_BULK_MS);
    }
    await waitForPods(n, 60_000);
    await delay(5_000); // probes spread over their first period
    const c0 = readCpuTicks(a.pid);
    const h0 = hits;
    const w0 = performance.now();
    while (performance.now() - w0 < PLAN.probeWindowMs) {
      deadline.check();
      mustAgent();
      await delay(Math.min(1_000, PLAN.probeWindowMs - (performance.now() - w0)));
    }
    const c1 = readCpuTicks(a.pid);
    const seconds = (performance.now() - w0) / 1000;
    if (c0 === undefined || c1 === undefined) throw new Error('nodelet disappeared during the window');
    const pct = ((c1 - c0) / CLK_TCK / seconds) * 100;
    const rate = (hits - h0) / seconds;
    rows.push({
      scenario: '5',
      figure: `nodelet CPU with ${n} pods probed by httpGet every 1 s (${fmtSeconds(PLAN.probeWindowMs)}, % of one core)`,
      result: `${fmtPct(pct)} (${rate.toFixed(0)} probes/s)`,
      target: `≤ ${TARGET.probeCpuPct} %`,
      met: pct <= TARGET.probeCpuPct,
    });
    notes.push(`Probes: ${rate.toFixed(0)} httpGet probes/s answered by the bench's server during the window (expected ${n}/s).`);
    progress(`   CPU ${fmtPct(pct)} at ${rate.toFixed(0)} probes/s`);
    for (const name of names) a.removeManifest(name);
    await waitForPods(0, 120_000);

    progress(`   the probe floor: a bare Node loop making the same ${n} probes/s`);
    // Half nodelet's window: a steady loop needs no longer, and the whole bench must stay within 10 minutes.
    const floor = await probeFloor(port, n, PLAN.probeWindowMs / 2, deadline);
    rows.push({
      scenario: '5',
      figure: `The same probes from a bare Node loop (the floor: a connection, the request, the response, nothing else) (nodelet / it)`,
      result: `${fmtPct(floor.cpuPct)} (${(pct / floor.cpuPct).toFixed(2)}) at ${floor.probesPerS.toFixed(0)} probes/s`,
    });
    if (floor.failed > 0) notes.push(`Probe floor: ${floor.failed} of its probes failed during the window.`);
    progress(`   floor CPU ${fmtPct(floor.cpuPct)} at ${floor.probesPerS.toFixed(0)} probes/s (nodelet / floor ${(pct / floor.cpuPct).toFixed(2)})`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------------

const METHOD = [
  'nodelet is the built `dist/cli/main.js run`, started once with `--max-pods=2000 --read-only-port=0 --port=0` on empty temp dirs and kept running for every scenario; its log goes to a file.',
  'Each container is `command: ["sleep", "<unique number>"]`, run directly (no shell), `terminationGracePeriodSeconds: ' +
    `${GRACE_SECONDS}\`. "Running" means a process whose /proc/<pid>/cmdline is exactly \`sleep <number>\` exists: the bench lists /proc and reads the cmdline of pids it has not seen before (a fork of nodelet that has not exec'd yet shows nodelet's cmdline and is read again at the next scan).`,
  `Scenario 1: the manifest is written into a staging dir on the same filesystem, then renamed into the manifest dir (as editors save); the clock starts just before the rename. /proc is scanned every ${POLL_FAST_MS} ms (so a figure is late by at most ~1.5 ms). After each trial the previous trial's file is deleted and the bench waits until that pod's process is gone, then ${TRIAL_GAP_MS} ms; the first ${PLAN.warmup} trials are warm-up and not counted. nodelet debounces watch events by 5 ms; a file renamed in is read at once, without the 40 ms a file written in place waits for (architecture.md, invariant 3).`,
  `Scenario 2: N manifests are written into the staging dir, then renamed in one after another as fast as possible; the clock starts before the first rename and stops when the last of the N processes is seen (/proc scanned every ${POLL_BULK_MS} ms). Between sizes all pods are deleted and the bench waits until /pods is empty. Time against N: the time per pod at each N, and the exponent k of time ∝ N^k between the two largest sizes (1: linear).`,
  `/metrics (scenarios 1 and 2): nodelet's kubelet_pod_start_duration_seconds histogram is read on the agent socket (GET /metrics) before and after the pods of a scenario start; the mean of those pods is the difference of \`_sum\` over the difference of \`_count\` (the buckets are seconds wide, too coarse for a percentile). The bench's mean is over the same pods, each from the rename (scenario 2: the first rename) to its process seen. The two do not time quite the same span: the metric starts at the pod's config.seen (the kubelet counts from it), when the watch event that named its manifest reached nodelet, not when the pass that read it began, which makes the bench's mean longer (scenario 2: by the time from the first rename to the pod's own), and ends when the runtime's start call has returned, after the exec the bench sees, which makes the metric's longer when nodelet is busy. They agree when they are within ${METRIC_GAP_MAX_MS} ms or ${METRIC_GAP_MAX_FRACTION * 100} % of each other.`,
  `Scenario 3: VmRSS from /proc/<pid>/status sampled every second over the window (max and mean), CPU from utime+stime of /proc/<pid>/stat at both ends of the window (USER_HZ ${CLK_TCK}), as a percentage of one core. Nothing talks to nodelet during the window. "Idle with N pods": the pods of scenario 2's drop of N (N from ${IDLE_MIN_PODS} up), the window starting 5 s after they were seen running and listed Running by /pods; with 0 pods, 3 s after scenario 1.`,
  'Scenario 4: each trial is a new pod (the first restart of a container has no backoff); 300 ms after its container is running the bench SIGKILLs the `sleep` and measures until a new process with the same cmdline appears.',
  `Scenario 5: N pods (500; 50 with --quick) whose container has an httpGet livenessProbe (periodSeconds 1) on an HTTP server in the bench process; CPU as in scenario 3, over a ${fmtSeconds(PLAN.probeWindowMs)} window, 5 s after all are Running and listed by /pods. The floor, once the pods are gone: a bare Node process (\`node --max-semi-space-size=1\`, nodelet's V8 flag) makes the same N probes a second against the same server, spread over the second and sent on a 50 ms grid as nodelet's prober sends them, each a new connection writing the kubelet's request (\`User-Agent: kube-probe/1.30\`, \`Accept: */*\`), closed once the whole response is in (its Content-Length), and nothing else; its CPU over a window half as long, after 3 s of warm-up. A new connection per probe is the kubelet's way (no keep-alive): the connect, the write and the close are kernel work that any prober pays.`,
  ...(runs('6') ? [criMethod(CRI_OPTS)] : []),
  `Scenario 7: with the N pods of scenario 2 running (after the idle window of scenario 3 at that size), one manifest is rewritten with a new \`sleep\` number (written into the staging dir, renamed over the old file); the clock starts before the rename and stops when the new process is seen (/proc scanned every ${POLL_FAST_MS} ms, every 2 ms above 100 pods); the bench also notes when the old process is gone (a static pod edit is a new pod, which starts once the old one has stopped). Each trial edits another pod, spread over the set, ${TRIAL_GAP_MS} ms apart; the target is on the max at 1,000 pods.`,
  `Scenario 8 (peers, same N as scenario 2, after scenario 5, with nodelet idle and no pod): N \`sleep <unique number>\` processes, seen running the same way. Plain spawn loop, the physical floor: a Node process (\`node -e\`, already started and loaded) spawns them in a loop with \`child_process.spawn\` (detached, no stdio) when the bench says go; the clock starts at the go. The spawn loop through bwrap, the floor of a sandboxed container (only where bwrap works): the same loop, each \`sleep\` behind the bwrap arguments of the launch plan nodelet's process runtime makes for the bench's sleep pod (launch-plan.ts: --die-with-parent, --new-session, new pid, IPC and UTS namespaces, / bound, a fresh /dev and /proc) less \`--json-status-fd\`; no cgroups, logs or checkpoints. supervisord (Debian's, only where installed: \`npm run bench:peers-setup\`; the bench installs nothing): a generated config with N \`[program:x]\` sections (\`command=sleep <number>\`, autostart, \`startsecs=0\`, no restart, stderr into the stdout log file, as nodelet keeps one log per container), \`supervisord -n -c <conf>\`; the clock starts at its spawn, so its start (Python, ~1 s before the first program) is included. Each is killed by pid afterwards. The ratios are nodelet's scenario 2 figure over the peer's; the target is on the spawn loop at 1,000.`,
  'Targets are the project\'s goals, printed next to the figures; a benchmark run does not fail on them. Other load on the machine (see the load average) shifts the figures.',
];

async function main(): Promise<number> {
  const started = performance.now();
  const machine = describeMachine();
  progress(`nodelet benchmark (${quick ? 'quick' : 'full'}): ${machine.nproc} CPUs, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverage}`);
  agent = new BenchAgent();
  agent.keepLogAt = ARGS.log;
  progress(`temp dir ${agent.dir}`);

  const a = agent;
  let startedOk = false;
  if (needsAgent) await attempt(
    'start nodelet',
    async () => {
      const nodeArgs = [
        ...ARGS.nodeArgs,
        ...(ARGS.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${ARGS.cpuProf}`] : []),
        ...(ARGS.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${ARGS.heapSnapshot}`] : []),
      ];
      const ms = await a.start(['--max-pods=2000', ...ARGS.nodeletArgs], 30_000, nodeArgs, ARGS.bin);
      // Containers are forked by the runtime supervisor: before its exec a fork shows the supervisor's cmdline.
      for (let i = 0; i < 100 && a.supervisorPid() === undefined; i++) await delay(50);
      const sup = a.supervisorPid();
      const supCmdline = sup === undefined ? undefined : readCmdline(sup);
      scanner = new ProcScanner((c) => c === a.cmdline || c === supCmdline);
      scanner.scan();
      notes.push(`nodelet start (spawn → its socket answers /healthz): ${fmtMs(ms)}.`);
      startedOk = true;
    },
    (msg) => [{ scenario: '-', figure: 'nodelet start', result: msg }],
  );

  if (startedOk) {
    if (runs('1')) await attempt('scenario 1', singlePodTrials, (msg) => [
      { scenario: '1', figure: 'Manifest written → container running, p99', result: msg, target: `≤ ${TARGET.p99Ms} ms`, met: false },
    ]);
    if (runs('3')) await attempt('scenario 3 (0 pods)', () => idleWindow('0 pods', 3_000), (msg) => [
      { scenario: '3', figure: 'nodelet RSS and CPU, idle, 0 pods', result: msg, met: false },
    ]);
    for (const n of dropsRun ? PLAN.bulkSizes : []) {
      if (!agentAlive()) break;
      const label = n.toLocaleString('en-US');
      const idle = runs('3') && n >= IDLE_MIN_PODS;
      let bulk: Bulk | undefined;
      await attempt(`scenario 2 (${n} pods)`, async () => {
        bulk = await bulkDrop(n);
      }, (msg) => [
        {
          scenario: '2',
          figure: `${label} manifests at once → all running`,
          result: msg,
          ...(n === 1000 ? { target: `≤ ${TARGET.bulk1000Ms / 1000} s` } : {}),
          met: false,
        },
      ]);
      const b = bulk as Bulk | undefined;
      if (!b) {
        if (idle) rows.push({ scenario: '3', figure: `nodelet RSS and CPU, idle, ${label} pods`, result: 'not measured: the drop of the pods failed', met: false });
        if (runs('7')) rows.push({ scenario: '7', figure: `Edit of one manifest among ${label} running pods`, result: 'not measured: the drop of the pods failed', met: false });
        continue;
      }
      // A failed step resets the node (no pod): the steps after it at this size have nothing to work on.
      let ok = true;
      if (idle) {
        ok = await attempt(`scenario 3 (${label} running pods)`, () => idleWindow(`${label} running pods`, 5_000), (msg) => [
          { scenario: '3', figure: `nodelet RSS and CPU, idle, ${label} running pods`, result: msg, met: false },
        ]);
      }
      if (ok && runs('7')) {
        ok = await attempt(`scenario 7 (${label} pods)`, () => editTrials(b), (msg) => [
          { scenario: '7', figure: `Edit of one manifest among ${label} running pods → new container running`, result: msg, met: false },
        ]);
      }
      if (ok) {
        await attempt(`removing the ${label} pods`, () => removeBulk(b), (msg) => [
          { scenario: '-', figure: `removing the ${label} pods`, result: msg },
        ]);
      }
    }
    if (dropsRun) growthRow();
    if (runs('7')) editRatioRow();
    if (runs('4')) await attempt('scenario 4', restartTrials, (msg) => [
      { scenario: '4', figure: 'Container SIGKILLed → running again', result: msg, met: false },
    ]);
    if (runs('5')) await attempt('scenario 5', probeLoad, (msg) => [
      { scenario: '5', figure: 'nodelet CPU with pods probed by httpGet every 1 s', result: msg, met: false },
    ]);
    if (runs('8') && agentAlive()) await peerScenario();
  }
  let criSeries: CriSeries[] = [];
  if (runs('6') && !deadline.aborted) {
    const log = ARGS.log && needsAgent ? `${ARGS.log}.cri` : ARGS.log;
    const cri = await runCriScenario({ ...CRI_OPTS, deadline, log, bin: ARGS.bin, nodeArgs: ARGS.nodeArgs });
    rows.push(...cri.rows);
    notes.push(...cri.notes);
    failures += cri.failures;
    criSeries = cri.series;
    // podman against nodelet's default runtime at the same N (scenario 2): what a user choosing between the
    // two on one machine sees. Not the same work: host processes in bwrap sandboxes on the host network
    // against containers from an image, each pod with its network namespace.
    for (const p of criSeries.find((s) => s.style === 'podman')?.points ?? []) {
      const nl = bulkAllMs.get(p.n);
      if (nl === undefined) continue;
      rows.push({
        scenario: '6',
        figure: `${p.n.toLocaleString('en-US')} pods: nodelet's default runtime (process, scenario 2) / podman kube play (containers, its network)`,
        result: `${(nl / p.ms).toFixed(2)} (podman / nodelet: ${(p.ms / nl).toFixed(1)}×)`,
      });
    }
  }

  if (a.exited) progress(`nodelet is not running any more (${a.exited}); last lines of its log:\n${a.logTail()}`);
  else if (failures && startedOk) progress(`last warnings and errors in nodelet's log:\n${a.logTail(15, /^[WE]\d{4} /)}`);
  await cleanup();

  const durationMs = performance.now() - started;
  const table = resultsTable(rows);
  process.stdout.write(`\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  const out = ARGS.out ?? (!quick && !diagnosis ? path.join(ROOT, 'docs/benchmarks.md') : undefined);
  if (out) {
    const svgFile = out.replace(/\.md$/, '') + '.svg';
    const svg = renderSvg({
      title: `nodelet benchmarks, ${machine.date.slice(0, 10)}: ${machine.nproc} CPUs, Node ${machine.node}, commit ${machine.commit.split(' ')[0]}`,
      latencies: plotLatencies(),
      curves: plotCurves(criSeries),
    });
    const mode = ARGS.out && (quick || diagnosis) ? `${quick ? 'quick' : 'diagnosis'} run (\`bench/run.ts ${process.argv.slice(2).join(' ')}\`)` : 'full run (`npm run bench`)';
    const doc = markdown({
      machine,
      mode,
      durationMs,
      rows,
      notes,
      method: METHOD,
      loadAtEnd: loadAverage(),
      versions: peerVersions(criSeries.length > 0),
      plot: path.relative(path.dirname(out), svgFile),
    });
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, doc);
    writeFileSync(svgFile, svg);
    progress(`wrote ${path.relative(process.cwd(), out) || out} and ${path.relative(process.cwd(), svgFile) || svgFile}`);
  }
  progress(`done in ${fmtSeconds(durationMs)}${failures ? `, ${failures} scenario(s) failed` : ''}`);
  return failures ? 1 : 0;
}

/** The latency distributions of the plot: scenario 1, scenario 7 at its largest size, scenario 4. */
function plotLatencies(): { label: string; values: number[] }[] {
  const out = latencySeries.filter((l) => l.label.startsWith('manifest'));
  const largest = Math.max(...editLatencies.keys());
  const edits = editLatencies.get(largest);
  if (edits) out.push({ label: `edit of one manifest among ${largest.toLocaleString('en-US')} pods (${edits.length} trials)`, values: edits });
  out.push(...latencySeries.filter((l) => !l.label.startsWith('manifest')));
  return out;
}

/** Time against N: nodelet (scenario 2), its peers (scenario 8), and the CRI variants (scenario 6). */
function plotCurves(cri: CriSeries[]): Curve[] {
  const curves: Curve[] = [];
  if (bulkAllMs.size) curves.push({ label: 'nodelet, process runtime', points: [...bulkAllMs].map(([n, ms]) => ({ n, ms })), style: 'nodelet' });
  for (const peer of PEER_NAMES) {
    const points = peerRuns.filter((r) => r.peer === peer).map((r) => ({ n: r.n, ms: r.allMs }));
    if (points.length) curves.push({ label: PEER_LABEL[peer], points, style: peer });
  }
  for (const c of cri) curves.push({ label: c.label, points: c.points, style: c.style });
  return curves;
}

/** The versions of the peers that took part, for the document's header. */
function peerVersions(cri: boolean): string {
  const parts: string[] = [];
  if (runs('8')) for (const p of PLAN.peers) parts.push(p === 'spawn-loop' ? `spawn loop: Node ${process.version}` : (peerVersion(p) ?? `${p}: not installed`));
  if (cri) {
    try {
      parts.push(execFileSync('podman', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim().replace(/^podman version /, 'podman '));
    } catch {
      parts.push('podman: not installed');
    }
  }
  return parts.join('; ');
}

function agentAlive(): boolean {
  return agent !== undefined && !agent.exited;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    progress(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup().catch(() => undefined);
    process.exitCode = 1;
  },
);

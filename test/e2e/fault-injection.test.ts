// Fault injection: nodelet is killed with SIGKILL at random moments (during start-up, mid-rollout of an
// edited manifest, while a pod crash-loops, while logs rotate) and restarted, again and again. After
// each kill and at the end: nothing ran twice, nothing was orphaned, restart counts never went
// backwards, no log line was lost or duplicated, and the final state equals the manifests.
//
// NODELET_FAULT_ITERATIONS sets the number of kills (CI: a few; `npm run test:faults`: 50).
// NODELET_FAULT_SEED replays a run (the seed is printed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { countedLines, marker, Nodelet, waitFor } from './harness.js';

const ITERATIONS = Number(process.env.NODELET_FAULT_ITERATIONS ?? 6);
const SEED = Number(process.env.NODELET_FAULT_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pod(name: string, script: string, mark: string, restartPolicy = 'Always'): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 2
  restartPolicy: ${restartPolicy}
  containers:
  - name: main
    command: ["sh", "-c", ${JSON.stringify(script)}, "${mark}"]
`;
}

const COUNTER = 'i=0; while :; do echo n=$i; i=$((i+1)); sleep 0.02; done';
// No `exec`: the shell must stay, its command line carrying the marker.
const SLEEPER = 'while :; do sleep 5; done';
const CRASHER = 'echo up; sleep 0.3; exit 1';

/** Every process's pid and command line, in one call: which markers run, and how many times. */
interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

function processes(): Proc[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
      return { pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! };
    });
}

/**
 * Main processes (`sh -c <script> <mark>`) of a marker. The script's own children are not counted:
 * a fork of the shell (for `sleep 0.02`) shows the shell's command line until it execs.
 */
const running = (ps: Proc[], mark: string) => {
  const all = ps.filter((p) => p.args.startsWith('sh -c ') && p.args.endsWith(` ${mark}`));
  const pids = new Set(all.map((p) => p.pid));
  return all.filter((p) => !pids.has(p.ppid));
};

test(`${ITERATIONS} SIGKILLs of nodelet at random moments leave every pod as the manifests say`, { timeout: 30 * 60_000 }, async (t) => {
  const random = prng(SEED);
  t.diagnostic(`seed ${SEED} (replay with NODELET_FAULT_SEED=${SEED})`);
  const n = new Nodelet();
  t.after(() => n.stop());
  // Small logs so that rotation happens during the run (the rotator looks every 10 s).
  const args = ['--container-log-max-size=16Ki', '--container-log-max-files=30'];
  const counterMark = n.track(marker());
  const crashMark = n.track(marker());
  n.write('counter.yaml', pod('counter', COUNTER, counterMark));
  n.write('crashy.yaml', pod('crashy', CRASHER, crashMark));
  let rollingMark = n.track(marker());
  n.write('rolling.yaml', pod('rolling', SLEEPER, rollingMark));
  const oldRolling: string[] = [];
  let extraMark: string | undefined;
  const oldExtra: string[] = [];

  n.start(args);
  await waitFor('the counter to run', () => running(processes(), counterMark).length === 1, 60_000);
  const counterPid = running(processes(), counterMark)[0]!.pid;
  let lastCrashRestarts = 0;
  let lastCounterRestarts = 0;
  let samples = 0;
  let violations: string[] = [];

  /** Checks what must hold at every moment, nodelet up or down. */
  const check = (where: string) => {
    const ps = processes();
    samples++;
    const counter = running(ps, counterMark);
    if (counter.length !== 1 || counter[0]!.pid !== counterPid) violations.push(`${where}: counter runs as ${JSON.stringify(counter.map((p) => p.pid))}, not [${counterPid}]`);
    for (const m of [crashMark, rollingMark, ...(extraMark ? [extraMark] : [])]) {
      if (running(ps, m).length > 1) violations.push(`${where}: ${m} runs ${running(ps, m).length} times`);
    }
  };

  /** Reads restart counts while nodelet is up; they must never go backwards. */
  const sampleRestarts = async () => {
    const pods = await n.pods().catch(() => []);
    for (const p of pods) {
      const rc = p.status?.containerStatuses?.[0]?.restartCount;
      if (rc === undefined) continue;
      const name = p.metadata!.name;
      if (name === 'crashy-testnode') {
        if (rc < lastCrashRestarts) violations.push(`crashy restartCount went back from ${lastCrashRestarts} to ${rc}`);
        lastCrashRestarts = Math.max(lastCrashRestarts, rc);
      }
      if (name === 'counter-testnode') {
        if (rc !== 0) violations.push(`counter restartCount is ${rc}`);
        lastCounterRestarts = rc;
      }
    }
  };

  const startedAt = Date.now();
  for (let i = 0; i < ITERATIONS; i++) {
    // What changes this round, written while nodelet is up, so that the kill may land mid-rollout.
    const roll = random() < 0.5;
    const toggleExtra = random() < 0.3;
    const delay = Math.floor(random() * 1500);
    if (roll) {
      oldRolling.push(rollingMark);
      rollingMark = n.track(marker());
      n.write('rolling.yaml', pod('rolling', SLEEPER, rollingMark));
    }
    if (toggleExtra) {
      if (extraMark) {
        oldExtra.push(extraMark);
        extraMark = undefined;
        n.remove('extra.yaml');
      } else {
        extraMark = n.track(marker());
        n.write('extra.yaml', pod('extra', SLEEPER, extraMark));
      }
    }
    const end = Date.now() + delay;
    while (Date.now() < end) {
      check(`iteration ${i} (up)`);
      await sampleRestarts();
      await new Promise((r) => setTimeout(r, 20));
    }
    await n.kill('SIGKILL');
    check(`iteration ${i} (down)`);
    n.start(args);
    // Sometimes kill again before start-up has finished: the next round's delay may be tiny.
  }
  const kills = ITERATIONS;

  // Let it converge, then compare with the manifests.
  await waitFor(
    'the running set to equal the manifests',
    async () => {
      const ps = processes();
      const pods = await n.pods();
      const names = pods.map((p) => p.metadata!.name).sort().join();
      const want = ['counter-testnode', 'crashy-testnode', ...(extraMark ? ['extra-testnode'] : []), 'rolling-testnode'].join();
      return (
        names === want &&
        running(ps, rollingMark).length === 1 &&
        (!extraMark || running(ps, extraMark).length === 1) &&
        [...oldRolling, ...oldExtra].every((m) => running(ps, m).length === 0)
      );
    },
    120_000,
  ).catch(async (err) => {
    const ps = processes();
    const pods = await n.pods().catch(() => []);
    t.diagnostic(`pods: ${pods.map((p) => `${p.metadata!.name}:${p.status?.phase}`).join(' ')}`);
    t.diagnostic(`rolling ${rollingMark}: ${running(ps, rollingMark).length}; extra ${extraMark}: ${extraMark ? running(ps, extraMark).length : '-'}`);
    t.diagnostic(`old still running: ${[...oldRolling, ...oldExtra].filter((m) => running(ps, m).length > 0).join(' ')}`);
    t.diagnostic(n.output.split('\n').slice(-60).join('\n'));
    throw err;
  });
  check('end');
  await sampleRestarts();
  const lines = countedLines(n, 'counter');
  const elapsed = (Date.now() - startedAt) / 1000;
  t.diagnostic(
    `${kills} kills in ${elapsed.toFixed(1)} s, ${samples} invariant samples, crashy restarts ${lastCrashRestarts}, counter lines ${lines.length}, ` +
      `log files ${readdirSync(path.join(n.logsDir, readdirSync(n.logsDir).find((d) => d.startsWith('default_counter'))!, 'main')).length}`,
  );

  assert.deepEqual(violations, []);
  violations = [];
  assert.ok(lines.length > 0);
  assert.equal(lines[0], 0, 'the first line is missing');
  for (let k = 1; k < lines.length; k++) {
    if (lines[k] !== lines[k - 1]! + 1) assert.fail(`log line ${lines[k - 1]! + 1} lost or duplicated: ${lines[k - 1]} followed by ${lines[k]}`);
  }
  assert.equal(lastCounterRestarts, 0);
  // One supervisor, no orphans: every process carrying this node's runtime tag is a live container of it.
  const supervisors = processes().filter((p) => p.args.includes(`--state-dir=${path.join(n.rootDir, 'process-runtime')}`));
  assert.equal(supervisors.length, 1, JSON.stringify(supervisors));
});

/** The machine a run happened on, and the results as a Markdown document. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg, release } from 'node:os';
import { ROOT } from './agent.js';

export interface Machine {
  date: string;
  nproc: string;
  cpuModel: string;
  memory: string;
  node: string;
  kernel: string;
  commit: string;
  loadAverage: string;
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  let memory = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  try {
    const kb = Number(/^MemTotal:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    if (kb) memory = `${(kb / 1024 / 1024).toFixed(1)} GiB`;
  } catch {
    // not Linux
  }
  const head = run('git', ['rev-parse', '--short=12', 'HEAD']) ?? 'unknown';
  const dirty = run('git', ['status', '--porcelain', '--', 'src', 'package.json']);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: run('nproc', []) ?? 'unknown',
    cpuModel,
    memory,
    node: process.version,
    kernel: release(),
    commit: dirty ? `${head} (with uncommitted changes in src/)` : head,
    loadAverage: loadAverage(),
  };
}

/** One line of the results table. */
export interface Row {
  scenario: string;
  figure: string;
  result: string;
  target?: string;
  /** undefined: no target; a failed scenario is `false` with the reason in `result`. */
  met?: boolean;
}

/** Rows in scenario order (stable: within a scenario, in the order measured); `-` rows (set-up) first. */
function byScenario(rows: readonly Row[]): Row[] {
  const key = (r: Row) => (/^\d+/.test(r.scenario) ? Number(/^\d+/.exec(r.scenario)![0]) : 0);
  return rows.map((r, i) => ({ r, i })).sort((x, y) => key(x.r) - key(y.r) || x.i - y.i).map((x) => x.r);
}

export function resultsTable(rows: readonly Row[]): string {
  const lines = ['| # | Figure | Result | Target | Met |', '|---|---|---|---|---|'];
  for (const r of byScenario(rows)) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(`| ${r.scenario} | ${r.figure} | ${r.result} | ${r.target ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}

export function markdown(opts: {
  machine: Machine;
  mode: string;
  durationMs: number;
  rows: readonly Row[];
  notes: readonly string[];
  method: readonly string[];
  loadAtEnd: string;
  /** The peers' versions, when any took part. */
  versions?: string;
  /** The plot's path relative to the document, when one is written beside it. */
  plot?: string;
}): string {
  const m = opts.machine;
  return `# nodelet benchmarks

Written by \`npm run bench\` (bench/run.ts); do not edit by hand. A benchmark, not a test: a figure
that misses its target is reported, not failed.

| | |
|---|---|
| Date | ${m.date} |
| Machine | ${m.nproc} CPUs (\`nproc\`), ${m.cpuModel}, ${m.memory} RAM, Linux ${m.kernel} |
| Load average | ${m.loadAverage} at the start, ${opts.loadAtEnd} at the end (1, 5, 15 min; other work on the machine shifts the figures) |
| Node | ${m.node} |
${opts.versions ? `| Peers | ${opts.versions} |\n` : ''}| nodelet commit | ${m.commit} |
| Run | ${opts.mode}, ${(opts.durationMs / 1000).toFixed(0)} s in all |

## Results

${resultsTable(opts.rows)}

${opts.plot ? `## Plots\n\nLeft: the latency distributions (cumulative, one point per trial). Right: time to all running against the number of pods, log-log; the dotted line is linear growth through nodelet's largest size.\n\n![Latency distributions and time against N](${opts.plot})\n\n` : ''}${opts.notes.length ? `## Other observations\n\n${opts.notes.map((n) => `- ${n}`).join('\n')}\n\n` : ''}## How it is measured

${opts.method.map((n) => `- ${n}`).join('\n')}
`;
}

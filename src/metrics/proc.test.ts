import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseProcStat, parseVmRSS, readNodeUsage, readProcessGroups, residentBytes } from './proc.js';
import { createStatsProvider } from './stats-summary.js';
import { FakeView, snapshot } from '../server/testing.js';

// Field 2 may hold spaces and parentheses; fields are counted from the last ')'.
const stat = (pid: number, comm: string, pgrp: number, utime: number, stime: number) =>
  `${pid} (${comm}) S 1 ${pgrp} ${pgrp} 0 -1 4194304 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 12345 1000000 250 18446744073709551615\n`;

test('a /proc/<pid>/stat line is read from the last parenthesis', () => {
  assert.deepEqual(parseProcStat(7, stat(7, 'my (odd) name', 5, 30, 12)), { pid: 7, pgrp: 5, cpuTicks: 42, rssPages: 250 });
  assert.equal(parseProcStat(7, 'garbage'), undefined);
  assert.equal(parseVmRSS('Name:\tsh\nVmRSS:\t    1536 kB\n'), 1536 * 1024);
  assert.equal(parseVmRSS('Name:\tkthreadd\n'), 0);
});

function fakeProc(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'nodelet-proc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const proc = (pid: number, pgrp: number, ticks: number, rssKb: number) => {
    mkdirSync(path.join(root, String(pid)));
    writeFileSync(path.join(root, String(pid), 'stat'), stat(pid, 'sh', pgrp, ticks, 0));
    writeFileSync(path.join(root, String(pid), 'status'), `Name:\tsh\nVmRSS:\t${rssKb} kB\n`);
  };
  proc(100, 100, 50, 1000);
  proc(101, 100, 25, 500);
  proc(200, 200, 7, 10);
  mkdirSync(path.join(root, 'self'));
  writeFileSync(path.join(root, 'stat'), 'cpu  100 0 50 1000 20 0 0 0 0 0\ncpu0 100 0 50 1000 20 0 0 0 0 0\nbtime 1700000000\n');
  writeFileSync(path.join(root, 'meminfo'), 'MemTotal:       1000 kB\nMemFree:         300 kB\nMemAvailable:    600 kB\n');
  return root;
}

test('processes are grouped by process group, and node usage read from /proc/stat and meminfo', async (t) => {
  const root = fakeProc(t);
  const groups = await readProcessGroups(root);
  assert.deepEqual(
    groups.get(100)?.map((p) => p.pid).sort(),
    [100, 101],
  );
  assert.equal(await residentBytes([100, 101, 999], root), 1500 * 1024);
  const node = await readNodeUsage(root);
  assert.equal(node.cpuBusyNs, 150 * 1e7);
  assert.equal(node.bootTimeMs, 1700000000 * 1000);
  assert.equal(node.memAvailableBytes, 600 * 1024);
});

test('the summary sums a container\'s process group, and gives a rate from the second sample on', async (t) => {
  const root = fakeProc(t);
  const v = new FakeView();
  let now = 1_000_000;
  const stats = createStatsProvider({ procRoot: root, now: () => now });
  const c = {
    name: 'main',
    init: false,
    restartCount: 0,
    current: { id: 'c1', sandboxId: 's', name: 'main', attempt: 0, state: 'running' as const, image: '', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '', pid: 100 },
  };
  v.snapshots = [snapshot('a', { containers: [c] })];
  const first = await stats.summary('n1', v.pods());
  const ctr = first.pods[0]!.containers[0]!;
  assert.equal(ctr.cpu.usageCoreNanoSeconds, 75 * 1e7);
  assert.equal(ctr.cpu.usageNanoCores, undefined);
  assert.equal(ctr.memory.workingSetBytes, 1500 * 1024);
  assert.deepEqual(first.pods[0]!.podRef, { name: 'a-n1', namespace: 'default', uid: 'uid-a' });
  assert.equal(first.node.nodeName, 'n1');
  // One more second of CPU over two seconds of wall time: half a core.
  writeFileSync(path.join(root, '100', 'stat'), stat(100, 'sh', 100, 150, 0));
  now += 2000;
  const second = await stats.summary('n1', v.pods());
  assert.equal(second.pods[0]!.containers[0]!.cpu.usageNanoCores, 5e8);
  assert.equal(second.pods[0]!.cpu.usageNanoCores, 5e8);
});

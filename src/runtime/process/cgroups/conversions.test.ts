import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuMaxLine, cpuSharesToWeight, parseCpuMax, wasOomKilled } from './conversions.js';

// The boundaries are opencontainers/cgroups v0.0.5 utils_test.go TestConvertCPUSharesToCgroupV2Value's;
// 100m, 512 and 2048 shares pin the curve between them.
test('cpu.shares map onto cpu.weight with minimum, default and maximum kept: 2→1, 1024→100, 262144→10000', () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [102, 17], // 100m
    [512, 59],
    [1024, 100],
    [2048, 174],
    [262_143, 10_000],
    [262_144, 10_000],
    [1_000_000, 10_000],
  ];
  for (const [shares, weight] of cases) assert.equal(cpuSharesToWeight(shares), weight, `shares ${shares}`);
});

test('cpu.max is "<quota> <period>", or "max <period>" without a quota', () => {
  assert.equal(cpuMaxLine(50_000, 100_000), '50000 100000');
  assert.equal(cpuMaxLine(0, 100_000), 'max 100000');
  assert.equal(cpuMaxLine(0, 0), 'max 100000');
  assert.deepEqual(parseCpuMax('max 100000\n'), { cpuQuota: 0, cpuPeriod: 100_000 });
  assert.deepEqual(parseCpuMax('25000 50000'), { cpuQuota: 25_000, cpuPeriod: 50_000 });
});

test('a container is OOMKilled when the kernel counted a kill in its cgroup, whatever its exit code', () => {
  assert.equal(wasOomKilled({ oomKills: 1, limitHits: 0 }, 137), true);
  // The main process may die of a child's kill (a shell whose child was killed exits 137 or 1).
  assert.equal(wasOomKilled({ oomKills: 1, limitHits: 5 }, 1), true);
  assert.equal(wasOomKilled({ oomKills: 0, limitHits: 5 }, 137), false);
});

test('without an oom_kill counter, SIGKILL after hitting the limit is taken for an OOM kill', () => {
  assert.equal(wasOomKilled({ oomKills: undefined, limitHits: 3 }, 137), true);
  assert.equal(wasOomKilled({ oomKills: undefined, limitHits: 0 }, 137), false);
  assert.equal(wasOomKilled({ oomKills: undefined, limitHits: 3 }, 1), false);
});

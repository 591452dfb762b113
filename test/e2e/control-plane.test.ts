/**
 * End-to-end: the shipped examples/control-plane/etcd.yaml, run by nodelet with Debian's real etcd
 * (`.ci/run` installs etcd-server and etcd-client). The manifest is used as shipped except for its
 * ports and data dir, moved to free ports and a temp dir so the test never meets another etcd.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../../src/api/types.js';
import { freePort, isAlive, Nodelet, NODE, ROOT, waitFor } from './harness.js';

const EXAMPLE = path.join(ROOT, 'examples/control-plane/etcd.yaml');
const COUNTER = path.join(ROOT, 'examples/control-plane/counter.yaml');

function missingEtcd(): string | undefined {
  const missing = ['etcd', 'etcdctl'].filter((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return undefined;
  const reason = `${missing.join(', ')} not installed: apt-get install etcd-server etcd-client, as .ci/run does`;
  if (process.env.CI === 'true') throw new Error(`CI must run the control-plane suite: ${reason}`);
  return reason;
}

/**
 * The example manifest with its three ports and its data dir replaced, and etcd also logging to
 * `logFile` (appended by every etcd in turn: a pod's container log goes with the pod).
 */
function manifest(ports: { client: number; peer: number; metrics: number }, dataDir: string, logFile: string, extraFlag = ''): string {
  let text = readFileSync(EXAMPLE, 'utf8')
    .replaceAll(':2379', `:${ports.client}`)
    .replaceAll(':2380', `:${ports.peer}`)
    .replaceAll(':2381', `:${ports.metrics}`)
    .replaceAll('port: 2381', `port: ${ports.metrics}`)
    .replaceAll('/var/lib/etcd', dataDir);
  const extra = ['--logger=zap', `--log-outputs=stderr,${logFile}`, ...(extraFlag ? [extraFlag] : [])];
  text = text.replace('    - --snapshot-count=10000\n', `    - --snapshot-count=10000\n${extra.map((f) => `    - ${f}\n`).join('')}`);
  return text;
}

/** Pids of etcd processes serving `dataDir` (a sandbox wrapper shares the command line but not the name). */
function etcdPids(dataDir: string): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-x', 'etcd'], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--data-dir=${dataDir}`);
      } catch {
        return false;
      }
    });
}

/** The one etcd serving `dataDir`, once there is exactly one. */
function oneEtcd(dataDir: string): number | undefined {
  const pids = etcdPids(dataDir);
  return pids.length === 1 ? pids[0] : undefined;
}

/** How many etcds have shut down on a signal, by their own log. */
function shutdowns(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('received signal; shutting down')).length;
}

test('etcd from examples/control-plane: serves (and the counter example through it), survives kill -9 with its data, rolls on edit with SIGTERM, stops cleanly on removal', async (t) => {
  const skip = missingEtcd();
  if (skip) return t.skip(skip);
  const n = new Nodelet();
  t.after(() => n.stop());
  const ports = { client: await freePort(), peer: await freePort(), metrics: await freePort() };
  const dataDir = path.join(n.dir, 'etcd-data');
  const logFile = path.join(n.dir, 'etcd.log');
  const etcdctl = (...args: string[]) =>
    execFileSync('etcdctl', [`--endpoints=http://127.0.0.1:${ports.client}`, '--command-timeout=5s', ...args], {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  // `endpoint health` exits non-zero when etcd is not healthy (and prints its verdict on stderr).
  const healthy = () => {
    etcdctl('endpoint', 'health');
    return true;
  };
  const pod = async (): Promise<Pod | undefined> => (await n.pods()).find((p) => p.metadata?.name === `etcd-${NODE}`);

  n.write('etcd.yaml', manifest(ports, dataDir, logFile));
  n.start();
  await waitFor('etcd to answer etcdctl endpoint health', healthy, 90_000);
  const first = await waitFor('the etcd pod Ready (startup probe on /health passed)', async () => {
    const p = await pod();
    return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
  }, 90_000);
  assert.equal(first.metadata?.namespace, 'kube-system');
  assert.equal(first.spec?.priorityClassName, 'system-node-critical');
  etcdctl('put', 'answer', '42');
  assert.equal(etcdctl('get', 'answer', '--print-value-only'), '42');

  // The second example keeps its count in this etcd.
  const counterPort = await freePort();
  n.write('counter.yaml', readFileSync(COUNTER, 'utf8').replaceAll(':2379', `:${ports.client}`).replaceAll('8081', String(counterPort)));
  const visit = async () => (await fetch(`http://127.0.0.1:${counterPort}/`)).text();
  assert.equal(await waitFor('the counter to answer', () => visit(), 60_000), 'visit 1\n');
  assert.equal(await visit(), 'visit 2\n');
  assert.equal(etcdctl('get', 'counter/visits', '--print-value-only'), '2');
  await waitFor('the counter pod Ready (its probe asks etcd)', async () =>
    (await n.pods()).find((p) => p.metadata?.name === `counter-${NODE}`)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );

  // kill -9: nodelet restarts etcd, which finds its data where it left it.
  const killed = await waitFor('one etcd process', () => oneEtcd(dataDir));
  process.kill(killed, 'SIGKILL');
  await waitFor('a new etcd process', () => {
    const pid = oneEtcd(dataDir);
    return pid !== undefined && pid !== killed;
  }, 60_000);
  await waitFor('the restarted etcd healthy', healthy, 90_000);
  assert.equal(etcdctl('get', 'answer', '--print-value-only'), '42');
  await waitFor('restartCount 1 in the pod status', async () => (await pod())?.status?.containerStatuses?.[0]?.restartCount === 1);

  // An edit (one new flag) is a new pod: the old etcd gets SIGTERM and shuts down before the new one
  // starts on the same data and ports.
  const before = await waitFor('one etcd process', () => oneEtcd(dataDir));
  const oldUid = first.metadata!.uid!;
  n.write('etcd.yaml', manifest(ports, dataDir, logFile, '--auto-compaction-retention=1'));
  const rolled = await waitFor('etcd running with the new flag', () => {
    const pid = oneEtcd(dataDir);
    return pid !== undefined && pid !== before && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--auto-compaction-retention=1') ? pid : undefined;
  }, 90_000);
  assert.ok(!isAlive(before), 'the old etcd is gone');
  assert.equal(shutdowns(logFile), 1, 'the old etcd shut down on SIGTERM (the one killed with -9 logged nothing)');
  assert.ok(!existsSync(path.join(n.logsDir, `kube-system_etcd-${NODE}_${oldUid}`)), 'the old pod log directory went with the old pod');
  await waitFor('the rolled etcd healthy', healthy, 90_000);
  assert.equal(etcdctl('get', 'answer', '--print-value-only'), '42');
  const newUid = await waitFor('the new pod', async () => {
    const p = await pod();
    return p?.metadata?.uid !== oldUid ? p?.metadata?.uid : undefined;
  });

  // Removing the file stops etcd with SIGTERM; its data stays on the host (hostPath is never removed).
  n.remove('etcd.yaml');
  await waitFor('etcd to stop', () => !isAlive(rolled) && etcdPids(dataDir).length === 0, 60_000);
  assert.equal(shutdowns(logFile), 2, 'etcd shut down on SIGTERM');
  // The pod's removal goes on after its process is gone (sandbox, then logs): waited for, not raced.
  await waitFor('the pod log directory to go with the pod', () => !existsSync(path.join(n.logsDir, `kube-system_etcd-${NODE}_${newUid}`)));
  assert.ok(existsSync(path.join(dataDir, 'member', 'snap', 'db')), 'the data dir survives the pod');

  // The manifest back: a fresh pod's etcd finds the key in the data dir the last one left.
  n.write('etcd.yaml', manifest(ports, dataDir, logFile));
  await waitFor('etcd back from the same data dir', healthy, 90_000);
  assert.equal(etcdctl('get', 'answer', '--print-value-only'), '42');
});

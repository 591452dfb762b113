// The runtime supervisor as a real process: containers outlive the client that started them, exit
// codes are exact, and a supervisor that dies is replaced by one that recovers from its checkpoints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../../../util/log.js';
import type { ContainerConfig, PodSandboxConfig } from '../../types.js';
import { processStartTime } from '../proc-stat.js';
import { connectProcessRuntime, type SupervisedRuntime } from './client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-supervisor-'));
const stateDir = path.join(dir, 'state');
const clients: SupervisedRuntime[] = [];

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  // Every supervisor ever started on this state dir: the one serving, and any that several clients
  // reconnecting at once started and that are still booting (they would take over once it is gone).
  const ours = () => {
    try {
      return execFileSync('pgrep', ['-f', '--', `--state-dir=${stateDir}`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  await waitUntil(() => {
    const pids = ours();
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    return pids.length === 0;
  });
  rmSync(dir, { recursive: true, force: true });
});

function supervisorPid(): number | undefined {
  try {
    return Number(readFileSync(path.join(stateDir, 'supervisor.pid'), 'utf8'));
  } catch {
    return undefined;
  }
}

async function waitUntil(cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function client(): Promise<SupervisedRuntime> {
  const c = await connectProcessRuntime({
    stateDir,
    logger: silentLogger(),
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    logs: { maxSizeBytes: 1024 * 1024, maxFiles: 2 },
  });
  clients.push(c);
  return c;
}

const sandbox = (uid: string): PodSandboxConfig => ({
  uid,
  name: `pod-${uid}`,
  namespace: 'default',
  attempt: 0,
  logDirectory: path.join(dir, 'logs', uid),
  hostname: '',
  hostNetwork: true,
  labels: {},
  annotations: {},
});

const container = (name: string, script: string): ContainerConfig => ({
  name,
  attempt: 0,
  image: '',
  command: ['sh', '-c', script],
  args: [],
  env: [],
  workingDir: '',
  logPath: `${name}/0.log`,
  labels: {},
  annotations: {},
});

test('a container keeps running and logging when its client goes, and the next client finds it', async () => {
  const first = await client();
  const sb = await first.runPodSandbox(sandbox('a'));
  const id = await first.createContainer(sb, container('main', 'i=0; while :; do echo line $i; i=$((i+1)); sleep 0.05; done'));
  await first.startContainer(id);
  const { pid } = (await first.containerStatus(id))!;
  await first.close();
  clients.splice(clients.indexOf(first), 1);

  const second = await client();
  const info = (await second.containerStatus(id))!;
  assert.equal(info.state, 'running');
  assert.equal(info.pid, pid);
  const lines = () => readFileSync(info.logPath, 'utf8').trim().split('\n');
  const before = lines().length;
  await waitUntil(() => lines().length > before + 3);
  // Lines are whole, framed and numbered in order: nothing lost while no client was connected.
  const numbers = lines().map((l) => Number(/ stdout F line (\d+)$/.exec(l)![1]));
  assert.deepEqual(numbers, numbers.map((_, i) => i));
  await second.stopContainer(id, 5);
  assert.equal((await second.containerStatus(id))!.state, 'exited');
});

test('exit codes are exact and reported as events', async () => {
  const rt = await client();
  const sb = await rt.runPodSandbox(sandbox('b'));
  const id = await rt.createContainer(sb, container('fail', 'exit 3'));
  const exited = new Promise<void>((resolve) => {
    const off = rt.onContainerEvent((e) => {
      if (e.containerId === id && e.type === 'exited') {
        off();
        resolve();
      }
    });
  });
  await rt.startContainer(id);
  await exited;
  const info = (await rt.containerStatus(id))!;
  assert.equal(info.exitCode, 3);
  assert.equal(info.reason, 'Error');
});

test('a supervisor killed with SIGKILL is replaced; its orphaned containers are stopped and reported unknown', async () => {
  const rt = await client();
  const sb = await rt.runPodSandbox(sandbox('c'));
  const id = await rt.createContainer(sb, container('orphan', 'exec sleep 3600'));
  await rt.startContainer(id);
  const { pid } = (await rt.containerStatus(id))!;
  const old = supervisorPid()!;
  process.kill(old, 'SIGKILL');
  await waitUntil(async () => supervisorPid() !== old && (await rt.containerStatus(id).catch(() => undefined))?.state === 'exited');
  const info = (await rt.containerStatus(id))!;
  assert.equal(info.exitCode, 137);
  assert.equal(info.reason, 'ContainerStatusUnknown');
  await waitUntil(async () => !(await processStartTime(pid!)));
  assert.deepEqual((await rt.listPodSandboxes()).map((s) => s.uid).sort(), ['a', 'b', 'c']);
  // One sandbox asked by id, without listing all of them; an unknown id is undefined, not an error.
  const [first] = await rt.listPodSandboxes();
  assert.equal((await rt.podSandboxStatus(first!.id))?.uid, first!.uid);
  assert.equal(await rt.podSandboxStatus('no-such-sandbox'), undefined);
});

test('a second supervisor on the same state directory steps aside', async () => {
  const rt = await client();
  const pid = supervisorPid()!;
  const main = path.join(path.dirname(new URL(import.meta.url).pathname), `main${path.extname(new URL(import.meta.url).pathname)}`);
  execFileSync(process.execPath, [...process.execArgv, main, `--state-dir=${stateDir}`]);
  assert.equal(supervisorPid(), pid);
  assert.equal((await rt.version()).runtimeName, 'nodelet-process');
});

test('a container whose checkpoint was damaged is still found through its owner tag and stopped', async () => {
  const rt = await client();
  const sb = await rt.runPodSandbox(sandbox('d'));
  const id = await rt.createContainer(sb, container('stray', 'exec sleep 3601'));
  await rt.startContainer(id);
  const { pid } = (await rt.containerStatus(id))!;
  writeFileSync(path.join(stateDir, 'containers', `${id}.json`), '{"version":1,"info":{"id":'); // cut short
  const old = supervisorPid()!;
  process.kill(old, 'SIGKILL');
  await waitUntil(async () => supervisorPid() !== old && (await rt.listContainers().catch(() => undefined)) !== undefined);
  await waitUntil(async () => !(await processStartTime(pid!)));
  assert.equal(await rt.containerStatus(id), undefined);
  assert.ok(existsSync(path.join(stateDir, 'containers', `${id}.json.corrupt`)));
  assert.ok(rt.hello!.recovery.some((r) => r.includes(`${id}.json`)), rt.hello!.recovery.join('\n'));
  assert.ok(rt.hello!.recovery.some((r) => r.includes(`process ${pid}`)), rt.hello!.recovery.join('\n'));
});

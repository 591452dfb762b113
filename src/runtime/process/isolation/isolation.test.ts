// The process runtime with real bubblewrap sandboxes: exit codes stay exact, stop reaches the command
// (SIGTERM, then SIGKILL at the deadline), the pid and UTS namespaces are the container's own, exec
// enters them. Skipped, with the kernel's reason, where bwrap cannot create a sandbox.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname as hostHostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../../util/clock.js';
import { silentLogger } from '../../../util/log.js';
import type { ContainerConfig, ContainerInfo, PodSandboxConfig } from '../../types.js';
import { createProcessRuntime } from '../process-runtime.js';
import { probeBwrap } from './tools.js';

const support = await probeBwrap(process.env.PATH);
const skip = support.available ? false : `bwrap cannot sandbox here: ${support.detail}`;

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-isolation-'));
const runtime = createProcessRuntime({ clock: realClock, logger: silentLogger(), baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
if (support.available) await runtime.setIsolation('bwrap');

after(async () => {
  await runtime.stopEverything(0);
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
async function sandbox(over: Partial<PodSandboxConfig> = {}): Promise<string> {
  const uid = `u${++seq}`;
  return runtime.runPodSandbox({
    uid,
    name: `pod-${uid}`,
    namespace: 'default',
    attempt: 0,
    logDirectory: path.join(dir, 'logs', uid),
    hostname: `pod-${uid}`,
    hostNetwork: false,
    labels: {},
    annotations: {},
    ...over,
  });
}

async function start(sandboxId: string, script: string, over: Partial<ContainerConfig> = {}): Promise<string> {
  const id = await runtime.createContainer(sandboxId, {
    name: 'main',
    attempt: 0,
    image: '',
    command: ['sh', '-c', script],
    args: [],
    env: [],
    workingDir: '',
    logPath: `main/${++seq}.log`,
    labels: {},
    annotations: {},
    ...over,
  });
  await runtime.startContainer(id);
  return id;
}

async function waitFor<T>(what: string, cond: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exited = (id: string) =>
  waitFor<ContainerInfo>('the container to exit', async () => {
    const c = await runtime.containerStatus(id);
    return c?.state === 'exited' ? c : undefined;
  });

/** Stdout lines of a container's log, once its writer has flushed `lines` of them. */
async function stdout(id: string, lines = 1): Promise<string[]> {
  const c = (await runtime.containerStatus(id))!;
  return waitFor(`${lines} lines of output`, () => {
    let text = '';
    try {
      text = readFileSync(c.logPath, 'utf8');
    } catch {
      return undefined;
    }
    const out = text
      .split('\n')
      .filter((l) => / stdout F /.test(l))
      .map((l) => l.slice(l.indexOf(' stdout F ') + 10));
    return out.length >= lines ? out : undefined;
  });
}

/** The host pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('a sandboxed container', { skip }, () => {
  it('exits with its exact status, and with 128+n when a signal kills it', async () => {
    const sb = await sandbox();
    assert.equal((await exited(await start(sb, 'exit 7'))).exitCode, 7);
    const killed = await exited(await start(sb, 'kill -KILL $$'));
    assert.equal(killed.exitCode, 137);
    assert.equal(killed.reason, 'Error');
    assert.equal((await exited(await start(sb, 'true'))).reason, 'Completed');
  });

  it('is the process group of the pid the runtime reports: killing that pid kills the container', async () => {
    const sb = await sandbox();
    const id = await start(sb, 'exec sleep 1000');
    const { pid } = (await runtime.containerStatus(id))!;
    // bwrap's init (pid 1 inside) leads the group; the command is its child, in that group.
    // The child is sh until it execs sleep: wait for the exec, not just the fork.
    const command = await waitFor('the command to exec sleep', () =>
      childrenOf(pid!).find((child) => {
        try {
          return readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith('sleep\0');
        } catch {
          return false;
        }
      }),
    );
    const stat = readFileSync(`/proc/${command}/stat`, 'utf8');
    assert.equal(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]), pid);
    process.kill(pid!, 'SIGKILL');
    assert.equal((await exited(id)).exitCode, 137);
  });

  it('gets SIGTERM on stop and exits with its own status; one that ignores it is killed at the deadline', async () => {
    const sb = await sandbox();
    const graceful = await start(sb, 'trap "echo bye; exit 3" TERM; echo up; while :; do sleep 0.05; done');
    await stdout(graceful);
    await runtime.stopContainer(graceful, 30);
    assert.equal((await runtime.containerStatus(graceful))!.exitCode, 3);

    const sleeper = await start(sb, 'echo up; exec sleep 1000');
    await stdout(sleeper);
    const t0 = Date.now();
    await runtime.stopContainer(sleeper, 30);
    // sleep is pid 2, not 1: SIGTERM's default action ends it at once, as on the host.
    assert.ok(Date.now() - t0 < 10_000, 'sleep did not die of SIGTERM');
    assert.equal((await runtime.containerStatus(sleeper))!.exitCode, 143);

    const stubborn = await start(sb, 'trap "" TERM; echo up; while :; do sleep 0.05; done');
    await stdout(stubborn);
    const t1 = Date.now();
    await runtime.stopContainer(stubborn, 1);
    assert.ok(Date.now() - t1 >= 900, 'killed before the grace period ended');
    assert.equal((await runtime.containerStatus(stubborn))!.exitCode, 137);
  });

  it('has a pid namespace of its own and the pod hostname; with hostNetwork, the host hostname', async () => {
    const sb = await sandbox();
    const id = await start(sb, 'echo $$; hostname; ls /proc | grep -c "^[0-9]"');
    const [pid, name, count] = await stdout(id, 3);
    assert.equal(pid, '2');
    assert.equal(name, (await runtime.listPodSandboxes()).find((s) => s.id === sb)!.name);
    assert.ok(Number(count) < 10, `${count} processes visible`);

    const host = await sandbox({ hostNetwork: true, hostname: '' });
    const [hostName] = await stdout(await start(host, 'hostname'));
    assert.equal(hostName, hostHostname());
  });

  it('leaves nothing behind: what the command started in the background dies with it', async () => {
    const mark = `${process.pid}${++seq}77`;
    const sb = await sandbox();
    await exited(await start(sb, `sleep ${mark} & exit 0`));
    await waitFor('the background sleep to be gone', () => {
      try {
        execFileSync('pgrep', ['-f', `^sleep ${mark}$`]);
        return false;
      } catch {
        return true;
      }
    });
  });

  it('runs exec (probes, hooks) inside: its pid namespace, working directory and user', async () => {
    const sb = await sandbox();
    const work = mkdtempSync(path.join(dir, 'work-'));
    const id = await start(sb, 'echo up; exec sleep 1000', {
      workingDir: '/work',
      mounts: [{ containerPath: '/work', hostPath: work, readonly: false, propagation: 'private' }],
      security: {
        runAsUser: 1000,
        runAsGroup: 1000,
        runAsNonRoot: false,
        supplementalGroups: [],
        readonlyRootfs: false,
        privileged: false,
        capabilities: { add: [], drop: [] },
        noNewPrivs: false,
        maskedPaths: [],
        readonlyPaths: [],
      },
    });
    await stdout(id);
    const r = await runtime.execSync(id, ['sh', '-c', 'pwd; id -u; ls /proc | grep -c "^[0-9]"'], 10);
    assert.equal(r.exitCode, 0, r.stderr);
    const [pwd, uid, count] = r.stdout.trim().split('\n');
    assert.equal(pwd, '/work');
    assert.equal(uid, '1000');
    assert.ok(Number(count) < 10, `${count} processes visible`);
    assert.equal((await runtime.execSync(id, ['sh', '-c', 'exit 4'], 10)).exitCode, 4);
  });

  it('that cannot be set up is a StartError with bwrap’s reason; a missing command is a start error', async () => {
    const sb = await sandbox();
    // /proc is the sandbox's own: bwrap cannot create a mount point in it.
    const id = await start(sb, 'true', { mounts: [{ containerPath: '/proc/nodelet-test', hostPath: dir, readonly: false, propagation: 'private' }] });
    const c = await exited(id);
    assert.equal(c.exitCode, 128);
    assert.equal(c.reason, 'StartError');
    assert.match(c.message, /sandbox could not be set up: bwrap: Can't mkdir \/proc\/nodelet-test/);

    await assert.rejects(start(sb, '', { command: ['no-such-command-here'] }), /exec: "no-such-command-here": executable file not found in \$PATH/);
  });
});

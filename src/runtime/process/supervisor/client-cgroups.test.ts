// The client's side of cgroups in protocol 1: resources go to a supervisor whose hello says it has
// cgroups; with one that predates them, or where cgroups are not usable, limits are not enforced and
// the log says so once per pod, without refusing the pod (the kubelet runs it too). The supervisor here
// is a stand-in speaking the wire, so old and new ones can be played.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../util/log.js';
import type { ContainerConfig, PodSandboxConfig } from '../../types.js';
import type { CgroupSupport } from '../runtime-cgroups.js';
import { connectProcessRuntime } from './client.js';
import { SUPERVISOR_SOCKET } from './paths.js';
import { encode, jsonLines, PROTOCOL_VERSION, type Request } from './protocol.js';

const root = mkdtempSync(path.join(tmpdir(), 'nodelet-client-cgroups-'));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

/** A supervisor stand-in: hello with `cgroups` (absent = one from before cgroups); records every request. */
async function standIn(cgroups: CgroupSupport | undefined): Promise<{ stateDir: string; requests: Request[] }> {
  const stateDir = mkdtempSync(path.join(root, 'state-'));
  const requests: Request[] = [];
  const server = createServer((socket) => {
    socket.on(
      'data',
      jsonLines(
        (msg) => {
          const req = msg as Request;
          requests.push(req);
          const hello = { protocol: PROTOCOL_VERSION, pid: 4242, startedAt: 0, recovery: [], isolation: { available: false, detail: 'none here' }, ...(cgroups ? { cgroups } : {}) };
          const result = req.method === 'hello' ? hello : req.method === 'createContainer' ? 'c1' : req.method === 'runPodSandbox' ? 's1' : null;
          socket.write(encode({ id: req.id, result }));
        },
        () => undefined,
      ),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path.join(stateDir, SUPERVISOR_SOCKET), resolve));
  return { stateDir, requests };
}

/** Connects with a logger whose JSON lines are kept. */
async function connect(stateDir: string, cgroupRoot = '') {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const rt = await connectProcessRuntime({
    stateDir,
    logger: createLogger({ format: 'json', verbosity: 0, destination }),
    baseEnv: { PATH: '/usr/bin:/bin' },
    logs: { maxSizeBytes: 1024, maxFiles: 2 },
    isolation: 'auto',
    cgroupRoot,
  });
  return { rt, lines };
}

const resources = { cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitBytes: 64 * 2 ** 20 };
const podResources = { cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitBytes: 64 * 2 ** 20 };

const sandbox: PodSandboxConfig = {
  uid: 'u1',
  name: 'web',
  namespace: 'default',
  attempt: 0,
  logDirectory: '/tmp/nowhere',
  hostname: 'web',
  hostNetwork: false,
  labels: {},
  annotations: {},
  linux: { namespaces: { network: 'node', pid: 'container', ipc: 'pod' }, supplementalGroups: [], privileged: false, sysctls: {}, resources: podResources },
};

const limited = (name: string): ContainerConfig => ({
  name,
  attempt: 0,
  image: '',
  command: ['sleep', '1'],
  args: [],
  env: [],
  workingDir: '',
  logPath: `${name}/0.log`,
  labels: { 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'default' },
  annotations: {},
  resources: { ...resources, oomScoreAdj: 900 },
});

const sent = (requests: Request[], method: string) => requests.filter((r) => r.method === method).map((r) => r.params.at(-1) as Record<string, unknown>);
const unenforced = (lines: { msg: string; [k: string]: unknown }[]) => lines.filter((l) => l.msg === 'CPU and memory limits of this pod are not enforced');

describe('cgroups over the supervisor protocol', () => {
  it('sends a supervisor with cgroups the pod’s and the containers’ resources, and logs where they go', async () => {
    const { stateDir, requests } = await standIn({ available: true, detail: 'cgroup v1 /nodelet-abc', version: 1, root: '/sys/fs/cgroup', parent: '/nodelet-abc', cgroupRoot: '' });
    const { rt, lines } = await connect(stateDir);
    await rt.runPodSandbox(sandbox);
    await rt.createContainer('s1', limited('a'));
    assert.deepEqual((sent(requests, 'runPodSandbox')[0]!.linux as { resources?: unknown }).resources, podResources);
    assert.deepEqual(sent(requests, 'createContainer')[0]!.resources, { ...resources, oomScoreAdj: 900 });
    assert.ok(lines.some((l) => l.msg === 'Resource limits: each pod and container in a cgroup of its own' && l.cgroups === 'cgroup v1 /nodelet-abc'));
    assert.deepEqual(unenforced(lines), []);
    await rt.close();
  });

  it('with a supervisor from before cgroups: nothing new is sent, the pod runs, and the log says once per pod that its limits are not enforced', async () => {
    const { stateDir, requests } = await standIn(undefined);
    const { rt, lines } = await connect(stateDir);
    assert.ok(lines.some((l) => /Resource limits are not enforced: the running runtime supervisor predates cgroups; it takes effect once it is restarted \(kill -TERM 4242/.test(l.msg)));
    await rt.runPodSandbox(sandbox);
    await rt.createContainer('s1', limited('a'));
    await rt.createContainer('s1', limited('b'));
    assert.equal('resources' in (sent(requests, 'runPodSandbox')[0]!.linux as object), false);
    assert.equal(sent(requests, 'createContainer').length, 2, 'the containers are created, not refused');
    for (const c of sent(requests, 'createContainer')) assert.equal('resources' in c, false);
    const warned = unenforced(lines);
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!.pod, 'default/web');
    assert.match(String(warned[0]!.reason), /predates cgroups/);
    // A container without hard limits (shares only) has nothing to warn about.
    const { rt: rt2, lines: lines2 } = await connect(stateDir);
    await rt2.createContainer('s1', { ...limited('c'), resources: { cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0, oomScoreAdj: 1000 } });
    assert.deepEqual(unenforced(lines2), []);
    await rt.close();
    await rt2.close();
  });

  it('where the supervisor has no usable cgroups: the kernel’s reason is logged, at start and for each pod with limits; the OOM score is sent all the same', async () => {
    const { stateDir, requests } = await standIn({ available: false, detail: 'cgroups are not usable here: EROFS: read-only file system', cgroupRoot: '' });
    const { rt, lines } = await connect(stateDir);
    assert.ok(lines.some((l) => l.msg === 'Resource limits are not enforced: cgroups are not usable here' && /EROFS/.test(String(l.reason))));
    await rt.createContainer('s1', limited('a'));
    // No limit is enforced, but the container gets its own OOM score rather than the supervisor's.
    assert.deepEqual(sent(requests, 'createContainer')[0]!.resources, { ...resources, oomScoreAdj: 900 });
    assert.match(String(unenforced(lines)[0]?.reason), /EROFS/);
    await rt.close();
  });

  it('warns when the running supervisor took another cgroupRoot than the one configured now', async () => {
    const { stateDir } = await standIn({ available: true, detail: 'cgroup v1 /nodelet-abc', version: 1, root: '/sys/fs/cgroup', parent: '/nodelet-abc', cgroupRoot: '' });
    const { rt, lines } = await connect(stateDir, '/pods');
    const warn = lines.find((l) => /runs with another cgroupRoot/.test(l.msg));
    assert.ok(warn);
    assert.equal(warn.running, '');
    assert.equal(warn.configured, '/pods');
    await rt.close();
  });
});

// The client's side of isolation in protocol 1: it asks a supervisor for isolation only when its
// hello says it can, and with a supervisor from before isolation it refuses what that supervisor would
// silently run unisolated. The supervisor here is a stand-in speaking the wire, so the old one can be played.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeletError } from '../../../errors.js';
import { silentLogger } from '../../../util/log.js';
import type { ContainerConfig } from '../../types.js';
import type { IsolationSetting, IsolationSupport } from '../isolation/tools.js';
import { connectProcessRuntime } from './client.js';
import { SUPERVISOR_SOCKET } from './paths.js';
import { encode, jsonLines, PROTOCOL_VERSION, type Request } from './protocol.js';

const root = mkdtempSync(path.join(tmpdir(), 'nodelet-client-isolation-'));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

/** A supervisor stand-in: answers hello with `isolation` (absent = an old supervisor) and records every request. */
async function standIn(isolation: IsolationSupport | undefined): Promise<{ stateDir: string; requests: Request[] }> {
  const stateDir = mkdtempSync(path.join(root, 'state-'));
  const requests: Request[] = [];
  const server = createServer((socket) => {
    socket.on(
      'data',
      jsonLines(
        (msg) => {
          const req = msg as Request;
          requests.push(req);
          const result =
            req.method === 'hello'
              ? { protocol: PROTOCOL_VERSION, pid: 4242, startedAt: 0, recovery: [], ...(isolation ? { isolation } : {}) }
              : req.method === 'createContainer'
                ? 'c1'
                : null;
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

const connect = (stateDir: string, isolation: IsolationSetting) =>
  connectProcessRuntime({ stateDir, logger: silentLogger(), baseEnv: { PATH: '/usr/bin:/bin' }, logs: { maxSizeBytes: 1024, maxFiles: 2 }, isolation });

const emptyDirContainer: ContainerConfig = {
  name: 'main',
  attempt: 0,
  image: '',
  command: ['sleep', '1'],
  args: [],
  env: [],
  workingDir: '',
  logPath: 'main/0.log',
  labels: {},
  annotations: {},
  mounts: [{ containerPath: '/data', hostPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/data', readonly: false, propagation: 'private' }],
};

describe('isolation over the supervisor protocol', () => {
  it('asks a supervisor that can sandbox for bwrap under auto, and sends it mounts', async () => {
    const { stateDir, requests } = await standIn({ available: true, detail: '/usr/bin/bwrap (bubblewrap 0.8.0)' });
    const rt = await connect(stateDir, 'auto');
    assert.equal(rt.isolation, 'bwrap');
    assert.equal((requests.find((r) => r.method === 'configure')!.params[0] as { isolation?: string }).isolation, 'bwrap');
    await rt.createContainer('s1', emptyDirContainer);
    assert.deepEqual((requests.find((r) => r.method === 'createContainer')!.params[1] as ContainerConfig).mounts, emptyDirContainer.mounts);
    await rt.close();
  });

  it('falls back to none under auto when bwrap is unusable, and refuses to start under bwrap', async () => {
    const { stateDir, requests } = await standIn({ available: false, detail: 'bwrap was not found in PATH (apt-get install bubblewrap)' });
    const rt = await connect(stateDir, 'auto');
    assert.equal(rt.isolation, 'none');
    assert.match(rt.isolationDetail, /apt-get install bubblewrap/);
    assert.equal((requests.find((r) => r.method === 'configure')!.params[0] as { isolation?: string }).isolation, 'none');
    await rt.close();
    await assert.rejects(connect(stateDir, 'bwrap'), (err: unknown) => err instanceof NodeletError && err.code === 'IsolationUnavailable' && /apt-get install bubblewrap/.test(err.message));
  });

  it('with a supervisor from before isolation: nothing new is sent, and what it would run unisolated is refused here', async () => {
    const { stateDir, requests } = await standIn(undefined);
    await assert.rejects(connect(stateDir, 'bwrap'), /predates process isolation/);
    const rt = await connect(stateDir, 'auto');
    assert.equal(rt.isolation, 'none');
    assert.equal('isolation' in (requests.findLast((r) => r.method === 'configure')!.params[0] as object), false);
    await assert.rejects(
      rt.createContainer('s1', emptyDirContainer),
      (err: unknown) => err instanceof NodeletError && err.code === 'CreateContainerConfigError' && /a volume mounted at \/data .*predates process isolation/.test(err.message),
    );
    assert.equal(requests.filter((r) => r.method === 'createContainer').length, 0);
    // A container it can run as the spec says goes through, stripped as before.
    await rt.createContainer('s1', { ...emptyDirContainer, mounts: [] });
    assert.equal((requests.find((r) => r.method === 'createContainer')!.params[1] as ContainerConfig).mounts, undefined);
    await rt.close();
  });
});

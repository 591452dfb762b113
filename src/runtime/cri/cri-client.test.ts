import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Server, ServerCredentials, status, type ServerUnaryCall, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import type { Container, ListContainersRequest, ListContainersResponse, RunPodSandboxRequest, VersionResponse } from './api-types.js';
import { CriError, createCriClient, isNotFound, isUnavailable, loadCriServices, parseCriEndpoint, type CriClient } from './cri-client.js';

/** What the fake runtime saw, for assertions on the request side. */
interface Seen {
  listContainers?: ListContainersRequest;
  runPodSandbox?: RunPodSandboxRequest;
}

// created_at is beyond 2^53: it only survives the round trip as a string.
const container: Container = {
  id: 'c1', pod_sandbox_id: 'sb1', metadata: { name: 'main', attempt: 2 }, image: { image: 'docker.io/library/busybox:1.36', annotations: {} },
  image_ref: 'sha256:abc', state: 'CONTAINER_EXITED', created_at: '1700000000123456789',
  labels: { 'io.kubernetes.pod.name': 'web', tier: 'front' }, annotations: { 'io.kubernetes.container.hash': '1234' },
};

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => void;

/** Starts a fake CRI runtime on a unix socket in a fresh temp dir; it and the client end with the test. */
async function fakeRuntime(t: TestContext, timeoutMs?: number): Promise<{ client: CriClient; seen: Seen; socket: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-cri-'));
  const socket = path.join(dir, 'cri.sock');
  const seen: Seen = {};
  const version: Unary<unknown, VersionResponse> = (_call, cb) => cb(null, { version: '0.1.0', runtime_name: 'fake', runtime_version: '1.6.20', runtime_api_version: 'v1' });
  const listContainers: Unary<ListContainersRequest, ListContainersResponse> = (call, cb) => {
    seen.listContainers = call.request;
    cb(null, { containers: [container] });
  };
  const runPodSandbox: Unary<RunPodSandboxRequest, never> = (call, cb) => {
    seen.runPodSandbox = call.request;
    cb({ code: status.UNKNOWN, details: 'failed to setup network for sandbox: plugin type="bridge" failed' });
  };
  const runtimeImpl: UntypedServiceImplementation = {
    Version: version,
    ListContainers: listContainers,
    RunPodSandbox: runPodSandbox,
    ContainerStatus: ((_call, cb) => cb({ code: status.NOT_FOUND, details: 'an error occurred when try to find container "x": not found' })) satisfies Unary<unknown, never>,
    PodSandboxStatus: ((_call, cb) => cb({ code: status.UNKNOWN, details: 'failed to get sandbox "y": not found' })) satisfies Unary<unknown, never>,
    // Only an id: the client must fill in the rest from proto defaults.
    ListPodSandbox: ((_call, cb) => cb(null, { items: [{ id: 'sb1' }] })) satisfies Unary<unknown, unknown>,
    StopPodSandbox: ((_call, cb) => cb({ code: status.UNKNOWN, details: 'failed to stop sandbox: device busy' })) satisfies Unary<unknown, never>,
    // Never answers: for deadlines and cancellation.
    Status: (() => undefined) satisfies Unary<unknown, never>,
  };
  const server = new Server();
  const { runtime, image } = loadCriServices();
  server.addService(runtime, runtimeImpl);
  server.addService(image, {});
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  const client = createCriClient(`unix://${socket}`, timeoutMs === undefined ? {} : { timeoutMs });
  t.after(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  return { client, seen, socket };
}

test('Version and ListContainers round-trip snake_case fields, enum names, int64 strings and maps', async (t) => {
  const { client, seen } = await fakeRuntime(t);
  assert.deepEqual(await client.version({ version: '0.1.0' }), { version: '0.1.0', runtime_name: 'fake', runtime_version: '1.6.20', runtime_api_version: 'v1' });

  const res = await client.listContainers({ filter: { pod_sandbox_id: 'sb1', state: { state: 'CONTAINER_RUNNING' }, label_selector: { tier: 'front' } } });
  assert.deepEqual(res.containers, [container]);
  const got = res.containers[0]!;
  assert.equal(typeof got.created_at, 'string');
  assert.equal(got.state, 'CONTAINER_EXITED');
  // The server decodes with the same options, so the request arrives as sent, defaults filled in.
  assert.deepEqual(seen.listContainers, { filter: { id: '', pod_sandbox_id: 'sb1', state: { state: 'CONTAINER_RUNNING' }, label_selector: { tier: 'front' } } });
});

test('defaults fill what the runtime left out: scalars zero, maps empty, messages null', async (t) => {
  const { client } = await fakeRuntime(t);
  assert.deepEqual(await client.listPodSandbox(), {
    items: [{ id: 'sb1', metadata: null, state: 'SANDBOX_READY', created_at: '0', labels: {}, annotations: {}, runtime_handler: '' }],
  });
});

test('a failed RPC rejects with the RPC name, the gRPC code and details, and the cause', async (t) => {
  const { client, seen } = await fakeRuntime(t);
  const req: RunPodSandboxRequest = {
    config: { metadata: { name: 'web', uid: 'u1', namespace: 'default', attempt: 1 }, labels: { app: 'web' }, linux: { security_context: { run_as_user: { value: 1000 }, supplemental_groups: [5, '6'] } } },
  };
  const err = await client.runPodSandbox(req).then(() => assert.fail('resolved'), (e: unknown) => e);
  assert.ok(err instanceof CriError);
  assert.equal(err.message, 'CRI RunPodSandbox: 2 UNKNOWN: failed to setup network for sandbox: plugin type="bridge" failed');
  assert.equal(err.code, status.UNKNOWN);
  assert.equal(err.rpc, 'RunPodSandbox');
  assert.equal(err.details, 'failed to setup network for sandbox: plugin type="bridge" failed');
  assert.equal((err.cause as { code?: number }).code, status.UNKNOWN);
  assert.equal(isNotFound(err), false);
  assert.equal(isUnavailable(err), false);
  // int64 sent as numbers or strings arrives as strings.
  const sc = seen.runPodSandbox?.config?.linux?.security_context;
  assert.deepEqual(sc?.run_as_user, { value: '1000' });
  assert.deepEqual(sc?.supplemental_groups, ['5', '6']);
});

test('isNotFound: NOT_FOUND, and UNKNOWN whose details say "not found"', async (t) => {
  const { client } = await fakeRuntime(t);
  const notFound = await client.containerStatus({ container_id: 'x' }).catch((e: unknown) => e);
  assert.ok(notFound instanceof CriError);
  assert.equal(notFound.code, status.NOT_FOUND);
  assert.equal(isNotFound(notFound), true);
  const unknownNotFound = await client.podSandboxStatus({ pod_sandbox_id: 'y' }).catch((e: unknown) => e);
  assert.equal((unknownNotFound as CriError).code, status.UNKNOWN);
  assert.equal(isNotFound(unknownNotFound), true);
  assert.equal(isNotFound(await client.stopPodSandbox({ pod_sandbox_id: 'z' }).catch((e: unknown) => e)), false);
  assert.equal(isNotFound(new Error('not found')), false, 'no gRPC code, no verdict');
});

test('an RPC the runtime does not implement rejects with UNIMPLEMENTED', async (t) => {
  const { client } = await fakeRuntime(t);
  const err = await client.imageFsInfo().catch((e: unknown) => e);
  assert.ok(err instanceof CriError);
  assert.equal(err.code, status.UNIMPLEMENTED);
  assert.match(err.message, /^CRI ImageFsInfo: 12 UNIMPLEMENTED/);
});

test('calls carry a deadline, and an abort signal cancels them', async (t) => {
  const { client } = await fakeRuntime(t, 200);
  const late = await client.status().catch((e: unknown) => e);
  assert.equal((late as CriError).code, status.DEADLINE_EXCEEDED);
  assert.match((late as Error).message, /^CRI Status: 4 DEADLINE_EXCEEDED/);

  const ac = new AbortController();
  const pending = client.status({}, { timeoutMs: 0, signal: ac.signal }).catch((e: unknown) => e);
  setTimeout(() => ac.abort(), 50);
  assert.equal(((await pending) as CriError).code, status.CANCELLED);
  assert.equal(((await client.version({}, { signal: AbortSignal.abort() }).catch((e: unknown) => e)) as CriError).code, status.CANCELLED);
});

test('isUnavailable: a socket nobody listens on', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-cri-'));
  const client = createCriClient(path.join(dir, 'missing.sock'), { timeoutMs: 5000 });
  t.after(() => {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const err = await client.version().catch((e: unknown) => e);
  assert.ok(err instanceof CriError);
  assert.equal(err.code, status.UNAVAILABLE);
  assert.equal(isUnavailable(err), true);
  assert.equal(isNotFound(err), false);
  assert.equal(isUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true);
});

test('a closed client rejects instead of throwing', async (t) => {
  const { client } = await fakeRuntime(t);
  client.close();
  await assert.rejects(client.version(), (e: unknown) => e instanceof CriError && e.message.startsWith('CRI Version: '));
});

test('endpoints: unix:///path, unix:/path and bare absolute paths; tcp and relative paths are refused', () => {
  assert.deepEqual(parseCriEndpoint('unix:///run/containerd/containerd.sock'), { socketPath: '/run/containerd/containerd.sock', target: 'unix:///run/containerd/containerd.sock' });
  assert.deepEqual(parseCriEndpoint('unix:/x'), { socketPath: '/x', target: 'unix:///x' });
  assert.deepEqual(parseCriEndpoint('/x'), { socketPath: '/x', target: 'unix:///x' });
  assert.throws(() => parseCriEndpoint('tcp://127.0.0.1:1234'), /CRI endpoint "tcp:\/\/127\.0\.0\.1:1234": only unix sockets are supported/);
  assert.throws(() => parseCriEndpoint('npipe:////./pipe/containerd'), /only unix sockets/);
  assert.throws(() => parseCriEndpoint('unix://run/containerd.sock'), /absolute socket path/);
  assert.throws(() => parseCriEndpoint('containerd.sock'), /absolute socket path/);
  assert.throws(() => createCriClient('tcp://localhost:1'), /only unix sockets/);
});

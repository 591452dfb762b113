/**
 * The kube-apiserver test double (test/apiserver-double) against the API's semantics: each test
 * starts its own double on a free port and closes it afterwards. Calls go through plain HTTP(S),
 * the real kubectl and @kubernetes/client-node, the clients nodelet and its users will use.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { type ApiServerDouble, type ApiServerDoubleOptions, startApiServerDouble } from '../apiserver-double/server.js';

const KUBECTL = process.env.KUBECTL ?? 'kubectl';

type TestContext = { after: (fn: () => Promise<void> | void) => void };

async function double(t: TestContext, opts: ApiServerDoubleOptions = {}): Promise<ApiServerDouble> {
  const s = await startApiServerDouble(opts);
  t.after(() => s.close());
  return s;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'apiserver-double-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Reply {
  code: number;
  body: any;
}

/** One request; the body is JSON-encoded unless a string. Never rejects on an HTTP error code. */
function call(s: ApiServerDouble, method: string, p: string, body?: unknown, opts: { contentType?: string; token?: string | null; accept?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(p, s.url);
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
    const token = opts.token === undefined ? tokenOf.get(s) : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (data !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      // Node frames a DELETE body only with an explicit length.
      headers['content-length'] = String(Buffer.byteLength(data));
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method, headers, ...(s.caCert ? { ca: s.caCert } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Plain text (healthz).
        }
        resolve({ code: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
const tokenOf = new WeakMap<ApiServerDouble, string>();

interface WatchEvent {
  type: string;
  object: any;
}

interface Watch {
  code: number;
  events: WatchEvent[];
  /** Resolves when the server ends the stream (or the connection drops). */
  ended: Promise<void>;
  close(): void;
  /** Waits until `pred` holds for the events received so far. */
  until(what: string, pred: (events: WatchEvent[]) => boolean): Promise<void>;
}

/** Opens a watch; resolves once the server has answered with its headers (it is subscribed by then). */
function openWatch(t: TestContext, s: ApiServerDouble, p: string): Promise<Watch> {
  return new Promise((resolve, reject) => {
    const url = new URL(p, s.url);
    const mod = url.protocol === 'https:' ? https : http;
    const token = tokenOf.get(s);
    const req = mod.request(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, ...(s.caCert ? { ca: s.caCert } : {}) }, (res) => {
      const events: WatchEvent[] = [];
      let buf = '';
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
        }
      });
      res.on('end', endedResolve);
      res.on('close', endedResolve);
      res.on('error', endedResolve);
      const w: Watch = {
        code: res.statusCode ?? 0,
        events,
        ended,
        close: () => req.destroy(),
        until: (what, pred) => waitFor(what, () => pred(events)),
      };
      t.after(() => w.close());
      resolve(w);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `cond` until it holds; fails after `ms` with what was awaited. */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function kubectl(kubeconfig: string, home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const pod = (name: string, nodeName?: string, extra: Record<string, any> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox:1.36' }, { name: 'd', image: 'busybox:1.36' }] },
  ...extra,
});

const PODS = '/api/v1/namespaces/default/pods';
/** No test may hang the suite: a stream that never ends fails its test. */
const T = { timeout: 60_000 };

test('create, get, 404 NotFound, 409 AlreadyExists, 422 Invalid and 400 for bad JSON, as Status objects', T, async (t) => {
  const s = await double(t);
  const created = await call(s, 'POST', PODS, pod('web', 'node1', { status: { phase: 'Running' } }));
  assert.equal(created.code, 201);
  const m = created.body.metadata;
  assert.match(m.uid, /^[0-9a-f-]{36}$/);
  assert.match(m.resourceVersion, /^\d+$/);
  assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(m.generation, 1);
  // podStrategy.PrepareForCreate resets the status; defaults are filled.
  assert.deepEqual(created.body.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.equal(created.body.spec.terminationGracePeriodSeconds, 30);
  assert.equal(created.body.spec.containers[0].imagePullPolicy, 'IfNotPresent');

  const got = await call(s, 'GET', `${PODS}/web`);
  assert.equal(got.code, 200);
  assert.deepEqual(got.body, created.body);

  const missing = await call(s, 'GET', `${PODS}/nope`);
  assert.equal(missing.code, 404);
  assert.deepEqual(missing.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "nope" not found',
    reason: 'NotFound',
    details: { name: 'nope', kind: 'pods' },
    code: 404,
  });
  const lease404 = await call(s, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1');
  assert.equal(lease404.body.message, 'leases.coordination.k8s.io "node1" not found');
  assert.deepEqual(lease404.body.details, { name: 'node1', group: 'coordination.k8s.io', kind: 'leases' });

  const again = await call(s, 'POST', PODS, pod('web'));
  assert.equal(again.code, 409);
  assert.equal(again.body.reason, 'AlreadyExists');
  assert.equal(again.body.message, 'pods "web" already exists');

  const noName = await call(s, 'POST', PODS, { metadata: {}, spec: { containers: [{ name: 'c', image: 'i' }] } });
  assert.equal(noName.code, 422);
  assert.equal(noName.body.reason, 'Invalid');
  assert.equal(noName.body.message, 'Pod "" is invalid: metadata.name: Required value: name or generateName is required');
  assert.deepEqual(noName.body.details.causes, [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);

  const generated = await call(s, 'POST', PODS, { metadata: { generateName: 'gen-' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
  assert.equal(generated.code, 201);
  assert.match(generated.body.metadata.name, /^gen-[a-z0-9]{5}$/);

  const bad = await call(s, 'POST', PODS, '{"metadata":');
  assert.equal(bad.code, 400);
  assert.equal(bad.body.reason, 'BadRequest');

  const noNamespace = await call(s, 'POST', '/api/v1/namespaces/nowhere/pods', pod('x'));
  assert.equal(noNamespace.code, 400, 'the body says namespace default');
  const missingNamespace = await call(s, 'POST', '/api/v1/namespaces/nowhere/pods', { ...pod('x'), metadata: { name: 'x' } });
  assert.equal(missingNamespace.code, 404);
  assert.equal(missingNamespace.body.message, 'namespaces "nowhere" not found');

  // Nodes are cluster-scoped, keep the status they are created with and get no generation.
  const node = await call(s, 'POST', '/api/v1/nodes', { metadata: { name: 'node1' }, status: { capacity: { cpu: '4' } } });
  assert.equal(node.code, 201);
  assert.equal(node.body.metadata.namespace, undefined);
  assert.equal(node.body.metadata.generation, undefined);
  assert.deepEqual(node.body.status, { capacity: { cpu: '4' } });
  assert.equal((await call(s, 'GET', '/api/v1/namespaces/default/nodes/node1')).code, 404);
});

test('update with a stale resourceVersion is 409 Conflict; leases need one; a no-op update keeps the resourceVersion', T, async (t) => {
  const s = await double(t);
  const created = (await call(s, 'POST', PODS, pod('web', 'node1'))).body;
  const first = { ...created, metadata: { ...created.metadata, labels: { app: 'web', v: '1' } } };
  const ok = await call(s, 'PUT', `${PODS}/web`, first);
  assert.equal(ok.code, 200);
  assert.ok(Number(ok.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));

  const stale = await call(s, 'PUT', `${PODS}/web`, { ...created, metadata: { ...created.metadata, labels: { v: '2' } } });
  assert.equal(stale.code, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.equal(stale.body.message, 'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again');

  // Unconditional (no resourceVersion) updates are allowed for pods …
  const { resourceVersion: _rv, ...metaNoRV } = ok.body.metadata;
  const unconditional = await call(s, 'PUT', `${PODS}/web`, { ...ok.body, metadata: { ...metaNoRV, labels: { v: '3' } } });
  assert.equal(unconditional.code, 200);
  assert.deepEqual(unconditional.body.metadata.labels, { v: '3' });
  // … and a write that changes nothing is no write at all.
  const noop = await call(s, 'PUT', `${PODS}/web`, unconditional.body);
  assert.equal(noop.body.metadata.resourceVersion, unconditional.body.metadata.resourceVersion);

  // A changed pod spec outside the mutable fields is 422; a changed image is fine.
  const spec = structuredClone(unconditional.body);
  spec.spec.containers[0].image = 'busybox:1.37';
  assert.equal((await call(s, 'PUT', `${PODS}/web`, spec)).code, 200);
  const forbidden = structuredClone((await call(s, 'GET', `${PODS}/web`)).body);
  forbidden.spec.containers[0].command = ['sh'];
  const refused = await call(s, 'PUT', `${PODS}/web`, forbidden);
  assert.equal(refused.code, 422);
  assert.match(refused.body.message, /^Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than/);

  // A PUT whose UID is another's fails its UID precondition.
  const other = structuredClone((await call(s, 'GET', `${PODS}/web`)).body);
  other.metadata.uid = '00000000-0000-0000-0000-000000000000';
  const uidConflict = await call(s, 'PUT', `${PODS}/web`, other);
  assert.equal(uidConflict.code, 409);
  assert.match(uidConflict.body.message, /Precondition failed: UID in precondition: 0{8}-0{4}-0{4}-0{4}-0{12}, UID in object meta: /);

  // Leases: PUT creates (AllowCreateOnUpdate) but an update must name a resourceVersion.
  const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1';
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node1', leaseDurationSeconds: 40 } };
  const createdLease = await call(s, 'PUT', leasePath, lease);
  assert.equal(createdLease.code, 201);
  const noRV = await call(s, 'PUT', leasePath, { ...lease, spec: { ...lease.spec, renewTime: '2026-01-01T00:00:00.000000Z' } });
  assert.equal(noRV.code, 422);
  assert.equal(noRV.body.message, 'leases.coordination.k8s.io "node1" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update');
  const renewed = await call(s, 'PUT', leasePath, { ...createdLease.body, spec: { ...lease.spec, renewTime: '2026-01-01T00:00:10.000000Z' } });
  assert.equal(renewed.code, 200);
  assert.equal(renewed.body.spec.renewTime, '2026-01-01T00:00:10.000000Z');
  assert.equal((await call(s, 'PUT', '/api/v1/nodes/ghost', { metadata: { name: 'ghost' } })).code, 404, 'nodes are not created by PUT');
});

test('the status subresource changes only status; the main resource ignores status', T, async (t) => {
  const s = await double(t);
  const created = (await call(s, 'POST', PODS, pod('web', 'node1'))).body;
  const body = structuredClone(created);
  body.status = { phase: 'Running', podIP: '10.0.0.5' };
  body.spec.activeDeadlineSeconds = 100;
  body.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'node1', uid: 'u1' }];
  body.metadata.labels = { app: 'web', seen: 'status' };
  const viaStatus = await call(s, 'PUT', `${PODS}/web/status`, body);
  assert.equal(viaStatus.code, 200);
  assert.equal(viaStatus.body.status.phase, 'Running');
  assert.equal(viaStatus.body.status.podIP, '10.0.0.5');
  assert.equal(viaStatus.body.status.qosClass, 'BestEffort', 'backfilled from the stored pod');
  assert.equal(viaStatus.body.spec.activeDeadlineSeconds, undefined, 'spec is kept');
  assert.equal(viaStatus.body.metadata.ownerReferences, undefined, 'ownerReferences are kept');
  // podStatusStrategy resets only spec and ownerReferences: labels do change through /status.
  assert.equal(viaStatus.body.metadata.labels.seen, 'status');

  const main = structuredClone(viaStatus.body);
  main.status = { phase: 'Failed' };
  main.spec.activeDeadlineSeconds = 100;
  const viaMain = await call(s, 'PUT', `${PODS}/web`, main);
  assert.equal(viaMain.code, 200);
  assert.equal(viaMain.body.status.phase, 'Running', 'status is kept by the main resource');
  assert.equal(viaMain.body.spec.activeDeadlineSeconds, 100);
  assert.equal(viaMain.body.metadata.generation, 2, 'a spec change bumps the generation');

  const patched = await call(s, 'PATCH', `${PODS}/web`, { status: { phase: 'Succeeded' }, metadata: { labels: { p: '1' } } }, { contentType: 'application/merge-patch+json' });
  assert.equal(patched.body.status.phase, 'Running');
  assert.equal(patched.body.metadata.labels.p, '1');

  // Nodes: /status keeps the spec.
  await call(s, 'POST', '/api/v1/nodes', { metadata: { name: 'node1' } });
  const n = await call(s, 'PATCH', '/api/v1/nodes/node1/status', { spec: { unschedulable: true }, status: { phase: 'x' } }, { contentType: 'application/merge-patch+json' });
  assert.equal(n.code, 200);
  assert.equal(n.body.spec?.unschedulable, undefined);
  assert.equal(n.body.status.phase, 'x');
  assert.equal((await call(s, 'GET', '/api/v1/namespaces/default/leases/x/status')).code, 404);
});

test('patches of pod status: merge patch, strategic merge patch (conditions by type, containerStatuses atomic) and JSON patch', T, async (t) => {
  const s = await double(t);
  await call(s, 'POST', PODS, pod('web', 'node1'));
  const status = (body: unknown, contentType: string) => call(s, 'PATCH', `${PODS}/web/status`, body, { contentType });
  const cs = (name: string, ready: boolean) => ({ name, ready, restartCount: 0, image: 'busybox:1.36', imageID: '', state: ready ? { running: { startedAt: '2026-01-01T00:00:00Z' } } : { waiting: { reason: 'ContainerCreating' } } });

  // Merge patch: lists replace.
  const merged = await status(
    {
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
        containerStatuses: [cs('c', true), cs('d', false)],
      },
    },
    'application/merge-patch+json',
  );
  assert.equal(merged.code, 200);
  assert.deepEqual(
    merged.body.status.containerStatuses.map((c: any) => [c.name, c.ready]),
    [
      ['c', true],
      ['d', false],
    ],
  );

  // Strategic merge patch as the kubelet's status manager sends it: conditions merge by type with
  // $setElementOrder; containerStatuses have no merge key in the API types and are replaced whole.
  const smp = await status(
    {
      metadata: { uid: merged.body.metadata.uid },
      status: {
        '$setElementOrder/conditions': [{ type: 'PodScheduled' }, { type: 'Ready' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [cs('d', true)],
      },
    },
    'application/strategic-merge-patch+json',
  );
  assert.equal(smp.code, 200);
  assert.deepEqual(
    smp.body.status.conditions.map((c: any) => [c.type, c.status]),
    [
      ['PodScheduled', 'True'],
      ['Ready', 'True'],
    ],
  );
  assert.deepEqual(
    smp.body.status.containerStatuses.map((c: any) => [c.name, c.ready]),
    [['d', true]],
    'containerStatuses is atomic: the patch replaces the list',
  );
  assert.equal(smp.body.status.phase, 'Running', 'fields not in the patch stay');

  // Strategic merge patch: $patch: delete removes a condition by its key; null removes a field.
  const del = await status({ status: { conditions: [{ type: 'PodScheduled', $patch: 'delete' }], phase: null } }, 'application/strategic-merge-patch+json');
  assert.deepEqual(
    del.body.status.conditions.map((c: any) => c.type),
    ['Ready'],
  );
  assert.equal(del.body.status.phase, undefined);

  // A patch carrying another UID fails (the uid is immutable), so it cannot touch a re-created pod.
  const wrongUID = await status({ metadata: { uid: 'other' }, status: { phase: 'Failed' } }, 'application/strategic-merge-patch+json');
  assert.equal(wrongUID.code, 422);
  assert.match(wrongUID.body.message, /metadata\.uid: Invalid value: "other": field is immutable/);

  // JSON patch, with a failing test operation answered 422.
  const jp = await status(
    [
      { op: 'test', path: '/status/containerStatuses/0/name', value: 'd' },
      { op: 'add', path: '/status/containerStatuses/-', value: cs('c', false) },
      { op: 'add', path: '/status/phase', value: 'Running' },
    ],
    'application/json-patch+json',
  );
  assert.equal(jp.code, 200);
  assert.deepEqual(
    jp.body.status.containerStatuses.map((c: any) => c.name),
    ['d', 'c'],
  );
  const failedTest = await status([{ op: 'test', path: '/status/phase', value: 'Pending' }], 'application/json-patch+json');
  assert.equal(failedTest.code, 422);
  // A patch naming a stale resourceVersion conflicts; unknown patch types are 415.
  const staleRV = await status({ metadata: { resourceVersion: '1' }, status: { phase: 'Failed' } }, 'application/merge-patch+json');
  assert.equal(staleRV.code, 409);
  assert.equal((await status({}, 'application/apply-patch+yaml')).code, 415);
  assert.equal((await call(s, 'PATCH', `${PODS}/nope/status`, {}, { contentType: 'application/merge-patch+json' })).code, 404);

  // Node status: addresses and conditions merge by type.
  await call(s, 'POST', '/api/v1/nodes', {
    metadata: { name: 'node1' },
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'Hostname', address: 'node1' },
      ],
      conditions: [{ type: 'Ready', status: 'False' }],
    },
  });
  const node = await call(
    s,
    'PATCH',
    '/api/v1/nodes/node1/status',
    { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }], conditions: [{ type: 'MemoryPressure', status: 'False' }] } },
    { contentType: 'application/strategic-merge-patch+json' },
  );
  assert.deepEqual(node.body.status.addresses, [
    { type: 'InternalIP', address: '10.0.0.2' },
    { type: 'Hostname', address: 'node1' },
  ]);
  assert.deepEqual(
    node.body.status.conditions.map((c: any) => c.type),
    ['Ready', 'MemoryPressure'],
  );
});

test('list with fieldSelector spec.nodeName (and labels); items carry no kind; bad selectors are 400', T, async (t) => {
  const s = await double(t);
  for (const [name, nodeName] of [
    ['a', 'node1'],
    ['b', 'node2'],
    ['c', 'node1'],
    ['d', undefined],
  ] as const) {
    await call(s, 'POST', PODS, pod(name, nodeName));
  }
  s.put('pods', { ...pod('e', 'node1'), metadata: { name: 'e', namespace: 'other' } });
  const list = await call(s, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode1');
  assert.equal(list.code, 200);
  assert.equal(list.body.kind, 'PodList');
  assert.equal(list.body.apiVersion, 'v1');
  assert.equal(list.body.metadata.resourceVersion, s.resourceVersion);
  assert.deepEqual(
    list.body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`),
    ['default/a', 'default/c', 'other/e'],
  );
  assert.equal(list.body.items[0].kind, undefined);
  assert.equal(list.body.items[0].apiVersion, undefined);
  const ns = await call(s, 'GET', `${PODS}?fieldSelector=spec.nodeName=node1,metadata.name!=a`);
  assert.deepEqual(
    ns.body.items.map((p: any) => p.metadata.name),
    ['c'],
  );
  const unbound = await call(s, 'GET', `${PODS}?fieldSelector=spec.nodeName%3D`);
  assert.deepEqual(
    unbound.body.items.map((p: any) => p.metadata.name),
    ['d'],
  );
  const labels = await call(s, 'GET', `${PODS}?labelSelector=${encodeURIComponent('app in (a,b),app!=b')}`);
  assert.deepEqual(
    labels.body.items.map((p: any) => p.metadata.name),
    ['a'],
  );
  const exists = await call(s, 'GET', `${PODS}?labelSelector=${encodeURIComponent('!app')}`);
  assert.deepEqual(exists.body.items, []);
  const badField = await call(s, 'GET', '/api/v1/pods?fieldSelector=spec.hostname%3Dx');
  assert.equal(badField.code, 400);
  assert.equal(badField.body.message, 'field label not supported: spec.hostname');
  const nodes = await call(s, 'GET', '/api/v1/nodes?fieldSelector=spec.nodeName%3Dx');
  assert.equal(nodes.code, 400, 'nodes are not selectable by spec.nodeName');
});

test('a watch from a resourceVersion gets the later events in order; objects leaving the selector are DELETED', T, async (t) => {
  const s = await double(t);
  const a = (await call(s, 'POST', PODS, pod('a', 'node1'))).body;
  const from = a.metadata.resourceVersion;
  await call(s, 'POST', PODS, pod('b', 'node2'));
  await call(s, 'PATCH', `${PODS}/a`, { metadata: { labels: { step: '1' } } }, { contentType: 'application/merge-patch+json' });
  const w = await openWatch(t, s, `/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode1&resourceVersion=${from}&allowWatchBookmarks=true`);
  assert.equal(w.code, 200);
  await w.until('the MODIFIED of a from history', (ev) => ev.length >= 1);
  await call(s, 'POST', PODS, pod('c', 'node1'));
  await call(s, 'DELETE', `${PODS}/c`, { gracePeriodSeconds: 0 });
  // A pod whose status leaves the selection: fieldSelector on status.phase.
  const w2 = await openWatch(t, s, `${PODS}?watch=1&fieldSelector=status.phase%3DPending`);
  await w2.until('the initial ADDED events', (ev) => ev.length === 2);
  await call(s, 'PATCH', `${PODS}/b/status`, { status: { phase: 'Running' } }, { contentType: 'application/merge-patch+json' });

  await w.until('c deleted', (ev) => ev.some((e) => e.type === 'DELETED'));
  assert.deepEqual(
    w.events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['MODIFIED a', 'ADDED c', 'MODIFIED c', 'DELETED c'],
  );
  const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
  assert.deepEqual(
    rvs,
    [...rvs].sort((x, y) => x - y),
    'resourceVersions increase',
  );
  assert.ok(rvs[0]! > Number(from));
  assert.equal(w.events[0]!.object.kind, 'Pod', 'watch objects carry kind');
  assert.ok(w.events[2]!.object.metadata.deletionTimestamp, 'the grace-0 delete marks the pod before removing it');

  await w2.until('b leaving the selection', (ev) => ev.length === 3);
  assert.deepEqual(
    w2.events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED a', 'ADDED b', 'DELETED b'],
  );
  assert.equal(w2.events[2]!.object.status.phase, 'Pending', 'DELETED carries the last matching state');
  assert.ok(Number(w2.events[2]!.object.metadata.resourceVersion) > Number(w2.events[1]!.object.metadata.resourceVersion));
});

test('bookmarks, timeoutSeconds and sendInitialEvents', T, async (t) => {
  const s = await double(t, { bookmarkIntervalMs: 50 });
  await call(s, 'POST', PODS, pod('a', 'node1'));
  const w = await openWatch(t, s, `/api/v1/pods?watch=true&resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=1`);
  await w.until('a bookmark', (ev) => ev.some((e) => e.type === 'BOOKMARK'));
  const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
  assert.deepEqual(bm.object, { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: s.resourceVersion } });
  await w.ended;
  assert.ok(w.events.every((e) => e.type === 'BOOKMARK'));

  const wl = await openWatch(t, s, '/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
  await wl.until('the initial-events-end bookmark', (ev) => ev.some((e) => e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true'));
  assert.deepEqual(
    wl.events.slice(0, 2).map((e) => e.type),
    ['ADDED', 'BOOKMARK'],
  );
  const bad = await call(s, 'GET', '/api/v1/pods?watch=true&sendInitialEvents=true');
  assert.equal(bad.code, 422);
});

test('a watch from a compacted resourceVersion gets an ERROR event with 410 Expired, then the stream ends', T, async (t) => {
  const s = await double(t, { historyLimit: 3 });
  const first = (await call(s, 'POST', PODS, pod('a'))).body.metadata.resourceVersion;
  const ok = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${first}`);
  assert.equal(ok.code, 200);
  ok.close();
  await call(s, 'POST', PODS, pod('a2'));
  s.compact();
  const w = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${first}`);
  assert.equal(w.code, 200);
  await w.ended;
  assert.equal(w.events.length, 1);
  assert.equal(w.events[0]!.type, 'ERROR');
  assert.deepEqual(w.events[0]!.object, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `too old resource version: ${first} (${s.resourceVersion})`,
    reason: 'Expired',
    code: 410,
  });
  // From the current resourceVersion a watch is fine, and a plain list never expires …
  const cur = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${s.resourceVersion}`);
  await call(s, 'POST', PODS, pod('b'));
  await cur.until('b', (ev) => ev.length === 1);
  assert.equal((await call(s, 'GET', `${PODS}?resourceVersion=${first}`)).code, 200);
  // … but an exact list of a compacted resourceVersion is 410 Expired.
  const exact = await call(s, 'GET', `${PODS}?resourceVersion=${first}&resourceVersionMatch=Exact`);
  assert.equal(exact.code, 410);
  assert.equal(exact.body.reason, 'Expired');
  // The history limit drops old changes the same way.
  for (const n of ['c', 'd', 'e', 'f']) await call(s, 'POST', PODS, pod(n));
  const trimmed = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${Number(s.resourceVersion) - 4}`);
  await trimmed.ended;
  assert.equal(trimmed.events[0]!.object.code, 410);
  // An exact list inside the history reads the past.
  const before = Number(s.resourceVersion) - 1;
  const past = await call(s, 'GET', `${PODS}?resourceVersion=${before}&resourceVersionMatch=Exact`);
  assert.equal(past.code, 200);
  assert.equal(past.body.metadata.resourceVersion, String(before));
  assert.ok(!past.body.items.some((p: any) => p.metadata.name === 'f'));
  assert.ok(past.body.items.some((p: any) => p.metadata.name === 'e'));
});

test('graceful deletion of a bound pod, then delete with grace 0; unbound pods go at once; finalizers hold', T, async (t) => {
  const s = await double(t);
  await call(s, 'POST', PODS, pod('web', 'node1'));
  const w = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${s.resourceVersion}`);
  const graceful = await call(s, 'DELETE', `${PODS}/web`);
  assert.equal(graceful.code, 200);
  assert.equal(graceful.body.kind, 'Pod');
  assert.equal(graceful.body.metadata.deletionGracePeriodSeconds, 30);
  const ts = Date.parse(graceful.body.metadata.deletionTimestamp);
  assert.ok(Math.abs(ts - (Date.now() + 30_000)) < 3_000, 'deletionTimestamp is now + grace');
  assert.equal(graceful.body.metadata.generation, 2, 'graceful deletion bumps the generation');
  assert.ok((await call(s, 'GET', `${PODS}/web`)).body.metadata.deletionTimestamp, 'the pod stays');
  // A longer grace period changes nothing; a shorter one shortens it.
  const longer = await call(s, 'DELETE', `${PODS}/web?gracePeriodSeconds=60`);
  assert.equal(longer.body.metadata.resourceVersion, graceful.body.metadata.resourceVersion);
  const shorter = await call(s, 'DELETE', `${PODS}/web`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 10 });
  assert.equal(shorter.body.metadata.deletionGracePeriodSeconds, 10);
  assert.ok(Date.parse(shorter.body.metadata.deletionTimestamp) < ts);
  // What the kubelet does once the containers are gone: delete with grace 0 and a UID precondition.
  const final = await call(s, 'DELETE', `${PODS}/web`, { gracePeriodSeconds: 0, preconditions: { uid: graceful.body.metadata.uid } });
  assert.equal(final.code, 200);
  assert.equal((await call(s, 'GET', `${PODS}/web`)).code, 404);
  await w.until('DELETED', (ev) => ev.some((e) => e.type === 'DELETED'));
  assert.deepEqual(
    w.events.map((e) => `${e.type} ${e.object.metadata.deletionGracePeriodSeconds}`),
    ['MODIFIED 30', 'MODIFIED 10', 'MODIFIED 0', 'DELETED 0'],
  );

  await call(s, 'POST', PODS, pod('unbound'));
  assert.equal((await call(s, 'DELETE', `${PODS}/unbound`)).code, 200);
  assert.equal((await call(s, 'GET', `${PODS}/unbound`)).code, 404, 'an unbound pod is deleted at once');

  await call(s, 'POST', PODS, { ...pod('held', 'node1'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  await call(s, 'DELETE', `${PODS}/held?gracePeriodSeconds=0`);
  const held = await call(s, 'GET', `${PODS}/held`);
  assert.equal(held.code, 200, 'a finalizer holds the pod');
  assert.equal(held.body.metadata.deletionGracePeriodSeconds, 0);
  await call(s, 'PATCH', `${PODS}/held`, { metadata: { finalizers: null } }, { contentType: 'application/merge-patch+json' });
  assert.equal((await call(s, 'GET', `${PODS}/held`)).code, 404, 'clearing the finalizers deletes it');

  // Nodes (no graceful deletion) answer a Success Status.
  await call(s, 'POST', '/api/v1/nodes', { metadata: { name: 'node1' } });
  const nodeDel = await call(s, 'DELETE', '/api/v1/nodes/node1');
  assert.equal(nodeDel.body.kind, 'Status');
  assert.equal(nodeDel.body.status, 'Success');
  assert.equal((await call(s, 'DELETE', '/api/v1/nodes/node1')).code, 404);
});

test('a delete whose UID precondition does not match is 409 Conflict', T, async (t) => {
  const s = await double(t);
  const created = (await call(s, 'POST', PODS, pod('web', 'node1'))).body;
  const r = await call(s, 'DELETE', `${PODS}/web`, { gracePeriodSeconds: 0, preconditions: { uid: 'stale-uid' } });
  assert.equal(r.code, 409);
  assert.equal(r.body.reason, 'Conflict');
  assert.equal(
    r.body.message,
    `Operation cannot be fulfilled on Pod "web": the UID in the precondition (stale-uid) does not match the UID in record (${created.metadata.uid}). The object might have been deleted and then recreated`,
  );
  assert.equal((await call(s, 'GET', `${PODS}/web`)).code, 200);
  const rv = await call(s, 'DELETE', `${PODS}/web`, { preconditions: { resourceVersion: '1' } });
  assert.equal(rv.code, 409);
});

test('deleting a Node deletes the mirror pods it owns (simplified garbage collector); Orphan keeps them', T, async (t) => {
  const s = await double(t);
  const node = (await call(s, 'POST', '/api/v1/nodes', { metadata: { name: 'node1' } })).body;
  const owner = [{ apiVersion: 'v1', kind: 'Node', name: 'node1', uid: node.metadata.uid, controller: true }];
  const mirror = {
    ...pod('static-web-node1', 'node1'),
    metadata: { name: 'static-web-node1', namespace: 'default', annotations: { 'kubernetes.io/config.mirror': 'abc' }, ownerReferences: owner },
  };
  const created = await call(s, 'POST', PODS, mirror);
  assert.equal(created.code, 201);
  assert.deepEqual(created.body.metadata.ownerReferences, owner);
  await call(s, 'POST', PODS, pod('other', 'node1'));
  await call(s, 'DELETE', '/api/v1/nodes/node1');
  assert.equal((await call(s, 'GET', `${PODS}/static-web-node1`)).code, 404);
  assert.equal((await call(s, 'GET', `${PODS}/other`)).code, 200, 'pods without the owner reference stay');

  const node2 = (await call(s, 'POST', '/api/v1/nodes', { metadata: { name: 'node2' } })).body;
  await call(s, 'POST', PODS, { ...mirror, metadata: { ...mirror.metadata, name: 'm2', ownerReferences: [{ ...owner[0], name: 'node2', uid: node2.metadata.uid }] } });
  await call(s, 'DELETE', '/api/v1/nodes/node2?propagationPolicy=Orphan');
  const orphan = await call(s, 'GET', `${PODS}/m2`);
  assert.equal(orphan.code, 200);
  assert.equal(orphan.body.metadata.ownerReferences, undefined);
});

test('stop() and start(): the same port and state, open watches closed; failNext injects errors', T, async (t) => {
  const s = await double(t);
  await call(s, 'POST', PODS, pod('web', 'node1'));
  const rv = s.resourceVersion;
  const w = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${rv}`);
  await waitFor('the watch to be open', () => s.openWatches === 1);
  await s.stop();
  await w.ended;
  await assert.rejects(call(s, 'GET', `${PODS}/web`), /ECONNREFUSED/);
  await s.start();
  assert.equal(new URL(s.url).port, String(s.port));
  const got = await call(s, 'GET', `${PODS}/web`);
  assert.equal(got.code, 200);
  assert.equal(s.resourceVersion, rv);
  // A watch resumes where it left off after the restart.
  const resumed = await openWatch(t, s, `${PODS}?watch=true&resourceVersion=${rv}`);
  await call(s, 'PATCH', `${PODS}/web`, { metadata: { labels: { after: 'restart' } } }, { contentType: 'application/merge-patch+json' });
  await resumed.until('the change after the restart', (ev) => ev.length === 1);

  s.failNext('PATCH', /\/nodes\/node1\/status/, 500, 2);
  s.failNext('get', /watch=true/, 429);
  await call(s, 'POST', '/api/v1/nodes', { metadata: { name: 'node1' } });
  const patch = () => call(s, 'PATCH', '/api/v1/nodes/node1/status', { status: { phase: 'Running' } }, { contentType: 'application/merge-patch+json' });
  const f1 = await patch();
  assert.equal(f1.code, 500);
  assert.equal(f1.body.kind, 'Status');
  assert.equal(f1.body.reason, 'InternalError');
  assert.equal((await patch()).code, 500);
  assert.equal((await patch()).code, 200, 'the third call passes');
  assert.equal((await call(s, 'GET', `${PODS}?watch=true`)).code, 429);
  const log = s.requests.filter((r) => r.path === '/api/v1/nodes/node1/status');
  assert.deepEqual(
    log.map((r) => r.code),
    [500, 500, 200],
  );
  assert.deepEqual(log[0]!.body, { status: { phase: 'Running' } });
  assert.equal(log[0]!.contentType, 'application/merge-patch+json');
});

test('with a token, requests without it (or with another) are 401 Unauthorized', T, async (t) => {
  const s = await double(t, { token: 'secret' });
  const none = await call(s, 'GET', '/api/v1/pods', undefined, { token: null });
  assert.equal(none.code, 401);
  assert.deepEqual(none.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  assert.equal((await call(s, 'GET', '/version', undefined, { token: 'wrong' })).code, 401);
  assert.equal((await call(s, 'GET', '/api/v1/pods', undefined, { token: 'secret' })).code, 200);
});

test('TLS with a kubeconfig: the real kubectl lists pods (-A) and nodes; @kubernetes/client-node lists, patches and informs', T, async (t) => {
  const s = await double(t, { tls: true, token: 'secret' });
  tokenOf.set(s, 'secret');
  assert.ok(s.url.startsWith('https://127.0.0.1:'));
  const dir = tempDir(t);
  const kubeconfig = path.join(dir, 'kubeconfig');
  s.writeKubeconfig(kubeconfig);
  s.put('pods', {
    metadata: { name: 'web-node1', namespace: 'default' },
    spec: { nodeName: 'node1', containers: [{ name: 'web', image: 'nginx:1.27' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 0, image: 'nginx:1.27', imageID: '', state: { running: {} } }] },
  });
  s.put('nodes', { metadata: { name: 'node1' }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' } } });

  const pods = await kubectl(kubeconfig, dir, ['get', 'pods', '-A']);
  assert.equal(pods.code, 0, pods.stderr);
  const rows = pods.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows[0], ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.deepEqual(rows[1]!.slice(0, 5), ['default', 'web-node1', '1/1', 'Running', '0']);
  const nodes = await kubectl(kubeconfig, dir, ['get', 'nodes']);
  assert.equal(nodes.code, 0, nodes.stderr);
  assert.match(nodes.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode1\s+Ready\s+<none>\s+\S+\s+v1\.32\.0\n$/);
  const deleted = await kubectl(kubeconfig, dir, ['delete', 'pod', 'web-node1', '--wait=false']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.ok(s.get('pods', 'default', 'web-node1')?.metadata.deletionTimestamp, 'kubectl delete is graceful for a bound pod');
  const wrong = path.join(dir, 'wrong');
  s.writeKubeconfig(wrong, { token: 'nope' });
  const refused = await kubectl(wrong, dir, ['get', 'pods']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Unauthorized|must be logged in/);

  // @kubernetes/client-node with the same kubeconfig (CA data and token).
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const listed = await core.listNamespacedPod({ namespace: 'default' });
  assert.deepEqual(
    listed.items.map((p) => p.metadata?.name),
    ['web-node1'],
  );
  const patched = await core.patchNamespacedPodStatus(
    { name: 'web-node1', namespace: 'default', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  assert.equal(patched.status?.conditions?.[0]?.type, 'Ready');
  const informer = k8s.makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node1' }));
  const seen: string[] = [];
  informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
  informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
  await informer.start();
  t.after(() => informer.stop());
  await waitFor('the informer to list', () => seen.includes('add web-node1'));
  await waitFor('the informer to watch', () => s.openWatches === 1);
  await core.createNamespacedPod({ namespace: 'default', body: pod('api-pod', 'node1') as k8s.V1Pod });
  await waitFor('the informer to see the new pod', () => seen.includes('add api-pod'));
  await core.deleteNamespacedPod({ namespace: 'default', name: 'api-pod', gracePeriodSeconds: 0 });
  await waitFor('the informer to see the deletion', () => seen.includes('delete api-pod'));
  const err = await core.readNamespacedPod({ namespace: 'default', name: 'api-pod' }).then(
    () => undefined,
    (e: unknown) => e as { code?: number },
  );
  assert.equal(err?.code, 404);
});
